#pragma once

#include <string_view>

namespace pgv::http {

// Whether an Accept-Encoding header value lets the response be gzip (RFC 9110 12.5.3):
// `gzip` (or `x-gzip`, or `*` when gzip is not named) with a q-value above 0. No header, or
// `identity` only, is plain text.
bool accepts_gzip(std::string_view accept_encoding) noexcept;

}  // namespace pgv::http
