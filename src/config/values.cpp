#include "config/values.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/error.hpp"
#include "config/redact.hpp"

namespace pgv::config::detail {
namespace {

constexpr std::size_t kMaxShownValue = 120;
constexpr std::size_t kMaxTargetName = 63;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool all_of(std::string_view s, bool (*pred)(char)) {
  return std::all_of(s.begin(), s.end(), pred);
}

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}
bool is_label_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

void fail(std::string_view key, std::string_view problem, std::string_view got,
          std::string_view allowed, std::string_view where) {
  std::string msg = "config: ";
  msg.append(key).append(": ").append(problem);
  if (!got.empty()) msg.append(": got ").append(got);
  if (!allowed.empty()) msg.append("; allowed: ").append(allowed);
  if (!where.empty()) msg.append(" (").append(where).append(")");
  throw ConfigError(msg);
}

std::string show_value(std::string_view value) {
  const std::string safe = redact(value);
  std::string out = "'";
  for (const char c : safe) {
    if (out.size() > kMaxShownValue) {
      out += "...";
      break;
    }
    if (std::iscntrl(static_cast<unsigned char>(c))) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x",
                    static_cast<unsigned>(static_cast<unsigned char>(c)));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out.append(sep);
    out += item;
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::int64_t parse_int(std::string_view key, std::string_view text, std::int64_t min,
                       std::int64_t max) {
  const std::string allowed =
      max == INT64_MAX ? "an integer >= " + std::to_string(min)
                       : "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  const std::string_view t = trim(text);
  std::int64_t value = 0;
  const char* end = t.data() + t.size();
  const auto [ptr, ec] = std::from_chars(t.data(), end, value);
  if (t.empty() || ec == std::errc::invalid_argument || ptr != end) {
    fail(key, "not an integer", show_value(text), allowed);
  }
  if (ec == std::errc::result_out_of_range || value < min || value > max) {
    fail(key, "out of range", show_value(text), allowed);
  }
  return value;
}

bool parse_bool(std::string_view key, std::string_view text) {
  const std::string v = lower(trim(text));
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  fail(key, "not a boolean", show_value(text), "true, false, 1, 0, yes, no, on, off");
}

ListenConfig parse_listen(std::string_view key, std::string_view text) {
  constexpr std::string_view kAllowed =
      "HOST:PORT with a port from 1 to 65535, [IPv6]:PORT or :PORT (all interfaces)";
  std::string_view host;
  std::string_view port;
  if (text.starts_with('[')) {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close == 1 || text.substr(close + 1, 1) != ":") {
      fail(key, "not a listen address", show_value(text), kAllowed);
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) fail(key, "missing port", show_value(text), kAllowed);
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    // An unbracketed IPv6 address cannot be told apart from its port.
    if (host.find(':') != std::string_view::npos) {
      fail(key, "IPv6 address without brackets", show_value(text), kAllowed);
    }
  }
  if (host.find_first_of(" \t/") != std::string_view::npos) {
    fail(key, "not a listen address", show_value(text), kAllowed);
  }
  constexpr std::size_t kMaxPortDigits = 5;
  if (port.empty() || port.size() > kMaxPortDigits || !all_of(port, is_digit)) {
    fail(key, "bad port", show_value(text), kAllowed);
  }
  ListenConfig out;
  if (!host.empty()) out.host = std::string(host);
  out.port = std::stoi(std::string(port));
  if (out.port < 1 || out.port > 65535) fail(key, "port out of range", show_value(text), kAllowed);
  return out;
}

Millis parse_seconds_or_duration(std::string_view key, std::string_view text) {
  const std::string_view t = trim(text);
  const bool bare_number = !t.empty() && is_digit(t.back());
  try {
    return parse_duration(key, bare_number ? std::string(t) + "s" : std::string(t));
  } catch (const ConfigError&) {
    // Rethrown so the message shows the value as given, not with the unit we appended.
    fail(key, "not a positive number of seconds or a duration", show_value(text),
         "seconds (30, 2.5) or a duration (500ms, 30s, 30m, 1h)");
  }
}

std::string parse_choice(std::string_view key, std::string_view text,
                         const std::vector<std::string>& allowed) {
  const std::string v = lower(trim(text));
  if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
    fail(key, "unknown value", show_value(text), join(allowed));
  }
  return v;
}

bool readable_file(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec) && ::access(path.c_str(), R_OK) == 0;
}

std::optional<std::string> read_text_file(const std::string& path) {
  if (!readable_file(path)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  if (!in) return std::nullopt;
  return content.str();
}

Dsn parse_dsn_at(std::string_view key, std::string_view text) {
  try {
    Dsn dsn = parse_dsn(text);
    dsn.key = std::string(key);
    return dsn;
  } catch (const ConfigError& e) {
    std::string_view problem = e.what();
    if (problem.starts_with("dsn: ")) problem.remove_prefix(5);
    fail(key, problem, "", "");
  }
}

void check_target_name(std::string_view key, std::string_view name) {
  const std::string allowed = "1 to " + std::to_string(kMaxTargetName) +
                              " characters from A-Z a-z 0-9 _ . - (used in URL paths)";
  if (name.empty()) fail(key, "empty target name", show_value(name), allowed);
  if (name.size() > kMaxTargetName) fail(key, "target name too long", show_value(name), allowed);
  if (!all_of(name, is_name_char)) fail(key, "bad target name", show_value(name), allowed);
  // "." and ".." would be read as path segments in /healthz/<target>.
  if (name == "." || name == "..") fail(key, "bad target name", show_value(name), allowed);
}

void check_label_name(std::string_view key, std::string_view name) {
  constexpr std::string_view kAllowed =
      "Prometheus label names ([a-zA-Z_][a-zA-Z0-9_]*), not starting with __, not 'target', "
      "'required' or 'via'";
  const bool shape_ok = !name.empty() && !is_digit(name.front()) && all_of(name, is_label_char);
  if (!shape_ok) fail(key, "bad label name", show_value(name), kAllowed);
  if (name.starts_with("__")) fail(key, "reserved label name", show_value(name), kAllowed);
  // Every per-target series already carries target="<name>".
  if (name == "target") fail(key, "reserved label name", show_value(name), kAllowed);
  // pgvitals_target_info carries the target's `required` flag and `via` under these names.
  if (name == "required" || name == "via") {
    fail(key, "reserved label name", show_value(name), kAllowed);
  }
}

void check_probes(std::string_view key, const std::vector<std::string>& probes, TargetKind kind) {
  const std::vector<std::string> known = default_probes(kind);
  for (std::size_t i = 0; i < probes.size(); ++i) {
    const std::string item_key = std::string(key) + "[" + std::to_string(i) + "]";
    const ProbeSpec* spec = find_probe(probes[i]);
    if (spec == nullptr) fail(item_key, "unknown probe", show_value(probes[i]), join(known));
    if (!spec->applies_to(kind)) {
      fail(item_key, "probe does not apply to a kind: " + std::string(to_string(kind)) + " target",
           show_value(probes[i]), join(known));
    }
    if (std::find(probes.begin(), probes.begin() + static_cast<std::ptrdiff_t>(i), probes[i]) !=
        probes.begin() + static_cast<std::ptrdiff_t>(i)) {
      fail(item_key, "duplicate probe", show_value(probes[i]), "each probe at most once");
    }
  }
  // Health endpoints are built on the up/down probe; without it a target could never be
  // healthy.
  const std::string up(up_probe().name);
  if (std::find(probes.begin(), probes.end(), up) == probes.end()) {
    fail(key, up + " probe missing", show_value(join(probes)),
         "a list containing " + up + ", from: " + join(known));
  }
}

}  // namespace pgv::config::detail
