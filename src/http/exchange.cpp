#include "http/exchange.hpp"

#include <array>

#include "telemetry/gzip.hpp"

namespace pgv::http {
namespace {

constexpr std::size_t kChunkBytes = 4096;
constexpr std::size_t kCoalesceBytes = 64 * 1024;

Response plain(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

}  // namespace

async::Task<ParseResult> read_head(Stream& stream, std::string& buffer, std::size_t max_bytes,
                                   Deadline deadline, Request& request) {
  std::array<char, kChunkBytes> chunk{};
  for (;;) {
    const ParseResult parsed = parse_request_head(buffer, max_bytes, request);
    if (parsed.status != ParseStatus::incomplete) co_return parsed;
    const std::size_t n = co_await stream.read_some(chunk.data(), chunk.size(), deadline);
    if (n == 0) co_return parsed;
    buffer.append(chunk.data(), n);
  }
}

std::optional<Response> refusal(const ParseResult& parsed, const Request& request,
                                const config::HttpLimits& limits) {
  if (parsed.status != ParseStatus::complete) {
    return plain(parsed.status == ParseStatus::too_large ? 431 : 400,
                 (parsed.error.empty() ? std::string("bad request") : parsed.error) + "\n");
  }
  if (request.content_length > limits.max_request_bytes) {
    return plain(413, "request body too large\n");
  }
  return std::nullopt;
}

async::Task<bool> drop_body(Stream& stream, std::string& buffer, std::size_t length,
                            Deadline deadline) {
  std::array<char, kChunkBytes> chunk{};
  while (buffer.size() < length) {
    const std::size_t n = co_await stream.read_some(chunk.data(), chunk.size(), deadline);
    if (n == 0) co_return false;
    buffer.append(chunk.data(), n);
  }
  buffer.erase(0, length);
  co_return true;
}

async::Task<void> send(Stream& stream, const Response& response, bool keep_alive, bool head_only,
                       Deadline deadline) {
  const std::string_view payload = response.payload();
  if (response.inflate && !head_only) {
    // Inflated a piece at a time between writes, so the loop serves other clients as it
    // goes and the text is never whole.
    co_await stream.write_all(serialize_head(response, keep_alive), deadline);
    telemetry::GzipReader reader(payload);
    std::string piece(kCoalesceBytes, '\0');
    while (const std::size_t n = reader.read(piece.data(), piece.size())) {
      co_await stream.write_all(std::string_view(piece.data(), n), deadline);
    }
    co_return;
  }
  if (head_only || payload.size() <= kCoalesceBytes) {
    const std::string wire = serialize(response, keep_alive, head_only);
    co_await stream.write_all(wire, deadline);
    co_return;
  }
  const std::string head = serialize_head(response, keep_alive);
  co_await stream.write_all(head, deadline);
  co_await stream.write_all(payload, deadline);
}

}  // namespace pgv::http
