#pragma once

// Helpers every fuzz harness shares: how a broken property is reported, and counting.
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace pgv::fuzz {

// Prints the input that broke a property and what was seen, then aborts, which libFuzzer
// records as a crash with that input saved.
[[noreturn]] inline void die(std::string_view harness, const char* what, std::string_view input,
                             std::string_view detail) {
  std::fprintf(stderr, "%.*s: %s\n--- input (%zu bytes) ---\n%.*s\n--- detail ---\n%.*s\n",
               static_cast<int>(harness.size()), harness.data(), what, input.size(),
               static_cast<int>(input.size()), input.data(), static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

// Occurrences of needle in text, overlapping ones included.
inline std::size_t count(std::string_view text, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t pos = text.find(needle); pos != std::string_view::npos;
       pos = text.find(needle, pos + 1)) {
    ++n;
  }
  return n;
}

}  // namespace pgv::fuzz
