#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pgv::config {

// How far behind a standby may be: WAL bytes ("16MB") or time ("10s"), Patroni's `lag=`
// forms. Empty: no limit.
struct LagLimit {
  std::optional<double> bytes;
  std::optional<double> seconds;
  bool set() const noexcept { return bytes || seconds; }
  // "16MB", "10s": what the user wrote, normalised (for /readyz?verbose and check).
  std::string describe() const;
};

// Parses "16MB", "512kB", "1GB", "1TB", "1048576" (plain bytes, as Patroni takes) or a
// duration ("10s", "500ms", "2m"). Units are PostgreSQL's: kB, MB, GB, TB are powers of
// 1024. Throws ConfigError naming `key`, the value and the accepted forms.
LagLimit parse_lag_limit(std::string_view key, std::string_view text);

}  // namespace pgv::config
