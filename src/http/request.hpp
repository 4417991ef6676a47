#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace pgv::http {

// One parsed HTTP/1.x request head. Header names are lower-cased; query parameters are
// percent-decoded and may repeat.
struct Request {
  std::string method;
  std::string path;
  std::string version;  // "HTTP/1.1"
  std::multimap<std::string, std::string> query;
  std::map<std::string, std::string> headers;
  std::size_t content_length = 0;
  bool keep_alive = true;

  bool has_param(const std::string& name) const { return query.contains(name); }
  std::string param(const std::string& name) const;
  std::vector<std::string> params(const std::string& name) const;
  std::string header(const std::string& lower_name) const;
};

enum class ParseStatus {
  incomplete,   // need more bytes
  complete,     // `consumed` bytes form the head
  bad_request,  // malformed: answer 400 and close
  too_large,    // the head exceeds the limit: answer 431 and close
};

struct ParseResult {
  ParseStatus status = ParseStatus::incomplete;
  std::size_t consumed = 0;
  std::string error;  // for the 400 body
};

// Parses a request head from the start of `buffer`, refusing heads larger than
// `max_bytes`. Bodies are not parsed (see Request::content_length); chunked request
// bodies are refused: no endpoint takes a body.
ParseResult parse_request_head(std::string_view buffer, std::size_t max_bytes, Request& out);

}  // namespace pgv::http
