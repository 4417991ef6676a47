#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pgv::config {

inline constexpr std::string_view kRedacted = "***";

// Removes credentials that text may carry in recognisable shapes: the password of a
// URI's user-info (`postgresql://user:PASS@host`), the value of any `password=` or
// `sslpassword=` pair, quoted or not, in URIs, key=value strings and libpq messages, and
// the value of `password: ...` / `bearer_token: ...` written as YAML or JSON.
std::string redact(std::string_view text);

// The secrets of one target, known by value. scrub() removes every occurrence (also
// percent-encoded) and then applies redact(), so a secret that reaches a message in a
// shape redact() cannot recognise still never leaks.
class Secrets {
 public:
  // Secrets shorter than this are left to the shape-based redaction: scrubbing one or
  // two characters everywhere would garble messages without protecting anything.
  static constexpr std::size_t kMinScrubLength = 3;

  void add(std::string_view secret);
  // Finds secrets in a DSN without needing it to parse: user-info passwords and
  // password= values. Used before libpq has validated the string.
  void add_from_dsn_text(std::string_view dsn);
  void merge(const Secrets& other);
  std::string scrub(std::string_view text) const;
  bool empty() const noexcept { return values_.empty(); }

 private:
  std::vector<std::string> values_;
};

std::string percent_decode(std::string_view text);
std::string percent_encode(std::string_view text);

}  // namespace pgv::config
