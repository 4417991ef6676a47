#pragma once

#include <string>
#include <utility>
#include <vector>

namespace pgv::http {

inline constexpr const char* kTextPlain = "text/plain; charset=utf-8";
inline constexpr const char* kJson = "application/json";

struct Response {
  int status = 200;
  std::string content_type = kTextPlain;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// The bytes on the wire. `head_only` answers a HEAD request (same headers, no body).
std::string serialize(const Response& response, bool keep_alive, bool head_only);
const char* reason_phrase(int status) noexcept;

}  // namespace pgv::http
