#pragma once

#include <map>
#include <string>
#include <string_view>

namespace pgv::http {

// Text for HTML element content or a quoted attribute value: & < > " ' escaped.
std::string escape_html(std::string_view text);
// One URL path segment or query value: everything but RFC 3986 unreserved characters
// percent-encoded (a target named "a b/c" links to /healthz/a%20b%2Fc).
std::string percent_encode(std::string_view text);
// Fills a template's {{name}} placeholders from `values` (already HTML); an unknown name is
// left out. One pass: a value is never searched for placeholders.
std::string fill_template(std::string_view page, const std::map<std::string, std::string>& values);
// Unix seconds as "2026-12-01 22:15:00Z".
std::string utc_time(double unix_seconds);

}  // namespace pgv::http
