#include "http/request.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "http/response.hpp"

using pgv::http::parse_request_head;
using pgv::http::ParseResult;
using pgv::http::ParseStatus;
using pgv::http::Request;
using pgv::http::Response;
using pgv::http::serialize;

namespace {

constexpr std::size_t kLimit = 8192;  // the agent's default http.max_request_bytes

struct Parsed {
  ParseResult result;
  Request request;
};

Parsed parse(std::string_view buffer, std::size_t limit = kLimit) {
  Parsed p;
  p.result = parse_request_head(buffer, limit, p.request);
  return p;
}

ParseStatus status_of(std::string_view buffer, std::size_t limit = kLimit) {
  return parse(buffer, limit).result.status;
}

// A request head with the given request line and header lines; an HTTP/1.1 head gets the
// Host header it must carry, unless `headers` has one or `with_host` is false.
std::string head(const std::string& request_line, const std::vector<std::string>& headers = {},
                 bool with_host = true) {
  std::string out = request_line + "\r\n";
  bool has_host = false;
  for (const auto& h : headers) {
    out += h + "\r\n";
    has_host = has_host || h.starts_with("Host:") || h.starts_with("host:");
  }
  if (with_host && !has_host && request_line.ends_with(" HTTP/1.1")) out += "Host: h\r\n";
  return out + "\r\n";
}

}  // namespace

TEST_CASE("a complete GET head is parsed and consumed exactly", "[http][request]") {
  const std::string buf = head("GET /healthz HTTP/1.1", {"Host: 127.0.0.1", "Accept: */*"});
  const Parsed p = parse(buf);
  REQUIRE(p.result.status == ParseStatus::complete);
  CHECK(p.result.consumed == buf.size());
  CHECK(p.request.method == "GET");
  CHECK(p.request.path == "/healthz");
  CHECK(p.request.version == "HTTP/1.1");
  CHECK(p.request.query.empty());
  CHECK(p.request.content_length == 0);
  CHECK(p.request.keep_alive);
  CHECK(p.request.header("host") == "127.0.0.1");
  CHECK(p.request.header("accept") == "*/*");
  CHECK(p.request.header("absent").empty());
}

TEST_CASE("every proper prefix of a head is incomplete, never an error", "[http][request]") {
  const std::string buf = head("GET /metrics?x=1 HTTP/1.1", {"Host: h", "Connection: close"});
  for (std::size_t n = 0; n < buf.size(); ++n) {
    INFO("prefix of " << n << " bytes");
    CHECK(status_of(std::string_view(buf).substr(0, n)) == ParseStatus::incomplete);
  }
  CHECK(status_of(buf) == ParseStatus::complete);
}

TEST_CASE("pipelined heads are parsed one at a time from the consumed offset", "[http][request]") {
  const std::string first = head("GET /livez HTTP/1.1", {"Host: a"});
  const std::string second = head("HEAD /readyz?verbose HTTP/1.1", {"Host: b"});
  const std::string third_partial = "GET /metr";
  const std::string buf = first + second + third_partial;

  const Parsed a = parse(buf);
  REQUIRE(a.result.status == ParseStatus::complete);
  CHECK(a.result.consumed == first.size());
  CHECK(a.request.path == "/livez");
  CHECK(a.request.header("host") == "a");

  const Parsed b = parse(std::string_view(buf).substr(a.result.consumed));
  REQUIRE(b.result.status == ParseStatus::complete);
  CHECK(b.result.consumed == second.size());
  CHECK(b.request.method == "HEAD");
  CHECK(b.request.path == "/readyz");
  CHECK(b.request.has_param("verbose"));

  CHECK(status_of(std::string_view(buf).substr(a.result.consumed + b.result.consumed)) ==
        ParseStatus::incomplete);
}

TEST_CASE("path and query are percent-decoded and query parameters may repeat", "[http][request]") {
  const Parsed p = parse(
      head("GET /healthz/my%2Ddb?exclude=a&exclude=b%2Cc&verbose&q=x+y%20z&&empty=&k%3D=v%26w "
           "HTTP/1.1"));
  REQUIRE(p.result.status == ParseStatus::complete);
  CHECK(p.request.path == "/healthz/my-db");
  CHECK(p.request.params("exclude") == std::vector<std::string>{"a", "b,c"});
  CHECK(p.request.param("exclude") == "a");
  CHECK(p.request.has_param("verbose"));
  CHECK(p.request.param("verbose").empty());
  CHECK(p.request.param("q") == "x y z");
  CHECK(p.request.has_param("empty"));
  CHECK(p.request.param("k=") == "v&w");
  CHECK_FALSE(p.request.has_param("missing"));
  CHECK(p.request.params("missing").empty());
  CHECK(p.request.query.size() == 6);
}

TEST_CASE("malformed percent escapes are kept literally", "[http][request]") {
  const Parsed p = parse(head("GET /x%zz%4?a=%g1&b=100%&c=%41 HTTP/1.1"));
  REQUIRE(p.result.status == ParseStatus::complete);
  CHECK(p.request.path == "/x%zz%4");
  CHECK(p.request.param("a") == "%g1");
  CHECK(p.request.param("b") == "100%");
  CHECK(p.request.param("c") == "A");
}

TEST_CASE("header names are lower-cased and values trimmed", "[http][request]") {
  const Parsed p = parse(head("GET / HTTP/1.1", {"X-MiXeD-CaSe:  Value With Spaces \t",
                                                 "ACCEPT:application/json", "authorization: x"}));
  REQUIRE(p.result.status == ParseStatus::complete);
  CHECK(p.request.header("x-mixed-case") == "Value With Spaces");
  CHECK(p.request.header("accept") == "application/json");
  CHECK(p.request.header("authorization") == "x");
  CHECK(p.request.headers.count("X-MiXeD-CaSe") == 0);
  for (const auto& [name, value] : p.request.headers) {
    for (char c : name) CHECK_FALSE((c >= 'A' && c <= 'Z'));
  }
}

TEST_CASE("keep-alive: HTTP/1.1 unless Connection close, HTTP/1.0 only if asked",
          "[http][request]") {
  struct Case {
    const char* version;
    const char* connection;  // nullptr: no header
    bool keep_alive;
  };
  const Case cases[] = {
      {"HTTP/1.1", nullptr, true},      {"HTTP/1.1", "close", false},
      {"HTTP/1.1", "Close", false},     {"HTTP/1.1", "keep-alive", true},
      {"HTTP/1.0", nullptr, false},     {"HTTP/1.0", "keep-alive", true},
      {"HTTP/1.0", "Keep-Alive", true}, {"HTTP/1.0", "close", false},
  };
  for (const auto& c : cases) {
    std::vector<std::string> headers;
    if (c.connection != nullptr) headers.push_back(std::string("Connection: ") + c.connection);
    const Parsed p = parse(head(std::string("GET / ") + c.version, headers));
    INFO(c.version << " Connection: " << (c.connection ? c.connection : "(none)"));
    REQUIRE(p.result.status == ParseStatus::complete);
    CHECK(p.request.version == c.version);
    CHECK(p.request.keep_alive == c.keep_alive);
  }
}

// RFC 9110 7.6.1: Connection is a comma-separated list of options ("Connection: TE, close"
// is what libwww-perl sends); a "close" anywhere in it, or in a repeated header, closes.
TEST_CASE("keep-alive: close anywhere in the Connection option list closes", "[http][request]") {
  for (const std::vector<std::string>& headers : std::vector<std::vector<std::string>>{
           {"Connection: TE, close"},
           {"Connection: close, TE"},
           {"Connection: keep-alive", "Connection: close"},
       }) {
    INFO(headers.front() << (headers.size() > 1 ? " + " + headers.back() : std::string()));
    const Parsed p = parse(head("GET / HTTP/1.1", headers));
    REQUIRE(p.result.status == ParseStatus::complete);
    CHECK_FALSE(p.request.keep_alive);
  }
  const Parsed p = parse(head("GET / HTTP/1.0", {"Connection: TE, Keep-Alive"}));
  REQUIRE(p.result.status == ParseStatus::complete);
  CHECK(p.request.keep_alive);
}

TEST_CASE("malformed request lines are bad requests with a reason", "[http][request]") {
  for (const std::string line : {
           "GET /",                 // no version
           "GET",                   // nothing but a method
           "/ HTTP/1.1",            // no method
           " GET / HTTP/1.1",       // empty method
           "GET  / HTTP/1.1",       // two spaces: the target does not start with '/'
           "G@T / HTTP/1.1",        // not a token
           "GET / HTTP/1.1 extra",  // trailing garbage
           "GET / HTTP/1.1 ",       // trailing space
           "\x01\x02 garbage",      // binary
       }) {
    INFO(line);
    const Parsed p = parse(head(line));
    CHECK(p.result.status == ParseStatus::bad_request);
    CHECK_FALSE(p.result.error.empty());
  }
}

TEST_CASE("only HTTP/1.x is spoken, a later minor version as 1.1", "[http][request]") {
  for (const std::string& version :
       std::vector<std::string>{"HTTP/2.0", "HTTP/0.9", "http/1.1", "HTTP/1", "HTTP/1.a",
                                "HTTP/1.10", "HTTP/1.1x", "HTTP", std::string("HTTP/1.1\0", 9)}) {
    INFO(version << " (" << version.size() << " bytes)");
    CHECK(status_of(head("GET / " + version)) == ParseStatus::bad_request);
  }
  CHECK(parse(head("GET / HTTP/2.0")).result.error == "unsupported HTTP version");
  // RFC 9110 2.5: a 1.x request with x > 1 is answered as the highest 1.x we speak.
  for (const std::string version : {"HTTP/1.2", "HTTP/1.9"}) {
    INFO(version);
    const Parsed p = parse(head("GET / " + version, {"Host: h"}));
    REQUIRE(p.result.status == ParseStatus::complete);
    CHECK(p.request.version == "HTTP/1.1");
    CHECK(p.request.keep_alive);
  }
  // ...which must then carry Host like any 1.1 request.
  CHECK(status_of(head("GET / HTTP/1.2")) == ParseStatus::bad_request);
}

TEST_CASE("origin and absolute forms are accepted, authority and asterisk forms refused",
          "[http][request]") {
  for (const std::string line : {
           "CONNECT 127.0.0.1:9188 HTTP/1.1",
           "OPTIONS * HTTP/1.1",
           "GET healthz HTTP/1.1",
           "GET ?a=b HTTP/1.1",
           "GET ftp://h/metrics HTTP/1.1",
           "GET http:///metrics HTTP/1.1",
           "GET http://h?a=b HTTP/1.1",
           "GET //h/metrics HTTP/1.1x",
       }) {
    INFO(line);
    CHECK(status_of(head(line)) == ParseStatus::bad_request);
  }
  // RFC 9112 3.2.2: a server must accept the absolute form (what proxies send).
  struct Case {
    const char* line;
    const char* path;
  };
  for (const Case c :
       {Case{"GET http://h/metrics HTTP/1.1", "/metrics"},
        Case{"GET HTTP://127.0.0.1:9188/healthz?verbose HTTP/1.1", "/healthz"},
        Case{"GET https://evil.example/ HTTP/1.1", "/"}, Case{"GET http://h HTTP/1.1", "/"}}) {
    INFO(c.line);
    const Parsed p = parse(head(c.line));
    REQUIRE(p.result.status == ParseStatus::complete);
    CHECK(p.request.path == c.path);
  }
  CHECK(parse(head("GET http://h/healthz?verbose HTTP/1.1")).request.has_param("verbose"));
}

TEST_CASE("HTTP/1.1 needs exactly one Host header, HTTP/1.0 may omit it", "[http][request]") {
  const Parsed none = parse(head("GET /livez HTTP/1.1", {}, false));
  CHECK(none.result.status == ParseStatus::bad_request);
  CHECK(none.result.error == "missing Host header");
  const Parsed two = parse(head("GET /livez HTTP/1.1", {"Host: a", "host: b"}));
  CHECK(two.result.status == ParseStatus::bad_request);
  CHECK(two.result.error == "more than one Host header");
  CHECK(status_of(head("GET /livez HTTP/1.1", {"Host: a", "Host: a"})) == ParseStatus::bad_request);
  CHECK(status_of(head("GET /livez HTTP/1.0")) == ParseStatus::complete);
  CHECK(status_of(head("GET /livez HTTP/1.1", {"Host:"})) == ParseStatus::complete);
}

TEST_CASE("a bare LF in the head is refused at once, not waited on", "[http][request]") {
  // Such a client never sends CRLF CRLF: without this it hung until read_timeout.
  for (const std::string buf :
       {"GET / HTTP/1.1\nHost: h\n\n", "GET / HTTP/1.1\r\nHost: h\n\n",
        "GET / HTTP/1.1\r\nHost: h\r\nX: a\nb\r\n\r\n", "GET / HTTP/1.1\n"}) {
    INFO(buf);
    const Parsed p = parse(buf);
    CHECK(p.result.status == ParseStatus::bad_request);
    CHECK(p.result.error == "bare LF in request head");
  }
  // After a complete head, a bare LF belongs to what follows (a body, the next request).
  const std::string ok = head("GET / HTTP/1.1");
  const Parsed p = parse(ok + "\n\nxyz");
  CHECK(p.result.status == ParseStatus::complete);
  CHECK(p.result.consumed == ok.size());
}

TEST_CASE("in the path '+' is itself and encoded '/' or NUL is refused", "[http][request]") {
  const Parsed plus = parse(head("GET /healthz/a+b?q=x+y HTTP/1.1"));
  REQUIRE(plus.result.status == ParseStatus::complete);
  CHECK(plus.request.path == "/healthz/a+b");
  CHECK(plus.request.param("q") == "x y");  // form encoding in the query is kept
  for (const std::string target :
       {"/readyz/a%2Fb", "/readyz/a%2fb", "/healthz/x%00", "/%2F", "/a%2F%2F"}) {
    INFO(target);
    const Parsed p = parse(head("GET " + target + " HTTP/1.1"));
    CHECK(p.result.status == ParseStatus::bad_request);
    CHECK(p.result.error == "encoded '/' or NUL in path");
  }
  // In the query they are data.
  CHECK(parse(head("GET /debug/failures?target=a%2Fb HTTP/1.1")).request.param("target") == "a/b");
}

TEST_CASE("control characters in the method or target are refused", "[http][request]") {
  for (const std::string& line : {
           std::string("GET /a\x01z HTTP/1.1"),
           std::string("GET /a\x7fz HTTP/1.1"),
           std::string("GET /a\tz HTTP/1.1"),
           std::string("GET /a\x1bz HTTP/1.1"),
           std::string("GET /a b HTTP/1.1"),
           std::string("GET /a\0z HTTP/1.1", 17),
           std::string("GE\0T / HTTP/1.1", 15),
           std::string("GE\x01T / HTTP/1.1"),
       }) {
    INFO("line of " << line.size() << " bytes");
    CHECK(status_of(head(line)) == ParseStatus::bad_request);
  }
}

TEST_CASE("control characters in header names are refused", "[http][request]") {
  for (const std::string& h : {
           std::string("X\x01Y: v"),
           std::string("X Y: v"),
           std::string("Host : v"),
           std::string("X\0Y: v", 6),
           std::string("X\nY: v"),
       }) {
    INFO("header of " << h.size() << " bytes");
    CHECK(status_of(head("GET / HTTP/1.1", {h})) == ParseStatus::bad_request);
  }
}

// RFC 9110 5.5: "a recipient of CR, LF, or NUL within a field value MUST either reject the
// message or replace each of those characters with SP". A bare LF kept in a value is a
// request-smuggling vector: a front proxy that ends lines at LF sees a header the agent does
// not (here a Content-Length, so the two disagree on where the next request starts).
TEST_CASE("NUL, CR and LF inside a header value are refused or replaced", "[http][request]") {
  for (const std::string& h : {
           std::string("X-A: one\ntwo"),
           std::string("X-A: one\nContent-Length: 5"),
           std::string("X-A: one\rtwo"),
           std::string("X-A: one\0two", 12),
       }) {
    INFO("header of " << h.size() << " bytes");
    const Parsed p = parse(head("GET / HTTP/1.1", {h}));
    if (p.result.status != ParseStatus::bad_request) {
      REQUIRE(p.result.status == ParseStatus::complete);
      const std::string v = p.request.header("x-a");
      CHECK(v.find('\n') == std::string::npos);
      CHECK(v.find('\r') == std::string::npos);
      CHECK(v.find('\0') == std::string::npos);
    }
  }
}

TEST_CASE("obsolete line folding is refused", "[http][request]") {
  CHECK(status_of(head("GET / HTTP/1.1", {"X-A: one", " two"})) == ParseStatus::bad_request);
  CHECK(status_of(head("GET / HTTP/1.1", {"X-A: one", "\ttwo"})) == ParseStatus::bad_request);
  CHECK(parse(head("GET / HTTP/1.1", {"X-A: one", " two"})).result.error ==
        "obsolete header folding");
  // Whitespace before the first header is folding too (or a smuggled header).
  CHECK(status_of(head("GET / HTTP/1.1", {" Host: x"})) == ParseStatus::bad_request);
}

TEST_CASE("malformed header lines are refused", "[http][request]") {
  for (const std::string h : {"no colon here", ": empty name", "(): v", "X\"Y: v"}) {
    INFO(h);
    CHECK(status_of(head("GET / HTTP/1.1", {h})) == ParseStatus::bad_request);
  }
  // An empty value is fine.
  const Parsed p = parse(head("GET / HTTP/1.1", {"X-Empty:"}));
  REQUIRE(p.result.status == ParseStatus::complete);
  CHECK(p.request.headers.contains("x-empty"));
}

TEST_CASE("any Transfer-Encoding is refused: no endpoint takes a body", "[http][request]") {
  for (const std::string te : {"chunked", "gzip, chunked", "identity", ""}) {
    INFO(te);
    const Parsed p = parse(head("POST / HTTP/1.1", {"Transfer-Encoding: " + te}));
    CHECK(p.result.status == ParseStatus::bad_request);
    CHECK(p.result.error == "request bodies are not accepted");
  }
  CHECK(status_of(head("GET / HTTP/1.1", {"TRANSFER-ENCODING: chunked"})) ==
        ParseStatus::bad_request);
  CHECK(status_of(head("GET / HTTP/1.1", {"Content-Length: 3", "Transfer-Encoding: chunked"})) ==
        ParseStatus::bad_request);
}

TEST_CASE("Content-Length must be one plain decimal number", "[http][request]") {
  for (const std::string v :
       {"abc", "-1", "+5", "1 2", "5,5", "0x10", "1e3", "", "99999999999999999999999999", "4.0"}) {
    INFO("Content-Length: '" << v << "'");
    const Parsed p = parse(head("POST / HTTP/1.1", {"Content-Length: " + v}));
    CHECK(p.result.status == ParseStatus::bad_request);
    CHECK(p.result.error == "malformed Content-Length");
  }
  const Parsed ok = parse(head("POST / HTTP/1.1", {"content-length:   42  "}));
  REQUIRE(ok.result.status == ParseStatus::complete);
  CHECK(ok.request.content_length == 42);
  // The body is not part of the head.
  CHECK(ok.result.consumed == head("POST / HTTP/1.1", {"content-length:   42  "}).size());
  const Parsed big = parse(head("POST / HTTP/1.1", {"Content-Length: 100000000"}));
  REQUIRE(big.result.status == ParseStatus::complete);
  CHECK(big.request.content_length == 100000000);
}

// RFC 9112 6.3: differing Content-Length values are an unrecoverable framing error. Keeping
// the last one (as a map assignment does) lets a front proxy that keeps the first one
// disagree with the agent on where the body ends.
TEST_CASE("conflicting duplicate Content-Length headers are refused", "[http][request]") {
  const Parsed p = parse(head("POST / HTTP/1.1", {"Content-Length: 5", "Content-Length: 100"}));
  CHECK(p.result.status == ParseStatus::bad_request);
}

TEST_CASE("a head over the limit is refused before its terminator arrives", "[http][request]") {
  constexpr std::size_t limit = 1024;
  // A request line that never ends: incomplete up to the limit, too large one byte past it.
  std::string line = "GET /" + std::string(limit - 5, 'a');
  REQUIRE(line.size() == limit);
  CHECK(status_of(line, limit) == ParseStatus::incomplete);
  line += 'a';
  const Parsed p = parse(line, limit);
  CHECK(p.result.status == ParseStatus::too_large);
  CHECK_FALSE(p.result.error.empty());
  // Endless headers likewise.
  std::string headers = "GET / HTTP/1.1\r\n";
  while (headers.size() <= limit) headers += "X-Pad: 0123456789\r\n";
  CHECK(status_of(headers, limit) == ParseStatus::too_large);
  // 100 KB of request line with the default limit.
  CHECK(status_of("GET /" + std::string(100 * 1024, 'x'), kLimit) == ParseStatus::too_large);
}

TEST_CASE("the limit counts the whole head including its terminator", "[http][request]") {
  constexpr std::size_t limit = 1024;
  const std::string base = head("GET / HTTP/1.1", {"X-Pad: "});
  const std::string exact =
      head("GET / HTTP/1.1", {"X-Pad: " + std::string(limit - base.size(), 'p')});
  REQUIRE(exact.size() == limit);
  CHECK(status_of(exact, limit) == ParseStatus::complete);
  const std::string over =
      head("GET / HTTP/1.1", {"X-Pad: " + std::string(limit - base.size() + 1, 'p')});
  CHECK(status_of(over, limit) == ParseStatus::too_large);
  // A small head followed by a large pipelined tail is fine: only the head counts.
  const std::string small = head("GET / HTTP/1.1");
  const Parsed p = parse(small + std::string(4 * limit, 'z'), limit);
  CHECK(p.result.status == ParseStatus::complete);
  CHECK(p.result.consumed == small.size());
}

TEST_CASE("empty lines before a request line are skipped and consumed", "[http][request]") {
  const std::string prefix = "\r\n\r\n\n\r\n";
  const std::string buf = prefix + head("GET /livez HTTP/1.1");
  const Parsed p = parse(buf);
  REQUIRE(p.result.status == ParseStatus::complete);
  CHECK(p.result.consumed == buf.size());
  CHECK(p.request.path == "/livez");
  // Only empty lines so far: wait for more, unless they exceed the limit.
  CHECK(status_of("\r\n\r\n\r\n") == ParseStatus::incomplete);
  CHECK(status_of(std::string(2000, '\n'), 1024) == ParseStatus::too_large);
}

TEST_CASE("serialize writes status line, framing headers, extra headers and body",
          "[http][response]") {
  Response r;
  r.status = 405;
  r.body = "only GET and HEAD are served\n";
  r.headers.emplace_back("Allow", "GET, HEAD");
  const std::string wire = serialize(r, false, false);
  CHECK(wire.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"));
  CHECK(wire.find("\r\nContent-Type: text/plain; charset=utf-8\r\n") != std::string::npos);
  CHECK(wire.find("\r\nContent-Length: 29\r\n") != std::string::npos);
  CHECK(wire.find("\r\nConnection: close\r\n") != std::string::npos);
  CHECK(wire.find("\r\nAllow: GET, HEAD\r\n") != std::string::npos);
  const std::size_t end = wire.find("\r\n\r\n");
  REQUIRE(end != std::string::npos);
  CHECK(wire.substr(end + 4) == r.body);

  CHECK(serialize(r, true, false).find("\r\nConnection: keep-alive\r\n") != std::string::npos);
}

TEST_CASE("a HEAD answer has the GET headers, Content-Length included, and no body",
          "[http][response]") {
  Response r;
  r.body = std::string(1000, 'm');
  r.content_type = "application/json";
  const std::string get = serialize(r, true, false);
  const std::string head_only = serialize(r, true, true);
  CHECK(head_only.ends_with("\r\n\r\n"));
  CHECK(head_only.find("Content-Length: 1000\r\n") != std::string::npos);
  CHECK(get == head_only + r.body);
}

TEST_CASE("every status the server sends has its reason phrase", "[http][response]") {
  struct Case {
    int status;
    const char* line;
  };
  for (const Case c :
       {Case{200, "HTTP/1.1 200 OK\r\n"}, Case{400, "HTTP/1.1 400 Bad Request\r\n"},
        Case{401, "HTTP/1.1 401 Unauthorized\r\n"}, Case{404, "HTTP/1.1 404 Not Found\r\n"},
        Case{408, "HTTP/1.1 408 Request Timeout\r\n"},
        Case{413, "HTTP/1.1 413 Content Too Large\r\n"},
        Case{431, "HTTP/1.1 431 Request Header Fields Too Large\r\n"},
        Case{500, "HTTP/1.1 500 Internal Server Error\r\n"},
        Case{503, "HTTP/1.1 503 Service Unavailable\r\n"}}) {
    Response r;
    r.status = c.status;
    CHECK(serialize(r, false, false).starts_with(c.line));
  }
  Response empty;
  CHECK(serialize(empty, false, false).find("Content-Length: 0\r\n") != std::string::npos);
}

TEST_CASE("every answer carries a Date header in IMF-fixdate", "[http][response]") {
  CHECK(pgv::http::http_date(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT");  // RFC 9110's
  CHECK(pgv::http::http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT");
  CHECK(pgv::http::http_date(951782400) == "Tue, 29 Feb 2000 00:00:00 GMT");
  CHECK(pgv::http::http_date(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT");  // cache refreshed
  const std::string wire = serialize(Response{}, true, false);
  const std::size_t at = wire.find("\r\nDate: ");
  REQUIRE(at != std::string::npos);
  const std::string date = wire.substr(at + 8, wire.find("\r\n", at + 2) - at - 8);
  INFO(date);
  CHECK(date.size() == 29);
  CHECK(date.ends_with(" GMT"));
  CHECK(date[3] == ',');
}
