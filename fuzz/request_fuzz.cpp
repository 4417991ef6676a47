// libFuzzer harness for the HTTP request-head parser (src/http/request.cpp).
//
// Properties, on the bytes as what a client sent, under a large and a small head limit:
//  - the same input always parses the same (status, consumed bytes, error, request);
//  - every proper prefix of a complete head is incomplete: the server never answers
//    before the head is whole, nor refuses what would have been a good request;
//  - an accepted head has a token method, a path starting with '/', a known version
//    (HTTP/1.0 or HTTP/1.1) and consumed bytes within the input and the limit;
//  - bytes after a complete head (the next pipelined request, a body) never change it.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_util.hpp"
#include "http/request.hpp"

namespace {

using pgv::http::parse_request_head;
using pgv::http::ParseResult;
using pgv::http::ParseStatus;
using pgv::http::Request;

[[noreturn]] void die(const char* what, std::string_view input, std::string_view detail) {
  pgv::fuzz::die("request_fuzz", what, input, detail);
}

struct Parsed {
  ParseResult result;
  Request request;
};

Parsed parse(std::string_view buffer, std::size_t limit) {
  Parsed p;
  p.result = parse_request_head(buffer, limit, p.request);
  return p;
}

bool same(const Parsed& a, const Parsed& b) {
  const Request& x = a.request;
  const Request& y = b.request;
  return a.result.status == b.result.status && a.result.consumed == b.result.consumed &&
         a.result.error == b.result.error && x.method == y.method && x.path == y.path &&
         x.version == y.version && x.query == y.query && x.headers == y.headers &&
         x.content_length == y.content_length && x.keep_alive == y.keep_alive;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

void check(std::string_view input, std::size_t limit) {
  const Parsed first = parse(input, limit);
  if (!same(first, parse(input, limit))) die("the same input parsed differently", input, "");
  if (first.result.status != ParseStatus::complete) return;

  const Request& r = first.request;
  const std::size_t consumed = first.result.consumed;
  if (consumed == 0 || consumed > input.size() || consumed > limit) {
    die("consumed is outside the input or the limit", input, std::to_string(consumed));
  }
  if (!is_token(r.method)) die("accepted a method that is not a token", input, r.method);
  if (!r.path.starts_with('/')) die("accepted a path not starting with '/'", input, r.path);
  if (r.version != "HTTP/1.0" && r.version != "HTTP/1.1") {
    die("accepted an unknown version", input, r.version);
  }

  // Every proper prefix is incomplete; long heads are sampled (all prefixes would make an
  // input cost O(n^2)) but their last bytes, where the terminator forms, always checked.
  const std::size_t stride = consumed <= 1024 ? 1 : consumed / 512;
  for (std::size_t n = 0; n < consumed; n += (n + 8 >= consumed ? 1 : stride)) {
    const Parsed p = parse(input.substr(0, n), limit);
    if (p.result.status != ParseStatus::incomplete) {
      die("a prefix of a complete head is not incomplete", input,
          std::to_string(n) + " bytes: " + p.result.error);
    }
  }

  const std::string_view head = input.substr(0, consumed);
  if (!same(first, parse(head, limit))) die("the bytes after the head changed it", input, "");
  const std::string more = std::string(head) + "\n\r\n\0GET / HTTP/9.9\r\n\r\n";
  if (!same(first, parse(more, limit))) die("appended bytes changed the head", input, "");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check(input, 8192);  // the default http.max_request_bytes
  check(input, 256);   // small enough for inputs to cross it
  return 0;
}
