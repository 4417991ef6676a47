#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/agent_config.hpp"

// Value parsers and checks shared by the YAML reader, the environment and the flags, so
// one setting is checked the same way and worded the same way whatever its source.
namespace pgv::config::detail {

// Throws ConfigError shaped `config: <key>: <problem>: got <got>; allowed: <allowed>`;
// `where` (a file position) is appended when known. Empty parts are left out.
[[noreturn]] void fail(std::string_view key, std::string_view problem, std::string_view got,
                       std::string_view allowed, std::string_view where = {});

// A user value made safe and short for a message: redacted, control characters escaped,
// long values cut, in single quotes.
std::string show_value(std::string_view value);

std::string join(const std::vector<std::string>& items, std::string_view sep = ", ");
std::string_view trim(std::string_view s);

std::int64_t parse_int(std::string_view key, std::string_view text, std::int64_t min,
                       std::int64_t max);
// true/false, 1/0, yes/no, on/off, any case.
bool parse_bool(std::string_view key, std::string_view text);
// HOST:PORT, [IPv6]:PORT, or :PORT for every interface.
ListenConfig parse_listen(std::string_view key, std::string_view text);
// SQLAlchemy apps give pool timeouts as a bare number of seconds; a duration also works.
Millis parse_seconds_or_duration(std::string_view key, std::string_view text);
std::string parse_choice(std::string_view key, std::string_view text,
                         const std::vector<std::string>& allowed);

// A regular file we may read; its whole content, or nothing when it cannot be read.
bool readable_file(const std::string& path);
std::optional<std::string> read_text_file(const std::string& path);

// parse_dsn with the key path in front of its (already redacted) message.
Dsn parse_dsn_at(std::string_view key, std::string_view text);

void check_target_name(std::string_view key, std::string_view name);
void check_label_name(std::string_view key, std::string_view name);
// Names are checked one by one (key[i]), against the probes of `kind`; the list as a whole
// under `key`.
void check_probes(std::string_view key, const std::vector<std::string>& probes,
                  TargetKind kind = TargetKind::postgres);

inline const std::vector<std::string> kLogFormats = {"text", "json"};
inline const std::vector<std::string> kLogLevels = {"trace", "debug", "info",
                                                    "warn",  "error", "off"};
// Scrubs a configuration error of every secret but keeps its "config: " prefix whole: a
// short secret that happens to spell part of the prefix must not garble it.
inline std::string scrub_message(const Secrets& secrets, std::string_view message) {
  constexpr std::string_view kPrefix = "config: ";
  if (!message.starts_with(kPrefix)) return secrets.scrub(message);
  return std::string(kPrefix) + secrets.scrub(message.substr(kPrefix.size()));
}

// Short intervals serve soak tests and labs; below 10 ms cycles would run back to back.
inline constexpr Millis kMinInterval{10};

}  // namespace pgv::config::detail
