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

std::string_view to_string(Reason reason) noexcept {
  switch (reason) {
    case Reason::timeout:
      return "timeout";
    case Reason::refused:
      return "refused";
    case Reason::auth:
      return "auth";
    case Reason::too_many_connections:
      return "too_many_connections";
    case Reason::shutdown:
      return "shutdown";
    case Reason::dns:
      return "dns";
    case Reason::tls:
      return "tls";
    case Reason::sqlstate:
      return "sqlstate";
    case Reason::other:
      return "other";
  }
  return "other";
}

std::string reason_label(Reason reason, std::string_view sqlstate) {
  if (reason == Reason::sqlstate) return "sqlstate_" + std::string(sqlstate.substr(0, 2));
  return std::string(to_string(reason));
}

std::string describe_reason(std::string_view label) {
  constexpr std::string_view kSqlstate = "sqlstate_";
  if (label.starts_with(kSqlstate)) {
    return "SQLSTATE class " + std::string(label.substr(kSqlstate.size()));
  }
  if (label.empty()) return "failed";
  for (Reason r : kReasons) {
    if (to_string(r) != label) continue;
    switch (r) {
      case Reason::timeout:
        return "timed out";
      case Reason::refused:
        return "connection refused";
      case Reason::auth:
        return "authentication failed";
      case Reason::too_many_connections:
        return "too many connections";
      case Reason::shutdown:
        return "server shut down or ended the session";
      case Reason::dns:
        return "host name does not resolve";
      case Reason::tls:
        return "TLS or certificate failure";
      case Reason::sqlstate:
      case Reason::other:
        break;
    }
  }
  return std::string(label);
}

Reason classify(std::string_view sqlstate, std::string_view message) {
  if (sqlstate == "53300") return Reason::too_many_connections;
  if (sqlstate == "28P01" || sqlstate == "28000") return Reason::auth;
  // Admin or crash shutdown, server starting up or shutting down.
  if (sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03") return Reason::shutdown;
  // Cancelled by statement_timeout or by our own cancel at the deadline.
  if (sqlstate == "57014") return Reason::timeout;
  // PgBouncer reports all of its own errors as 08P01 (protocol violation); its texts say
  // which of ours they are.
  if (sqlstate == "08P01") {
    if (contains(message, "authentication failed") || contains(message, "not allowed")) {
      return Reason::auth;
    }
    if (contains(message, "no more connections allowed")) return Reason::too_many_connections;
    if (contains(message, "query_wait_timeout") || contains(message, "client_login_timeout")) {
      return Reason::timeout;
    }
    if (contains(message, "server login has been failing")) return Reason::refused;
  }
  if (!sqlstate.empty()) return Reason::sqlstate;

  // No SQLSTATE: libpq's own, client-side messages (this process runs in the C locale).
  if (contains(message, "Connection refused") || contains(message, "No such file or directory")) {
    return Reason::refused;
  }
  if (contains(message, "password authentication failed") ||
      contains(message, "no password supplied") || contains(message, "fe_sendauth")) {
    return Reason::auth;
  }
  if (contains(message, "timeout expired") || contains(message, "timed out")) {
    return Reason::timeout;
  }
  if (contains(message, "could not translate host name")) return Reason::dns;
  if (contains(message, "SSL error") || contains(message, "certificate") ||
      contains(message, "does not match host name") || contains(message, "SSL SYSCALL")) {
    return Reason::tls;
  }
  if (contains(message, "server closed the connection unexpectedly") ||
      contains(message, "Connection reset by peer") || contains(message, "Broken pipe") ||
      contains(message, "no connection to the server") ||
      contains(message, "terminating connection")) {
    return Reason::shutdown;
  }
  return Reason::other;
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
