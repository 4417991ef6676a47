#include "config/incidents.hpp"

#include "config/error.hpp"
#include "config/incidents_yaml.hpp"
#include "config/lag_limit.hpp"
#include "config/values.hpp"

namespace pgv::config {

std::uint64_t parse_size(std::string_view key, std::string_view text) {
  const std::string got = detail::show_value(text);
  constexpr const char* kAllowed = "a size such as 64MB, 512kB, 1GB or 1048576 (bytes)";
  LagLimit limit;
  try {
    limit = parse_lag_limit(key, text);
  } catch (const ConfigError&) {
    detail::fail(key, "not a size", got, kAllowed);
  }
  if (!limit.bytes) detail::fail(key, "not a size", got, kAllowed);
  return static_cast<std::uint64_t>(*limit.bytes);
}

namespace detail {

IncidentsConfig read_incidents(const Section& s) {
  const YamlReader& r = s.reader();
  IncidentsConfig c;
  s.read("dir", c.dir);
  s.read_int("keep", c.keep, 1, 100'000);
  if (s.has("max_bytes")) {
    const std::string key = s.key("max_bytes");
    const std::string text = r.text(s.get("max_bytes"), key);
    try {
      c.max_bytes = parse_size(key, text);
    } catch (const ConfigError& e) {
      throw ConfigError(std::string(e.what()) + " (" + r.where(s.get("max_bytes")) + ")");
    }
    if (c.max_bytes < 4096) {
      r.fail(s.get("max_bytes"), key, "too small", show_value(text), "at least 4kB");
    }
  }
  s.read("before", c.before);
  s.read("after", c.after, Millis{0});
  if (s.has("saturation")) {
    const std::string key = s.key("saturation");
    const std::string text = r.text(s.get("saturation"), key);
    double v = -1;
    try {
      v = std::stod(text);
    } catch (const std::exception&) {
    }
    if (!(v > 0 && v <= 1)) {
      r.fail(s.get("saturation"), key, "not a ratio", show_value(text),
             "a number above 0 and at most 1, such as 0.9");
    }
    c.saturation = v;
  }
  s.read_int("blocked_sessions", c.blocked_sessions, 0, 1'000'000);
  s.read("oldest_transaction", c.oldest_transaction, Millis{0});
  return c;
}

}  // namespace detail
}  // namespace pgv::config
