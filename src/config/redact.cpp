#include "config/redact.hpp"

#include <algorithm>
#include <cctype>

namespace pgv::config {
namespace {

struct Span {
  std::size_t begin;
  std::size_t end;
};

bool iequals_at(std::string_view text, std::size_t pos, std::string_view word) {
  if (pos + word.size() > text.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[pos + i])) != word[i]) return false;
  }
  return true;
}

bool is_space(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}
bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// Where a value ends. libpq ends a key=value value only at unescaped whitespace, so that
// is where we end it too (over-covering beats leaking); '&' also ends a value in a URI
// query. A quoted value runs to its closing quote and then on to the next separator.
std::size_t value_end(std::string_view text, std::size_t start, bool in_uri_query) {
  auto separator = [&](char c) { return is_space(c) || (in_uri_query && c == '&'); };
  std::size_t i = start;
  if (i < text.size() && (text[i] == '\'' || text[i] == '"')) {
    const char quote = text[i];
    ++i;
    while (i < text.size() && text[i] != quote) i += (text[i] == '\\') ? 2 : 1;
    i = std::min(text.size(), i + 1);
  }
  while (i < text.size() && !separator(text[i])) i += (text[i] == '\\' && !in_uri_query) ? 2 : 1;
  return std::min(i, text.size());
}

// The end of a value written as YAML/JSON `key: value`: the rest of the line (a plain
// YAML scalar may hold blanks), or a quoted value up to its closing quote.
std::size_t colon_value_end(std::string_view text, std::size_t start) {
  if (start < text.size() && (text[start] == '\'' || text[start] == '"')) {
    const char quote = text[start];
    std::size_t i = start + 1;
    while (i < text.size() && text[i] != quote) i += (text[i] == '\\') ? 2 : 1;
    return std::min(text.size(), i + 1);
  }
  // Already redacted (a later pass over `"password": ***, ...`): leave the rest alone.
  if (text.substr(start, kRedacted.size()) == kRedacted) {
    const std::size_t after = start + kRedacted.size();
    if (after == text.size() || is_space(text[after]) || text[after] == ',' || text[after] == '}' ||
        text[after] == ']') {
      return start;
    }
  }
  std::size_t i = start;
  while (i < text.size() && text[i] != '\n' && text[i] != '\r') ++i;
  return i;
}

// Values of password=..., sslpassword=... (URI query or key=value form) and of the same
// keys or bearer_token written `key: value` (YAML, JSON, a misquoted config file echoed
// in an error). A colon must be followed by a blank or a quote, so the user-info of
// `postgresql://password:x@host` is left to find_userinfo_passwords.
void find_pair_values(std::string_view text, std::vector<Span>& spans) {
  static constexpr std::string_view kKeys[] = {"password", "bearer_token"};
  for (std::size_t i = 0; i < text.size(); ++i) {
    std::string_view key;
    for (const std::string_view k : kKeys) {
      if (iequals_at(text, i, k)) key = k;
    }
    if (key.empty()) continue;
    const bool starts_word = i == 0 || !is_word_char(text[i - 1]) ||
                             (key == "password" && i >= 3 && iequals_at(text, i - 3, "ssl") &&
                              (i == 3 || !is_word_char(text[i - 4])));
    if (!starts_word) continue;
    std::size_t j = i + key.size();
    if (j < text.size() && (text[j] == '"' || text[j] == '\'')) ++j;  // "password": ...
    while (j < text.size() && text[j] == ' ') ++j;
    if (j >= text.size() || (text[j] != '=' && text[j] != ':')) continue;
    const bool colon = text[j] == ':';
    // `auth.basic.password: missing` is a key path in a message of ours, not a value.
    const bool ssl_prefixed = i >= 3 && iequals_at(text, i - 3, "ssl");
    const std::size_t key_start = ssl_prefixed ? i - 3 : i;
    if (colon && key_start > 0 && text[key_start - 1] == '.') continue;
    ++j;
    if (colon && j < text.size() && !is_space(text[j]) && text[j] != '"' && text[j] != '\'') {
      continue;
    }
    while (j < text.size() && (text[j] == ' ' || text[j] == '\t')) ++j;
    const bool in_uri_query = i > 0 && (text[i - 1] == '?' || text[i - 1] == '&' ||
                                        (i > 3 && (text[i - 4] == '?' || text[i - 4] == '&')));
    const std::size_t end = colon ? colon_value_end(text, j) : value_end(text, j, in_uri_query);
    if (end > j) spans.push_back({j, end});
    i = end == 0 ? i : end - 1;
  }
}

// The password of scheme://user:password@host. libpq looks for the user-info up to the
// first '/', so that is where the authority ends here (a '?' or blank before it may belong
// to the password); the user-info ends at its last '@', so a raw '@' is covered too.
void find_userinfo_passwords(std::string_view text, std::vector<Span>& spans) {
  std::size_t from = 0;
  while (true) {
    const std::size_t scheme_end = text.find("://", from);
    if (scheme_end == std::string_view::npos) return;
    const std::size_t auth_start = scheme_end + 3;
    std::size_t auth_end = auth_start;
    while (auth_end < text.size() && text[auth_end] != '/' && text[auth_end] != '\n') ++auth_end;
    const std::string_view authority = text.substr(auth_start, auth_end - auth_start);
    const std::size_t at = authority.rfind('@');
    if (at != std::string_view::npos) {
      const std::size_t colon = authority.substr(0, at).find(':');
      if (colon != std::string_view::npos) {
        spans.push_back({auth_start + colon + 1, auth_start + at});
      }
    }
    from = auth_end;
  }
}

std::vector<Span> secret_spans(std::string_view text) {
  std::vector<Span> spans;
  find_userinfo_passwords(text, spans);
  find_pair_values(text, spans);
  std::sort(spans.begin(), spans.end(),
            [](const Span& a, const Span& b) { return a.begin < b.begin; });
  std::vector<Span> merged;
  for (const Span& s : spans) {
    if (!merged.empty() && s.begin <= merged.back().end) {
      merged.back().end = std::max(merged.back().end, s.end);
    } else {
      merged.push_back(s);
    }
  }
  return merged;
}

void replace_all(std::string& text, std::string_view needle) {
  std::size_t pos = 0;
  while ((pos = text.find(needle, pos)) != std::string::npos) {
    text.replace(pos, needle.size(), kRedacted);
    pos += kRedacted.size();
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
        hex_value(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::string percent_encode(std::string_view text) {
  static constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

namespace {

std::string redact_once(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  for (const Span& s : secret_spans(text)) {
    out.append(text.substr(pos, s.begin - pos));
    out.append(kRedacted);
    pos = s.end;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace

std::string redact(std::string_view text) {
  // Shapes can overlap (a URI inside a quoted password=...), and a pass over what one pass
  // left may find another, so passes repeat until nothing changes, which also makes
  // redact idempotent. Text built to peel one layer per pass (found by the fuzzer) could
  // keep that going for long: past a bound, everything from the first secret on is hidden,
  // which over-covers but settles at once.
  std::string out = redact_once(text);
  for (int pass = 0; pass < 32; ++pass) {
    std::string again = redact_once(out);
    if (again == out) return out;
    out = std::move(again);
  }
  const std::vector<Span> spans = secret_spans(out);
  if (!spans.empty()) out = out.substr(0, spans.front().begin) + std::string(kRedacted);
  return out;
}

void Secrets::add(std::string_view secret) {
  if (secret.size() < kMinScrubLength) return;
  for (std::string candidate : {std::string(secret), percent_encode(secret)}) {
    if (std::find(values_.begin(), values_.end(), candidate) == values_.end()) {
      values_.push_back(std::move(candidate));
    }
  }
  // Longest first, so a secret that contains another is removed whole.
  std::sort(values_.begin(), values_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

void Secrets::add_from_dsn_text(std::string_view dsn) {
  for (const Span& s : secret_spans(dsn)) {
    std::string_view value = dsn.substr(s.begin, s.end - s.begin);
    if (value.size() >= 2 && (value.front() == '\'' || value.front() == '"') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
      std::string unescaped;
      for (std::size_t i = 0; i < value.size(); ++i) {
        if (value[i] == '\\' && i + 1 < value.size()) ++i;
        unescaped.push_back(value[i]);
      }
      add(unescaped);
    }
    add(value);
    add(percent_decode(value));
  }
}

void Secrets::merge(const Secrets& other) {
  for (const std::string& v : other.values_) add(v);
}

std::string Secrets::scrub(std::string_view text) const {
  std::string out(text);
  for (const std::string& v : values_) replace_all(out, v);
  return redact(out);
}

}  // namespace pgv::config
