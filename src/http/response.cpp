#include "http/response.hpp"

#include <array>
#include <cstdio>
#include <ctime>

#include "telemetry/gzip.hpp"

namespace pgv::http {

std::string_view http_date(std::time_t now) {
  // Formatting per answer would cost more than the rest of a /livez: each thread keeps the
  // value of the current second.
  thread_local std::time_t cached_second = -1;
  thread_local std::array<char, 40> cached{};
  thread_local std::size_t cached_size = 0;
  if (now != cached_second) {
    std::tm utc{};
    ::gmtime_r(&now, &utc);
    // IMF-fixdate (RFC 9110 5.6.7); strftime's %a and %b follow the locale, so not those.
    static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const int n = std::snprintf(cached.data(), cached.size(), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                                kDays[utc.tm_wday % 7], utc.tm_mday, kMonths[utc.tm_mon % 12],
                                utc.tm_year + 1900, utc.tm_hour, utc.tm_min, utc.tm_sec);
    cached_size = n > 0 ? static_cast<std::size_t>(n) : 0;
    cached_second = now;
  }
  return {cached.data(), cached_size};
}

const char* reason_phrase(int status) noexcept {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

std::size_t Response::payload_size() const {
  return inflate ? telemetry::GzipReader::plain_size(payload()) : payload().size();
}

std::string serialize_head(const Response& r, bool keep_alive) {
  std::string out;
  out.reserve(256);
  out += "HTTP/1.1 " + std::to_string(r.status) + " " + reason_phrase(r.status) + "\r\n";
  out += "Content-Type: " + r.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(r.payload_size()) + "\r\n";
  out += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  out += "Date: ";
  out += http_date(std::time(nullptr));
  out += "\r\n";
  for (const auto& [name, value] : r.headers) out += name + ": " + value + "\r\n";
  out += "\r\n";
  return out;
}

std::string serialize(const Response& r, bool keep_alive, bool head_only) {
  std::string out = serialize_head(r, keep_alive);
  if (head_only) return out;
  out += r.inflate ? telemetry::gunzip(r.payload()) : r.payload();
  return out;
}

}  // namespace pgv::http
