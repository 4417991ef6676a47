#include "config/lag_limit.hpp"

#include <charconv>
#include <cmath>
#include <sstream>

#include "config/duration.hpp"
#include "config/error.hpp"
#include "config/values.hpp"

namespace pgv::config {
namespace {

constexpr const char* kAllowed =
    "a WAL size such as 16MB, 512kB, 1GB or 1048576 (bytes), or a duration such as 10s";

struct SizeUnit {
  std::string_view suffix;
  double bytes;
};
constexpr SizeUnit kSizes[] = {{"", 1},
                               {"B", 1},
                               {"kB", 1024.0},
                               {"MB", 1024.0 * 1024},
                               {"GB", 1024.0 * 1024 * 1024},
                               {"TB", 1024.0 * 1024 * 1024 * 1024}};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

std::string LagLimit::describe() const {
  std::ostringstream out;
  if (bytes) out << static_cast<long long>(*bytes) << " bytes";
  if (seconds) out << (bytes ? " or " : "") << *seconds << "s";
  return out.str();
}

LagLimit parse_lag_limit(std::string_view key, std::string_view text) {
  const std::string_view t = detail::trim(text);
  const std::string got = detail::show_value(text);
  if (t.empty()) detail::fail(key, "empty lag limit", got, kAllowed);
  if (t.front() == '-') detail::fail(key, "negative lag limit", got, kAllowed);
  std::size_t split = 0;
  while (split < t.size() && (is_digit(t[split]) || t[split] == '.')) ++split;
  const std::string_view number = t.substr(0, split);
  const std::string_view suffix = t.substr(split);
  if (number.empty()) detail::fail(key, "not a lag limit", got, kAllowed);
  for (const SizeUnit& unit : kSizes) {
    if (suffix != unit.suffix) continue;
    double value = 0;
    const auto parsed = std::from_chars(number.data(), number.data() + number.size(), value);
    if (parsed.ec != std::errc{} || parsed.ptr != number.data() + number.size() ||
        !std::isfinite(value)) {
      detail::fail(key, "not a number", got, kAllowed);
    }
    LagLimit limit;
    limit.bytes = value * unit.bytes;
    return limit;
  }
  LagLimit limit;
  try {
    limit.seconds = std::chrono::duration<double>(parse_duration(key, t)).count();
  } catch (const ConfigError&) {
    detail::fail(key, "unknown unit", got, kAllowed);
  }
  return limit;
}

}  // namespace pgv::config
