#include "config/dsn.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "config/error.hpp"

namespace pgv::config {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// asyncpg spells libpq's sslmode as ssl=, with booleans for the common cases.
std::string translate_ssl_value(std::string_view value) {
  const std::string v = lower(value);
  if (v == "true" || v == "1" || v == "on") return "require";
  if (v == "false" || v == "0" || v == "off") return "disable";
  static constexpr std::array<std::string_view, 6> kModes = {"disable", "allow",     "prefer",
                                                             "require", "verify-ca", "verify-full"};
  if (std::find(kModes.begin(), kModes.end(), v) != kModes.end()) return v;
  throw ConfigError("dsn: query parameter ssl=" + std::string(value) +
                    " is not understood; allowed: true, false, disable, allow, prefer, require, "
                    "verify-ca, verify-full (or use libpq's sslmode=)");
}

std::string rewrite_query(std::string_view query) {
  std::string out;
  std::size_t pos = 0;
  while (pos <= query.size()) {
    std::size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    const std::string_view param = query.substr(pos, amp - pos);
    if (!param.empty()) {
      if (!out.empty()) out.push_back('&');
      const std::size_t eq = param.find('=');
      const std::string_view key = param.substr(0, eq);
      if (lower(key) == "ssl" && eq != std::string_view::npos) {
        out += "sslmode=" + translate_ssl_value(param.substr(eq + 1));
      } else {
        out.append(param);
      }
    }
    pos = amp + 1;
  }
  return out;
}

std::string normalize_uri(std::string_view text, std::size_t scheme_end) {
  const std::string scheme = lower(text.substr(0, scheme_end));
  const std::string base = scheme.substr(0, scheme.find('+'));
  if (base != "postgresql" && base != "postgres") {
    throw ConfigError("dsn: scheme '" + std::string(text.substr(0, scheme_end)) +
                      "' is not a PostgreSQL URL; allowed: postgresql://, postgres://, "
                      "postgresql+<driver>:// (e.g. postgresql+asyncpg://) or key=value pairs");
  }
  std::string out = "postgresql://";
  std::string_view rest = text.substr(scheme_end + 3);
  const std::size_t q = rest.find('?');
  if (q == std::string_view::npos) return out.append(rest);
  out.append(rest.substr(0, q));
  const std::string query = rewrite_query(rest.substr(q + 1));
  if (!query.empty()) out += "?" + query;
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

Dsn parse_dsn(std::string_view text) {
  Dsn dsn;
  dsn.secrets.add_from_dsn_text(text);
  const std::string_view trimmed = trim(text);
  if (trimmed.empty()) {
    throw ConfigError(
        "dsn: empty; expected a URL such as postgresql://user@host:5432/db or "
        "key=value pairs such as 'host=... dbname=...'");
  }
  const std::size_t scheme_end = trimmed.find("://");
  const bool looks_like_uri =
      scheme_end != std::string_view::npos &&
      std::all_of(trimmed.begin(), trimmed.begin() + static_cast<std::ptrdiff_t>(scheme_end),
                  [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '+'; });
  try {
    dsn.conninfo = looks_like_uri ? normalize_uri(trimmed, scheme_end) : std::string(trimmed);
  } catch (const ConfigError& e) {
    throw ConfigError(dsn.secrets.scrub(e.what()));
  }
  dsn.redacted = dsn.secrets.scrub(dsn.conninfo);
  return dsn;
}

}  // namespace pgv::config
