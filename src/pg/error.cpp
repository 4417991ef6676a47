#include "pg/error.hpp"

#include <array>
#include <cctype>

namespace pgv::pg {
namespace {

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

bool is_sqlstate(std::string_view s) {
  if (s.size() != 5) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c)) &&
        !std::isupper(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string_view to_string(Phase phase) noexcept {
  switch (phase) {
    case Phase::connect:
      return "connect";
    case Phase::pre_ping:
      return "pre_ping";
    case Phase::acquire:
      return "acquire";
    case Phase::query:
      return "query";
    case Phase::dns:
      return "dns";
  }
  return "query";
}

std::string classify(std::string_view sqlstate, std::string_view message) {
  if (sqlstate == "53300") return "too_many_connections";
  if (sqlstate == "28P01" || sqlstate == "28000") return "auth";
  // Admin or crash shutdown, server starting up or shutting down.
  if (sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03") return "shutdown";
  // Cancelled by statement_timeout or by our own cancel at the deadline.
  if (sqlstate == "57014") return "timeout";
  if (!sqlstate.empty()) return "sqlstate_" + std::string(sqlstate.substr(0, 2));

  // No SQLSTATE: libpq's own, client-side messages (this process runs in the C locale).
  if (contains(message, "Connection refused") || contains(message, "No such file or directory")) {
    return "refused";
  }
  if (contains(message, "password authentication failed") ||
      contains(message, "no password supplied") || contains(message, "fe_sendauth")) {
    return "auth";
  }
  if (contains(message, "timeout expired") || contains(message, "timed out")) return "timeout";
  if (contains(message, "could not translate host name")) return "dns";
  if (contains(message, "SSL error") || contains(message, "certificate") ||
      contains(message, "does not match host name") || contains(message, "SSL SYSCALL")) {
    return "tls";
  }
  if (contains(message, "server closed the connection unexpectedly") ||
      contains(message, "Connection reset by peer") || contains(message, "Broken pipe") ||
      contains(message, "no connection to the server") ||
      contains(message, "terminating connection")) {
    return "shutdown";
  }
  return "other";
}

std::string to_valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = 0;
    if (c < 0x80) {
      len = 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
    }
    bool ok = len > 0 && i + len <= text.size();
    for (std::size_t k = 1; ok && k < len; ++k) {
      ok = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
    }
    if (ok) {
      out.append(text.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

ParsedMessage parse_verbose_message(std::string_view message) {
  ParsedMessage out;
  static constexpr std::array<std::string_view, 4> kSeverities = {
      "FATAL:  ", "ERROR:  ", "PANIC:  ", "WARNING:  "};
  std::size_t pos = 0;
  while (pos < message.size()) {
    std::size_t eol = message.find('\n', pos);
    if (eol == std::string_view::npos) eol = message.size();
    std::string_view line = message.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.starts_with("LOCATION:  ")) continue;
    std::string cleaned(line);
    for (std::string_view sev : kSeverities) {
      const std::size_t at = cleaned.find(sev);
      if (at == std::string::npos) continue;
      const std::size_t code_at = at + sev.size();
      const std::string_view code = std::string_view(cleaned).substr(code_at, 5);
      if (is_sqlstate(code) && cleaned.compare(code_at + 5, 2, ": ") == 0) {
        if (out.sqlstate.empty()) out.sqlstate = std::string(code);
        cleaned.erase(code_at, 7);
      }
      break;
    }
    // libpq indents hints with a tab; one line per fact reads better in logs.
    while (!cleaned.empty() && (cleaned.back() == '\r' || cleaned.back() == ' '))
      cleaned.pop_back();
    std::size_t start = 0;
    while (start < cleaned.size() && (cleaned[start] == '\t' || cleaned[start] == ' ')) ++start;
    if (start == cleaned.size()) continue;
    if (!out.text.empty()) out.text += ' ';
    out.text += cleaned.substr(start);
  }
  out.text = to_valid_utf8(out.text);
  return out;
}

}  // namespace pgv::pg
