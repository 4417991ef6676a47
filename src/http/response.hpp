#pragma once

#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgv::http {

inline constexpr const char* kTextPlain = "text/plain; charset=utf-8";
inline constexpr const char* kJson = "application/json";

struct Response {
  int status = 200;
  std::string content_type = kTextPlain;
  std::string body;
  // Used instead of `body` when set: a large body shared with other responses (the
  // cached /metrics exposition), sent without being copied.
  std::shared_ptr<const std::string> shared_body;
  std::vector<std::pair<std::string, std::string>> headers;
  // shared_body is a gzip stream that the client gets inflated, piece by piece as it is
  // sent: a fleet's plain /metrics served from the compressed rendering, so its 15 MiB of
  // text never exist whole.
  bool inflate = false;

  std::string_view payload() const noexcept { return shared_body ? *shared_body : body; }
  // What Content-Length says.
  std::size_t payload_size() const;
};

// The bytes on the wire. `head_only` answers a HEAD request (same headers, no body).
std::string serialize(const Response& response, bool keep_alive, bool head_only);
// Status line and headers only, for sending a large payload() after them uncopied.
std::string serialize_head(const Response& response, bool keep_alive);
const char* reason_phrase(int status) noexcept;
// `now` as an HTTP Date value, "Sun, 06 Nov 1994 08:49:37 GMT"; valid until the next call
// on this thread.
std::string_view http_date(std::time_t now);

}  // namespace pgv::http
