#include "http/request.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace pgv::http {
namespace {

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding; `plus_is_space` for query strings (HTML forms), never for the path.
std::string decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (plus_is_space && s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

ParseResult bad(std::string why) {
  return {ParseStatus::bad_request, 0, std::move(why)};
}

void parse_query(std::string_view q, Request& out) {
  while (!q.empty()) {
    const std::size_t amp = q.find('&');
    const std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    out.query.emplace(decode(pair.substr(0, eq), true), eq == std::string_view::npos
                                                            ? std::string()
                                                            : decode(pair.substr(eq + 1), true));
  }
}

// "HTTP/1.1" and "HTTP/1.0" as they are; "HTTP/1.x" for a later minor version is answered
// as 1.1 (RFC 9110 2.5); empty for anything else.
std::string known_version(std::string_view v) {
  if (v.size() != 8 || !v.starts_with("HTTP/1.") || v[7] < '0' || v[7] > '9') return {};
  return v[7] == '0' ? "HTTP/1.0" : "HTTP/1.1";
}

// The origin-form path of an absolute-form target ("http://h:1/metrics?x" -> "/metrics?x",
// RFC 9112 3.2.2), the target itself when it is origin-form, empty when it is neither.
std::string_view origin_form(std::string_view target) {
  if (target.starts_with('/')) return target;
  const std::size_t colon = target.find("://");
  if (colon == std::string_view::npos) return {};
  const std::string scheme = lower(target.substr(0, colon));
  if (scheme != "http" && scheme != "https") return {};
  const std::string_view rest = target.substr(colon + 3);
  const std::size_t slash = rest.find_first_of("/?");
  if (slash == 0 || rest.empty()) return {};  // no authority
  if (slash == std::string_view::npos) return "/";
  if (rest[slash] == '?') return {};  // "http://h?x": a query needs a path before it
  return rest.substr(slash);
}

// A bare LF (not after CR) inside the head: refused at once rather than waiting for a
// CRLF CRLF terminator that such a client will never send.
bool has_bare_lf(std::string_view head) {
  for (std::size_t i = head.find('\n'); i != std::string_view::npos; i = head.find('\n', i + 1)) {
    if (i == 0 || head[i - 1] != '\r') return true;
  }
  return false;
}

}  // namespace

std::string Request::param(const std::string& name) const {
  auto it = query.find(name);
  return it == query.end() ? std::string() : it->second;
}

std::vector<std::string> Request::params(const std::string& name) const {
  std::vector<std::string> out;
  auto [a, b] = query.equal_range(name);
  for (; a != b; ++a) out.push_back(a->second);
  return out;
}

std::string Request::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

ParseResult parse_request_head(std::string_view buffer, std::size_t max_bytes, Request& out) {
  // Leading empty lines before a request are allowed (RFC 9112 2.2).
  std::size_t start = 0;
  while (start < buffer.size() && (buffer[start] == '\r' || buffer[start] == '\n')) ++start;
  const std::size_t end = buffer.find("\r\n\r\n", start);
  if (has_bare_lf(buffer.substr(start, end == std::string_view::npos ? end : end - start))) {
    return bad("bare LF in request head");
  }
  if (end == std::string_view::npos) {
    if (buffer.size() > max_bytes) return {ParseStatus::too_large, 0, "request head too large"};
    // A request line longer than the limit is refused as soon as it is seen.
    return {};
  }
  if (end + 4 > max_bytes) return {ParseStatus::too_large, 0, "request head too large"};
  const std::string_view head = buffer.substr(start, end - start);

  const std::size_t line_end = head.find("\r\n");
  const std::string_view line = head.substr(0, line_end);
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return bad("malformed request line");
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (method.empty() || !std::all_of(method.begin(), method.end(), is_token_char)) {
    return bad("malformed method");
  }
  out.version = known_version(version);
  if (out.version.empty()) return bad("unsupported HTTP version");
  for (char c : target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return bad("control character in target");
  }
  const std::string_view origin = origin_form(target);
  if (origin.empty()) return bad("request target must be an absolute path or URL");
  out.method = std::string(method);
  const std::size_t qmark = origin.find('?');
  const std::string_view raw_path = origin.substr(0, qmark);
  // An encoded slash would let a path segment hold a '/' (a "target" named "a/b"), and an
  // encoded NUL ends strings early: neither names anything served here.
  const std::string raw = lower(raw_path);
  if (raw.find("%2f") != std::string::npos || raw.find("%00") != std::string::npos) {
    return bad("encoded '/' or NUL in path");
  }
  out.path = decode(raw_path, false);
  if (qmark != std::string_view::npos) parse_query(origin.substr(qmark + 1), out);

  std::string_view rest =
      line_end == std::string_view::npos ? std::string_view{} : head.substr(line_end + 2);
  while (!rest.empty()) {
    const std::size_t eol = rest.find("\r\n");
    const std::string_view h = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 2);
    if (h.empty()) continue;
    if (h.front() == ' ' || h.front() == '\t') return bad("obsolete header folding");
    const std::size_t colon = h.find(':');
    if (colon == std::string_view::npos || colon == 0) return bad("malformed header");
    const std::string_view name = h.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), is_token_char)) return bad("malformed header name");
    const std::string_view value = trim(h.substr(colon + 1));
    // Bare CR, LF or NUL inside a value are how requests get smuggled: refuse them.
    for (char c : value) {
      if (c == '\r' || c == '\n' || c == '\0') return bad("control character in header value");
    }
    const std::string key = lower(name);
    auto [it, inserted] = out.headers.emplace(key, std::string(value));
    if (!inserted) {
      if (key == "host") return bad("more than one Host header");  // RFC 9112 3.2
      if (key == "content-length") {
        if (it->second != value) return bad("conflicting Content-Length");
      } else {
        it->second += ", " + std::string(value);  // repeated headers combine (RFC 9110 5.3)
      }
    }
  }

  if (out.version == "HTTP/1.1" && !out.headers.contains("host")) return bad("missing Host header");
  if (out.headers.contains("transfer-encoding")) return bad("request bodies are not accepted");
  if (auto it = out.headers.find("content-length"); it != out.headers.end()) {
    const std::string& v = it->second;
    const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out.content_length);
    if (ec != std::errc() || p != v.data() + v.size()) return bad("malformed Content-Length");
  }
  // Connection is a comma-separated list of options (RFC 9110 7.6.1).
  bool close = false;
  bool keep = false;
  const std::string connection = out.header("connection");
  std::string_view options = connection;
  while (!options.empty()) {
    const std::size_t comma = options.find(',');
    const std::string option = lower(trim(options.substr(0, comma)));
    options = comma == std::string_view::npos ? std::string_view{} : options.substr(comma + 1);
    close = close || option == "close";
    keep = keep || option == "keep-alive";
  }
  out.keep_alive = !close && (out.version == "HTTP/1.1" || keep);
  return {ParseStatus::complete, end + 4, {}};
}

}  // namespace pgv::http
