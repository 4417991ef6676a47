#include "config/duration.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>

#include "config/values.hpp"

namespace pgv::config {
namespace {

struct Unit {
  std::string_view suffix;
  std::int64_t ms;
};
constexpr std::array<Unit, 4> kUnits = {{{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}}};

// Far beyond any sensible setting, and far enough from the clock's limits that adding
// it to steady_clock::now() cannot overflow.
constexpr std::int64_t kMaxMillis = 100LL * 365 * 24 * 3'600'000;
// Even 0.0000001h (0.36 ms) is not whole; more fraction digits can never be.
constexpr std::size_t kMaxFractionDigits = 9;
constexpr std::string_view kAllowed =
    "<number><unit> with unit ms, s, m or h, e.g. 500ms, 2s, 1.5s, 30m, 1h";

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

std::int64_t pow10(std::size_t n) {
  std::int64_t p = 1;
  while (n-- > 0) p *= 10;
  return p;
}

}  // namespace

Millis parse_duration(std::string_view key, std::string_view text, Millis min) {
  const std::string_view t = detail::trim(text);
  const std::string got = detail::show_value(text);
  if (t.empty()) detail::fail(key, "empty duration", got, kAllowed);
  if (t.front() == '-') detail::fail(key, "negative duration", got, kAllowed);

  std::size_t split = 0;
  while (split < t.size() && (is_digit(t[split]) || t[split] == '.')) ++split;
  const std::string_view number = t.substr(0, split);
  const std::string_view suffix = t.substr(split);
  if (number.empty()) detail::fail(key, "not a duration", got, kAllowed);
  if (suffix.empty()) {
    detail::fail(key, "missing unit (a bare number is never guessed)", got, kAllowed);
  }
  const Unit* unit = nullptr;
  for (const auto& u : kUnits) {
    if (suffix == u.suffix) unit = &u;
  }
  if (unit == nullptr) {
    const bool too_fine = suffix == "us" || suffix == "ns" || suffix == "\xc2\xb5s";
    detail::fail(key, too_fine ? "below millisecond resolution" : "unknown unit", got, kAllowed);
  }

  const std::size_t dot = number.find('.');
  std::string_view whole = number.substr(0, dot);
  std::string_view fraction = dot == std::string_view::npos ? "" : number.substr(dot + 1);
  if (whole.empty() || (dot != std::string_view::npos && fraction.empty()) ||
      fraction.find('.') != std::string_view::npos) {
    detail::fail(key, "not a number", got, kAllowed);
  }
  while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
  if (fraction.size() > kMaxFractionDigits) {
    detail::fail(key, "not a whole number of milliseconds", got, kAllowed);
  }

  std::int64_t whole_value = 0;
  const auto whole_parse = std::from_chars(whole.data(), whole.data() + whole.size(), whole_value);
  if (whole_parse.ec != std::errc{} || whole_value > kMaxMillis / unit->ms) {
    detail::fail(key, "too large", got, "at most 876000h (100 years)");
  }
  std::int64_t fraction_value = 0;
  std::from_chars(fraction.data(), fraction.data() + fraction.size(), fraction_value);
  const std::int64_t scale = pow10(fraction.size());
  const std::int64_t fraction_ms = fraction_value * unit->ms;  // < 1e9 * 3.6e6: no overflow
  if (fraction_ms % scale != 0) {
    detail::fail(key, "not a whole number of milliseconds", got, kAllowed);
  }
  const std::int64_t total = whole_value * unit->ms + fraction_ms / scale;
  if (total > kMaxMillis) detail::fail(key, "too large", got, "at most 876000h (100 years)");
  if (total == 0) detail::fail(key, "zero duration", got, "a duration > 0, e.g. 500ms, 2s");
  if (Millis{total} < min) {
    detail::fail(key, "too short", got, "a duration >= " + format_duration(min));
  }
  return Millis{total};
}

std::string format_duration(Millis d) {
  const std::int64_t count = d.count();
  if (count == 0) return "0s";
  // Unsigned so that the most negative value has a magnitude too.
  const std::uint64_t magnitude =
      count < 0 ? 0 - static_cast<std::uint64_t>(count) : static_cast<std::uint64_t>(count);
  std::string best;
  bool best_has_dot = false;
  for (const auto& unit : kUnits) {
    const auto unit_ms = static_cast<std::uint64_t>(unit.ms);
    std::string text = std::to_string(magnitude / unit_ms);
    std::uint64_t rest = magnitude % unit_ms;
    if (rest != 0) {
      text += '.';
      for (std::size_t i = 0; i < kMaxFractionDigits && rest != 0; ++i) {
        rest *= 10;
        text += static_cast<char>('0' + rest / unit_ms);
        rest %= unit_ms;
      }
    }
    if (rest != 0) continue;  // not exact in this unit
    text += unit.suffix;
    const bool has_dot = text.find('.') != std::string::npos;
    // Shortest wins; on a tie an integral spelling beats a decimal one.
    if (best.empty() || text.size() < best.size() ||
        (text.size() == best.size() && best_has_dot && !has_dot)) {
      best = text;
      best_has_dot = has_dot;
    }
  }
  return count < 0 ? "-" + best : best;
}

}  // namespace pgv::config
