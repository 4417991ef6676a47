#pragma once

#include <string>

namespace pgv::testing {

// An exposition without the process' own series (CPU, memory, threads), which move between
// two renderings of the same series: what two renderings are compared by.
inline std::string without_process_series(const std::string& text) {
  std::string out;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t eol = text.find('\n', at);
    const std::size_t end = eol == std::string::npos ? text.size() : eol + 1;
    if (text.substr(at, end - at).find("process_") == std::string::npos) {
      out.append(text, at, end - at);
    }
    at = end;
  }
  return out;
}

// `lines` lines of a family's text over `targets` targets and `values` values: a large,
// repetitive text, as a fleet's exposition is.
inline std::string up_lines(int lines, int targets, int values) {
  std::string text;
  for (int i = 0; i < lines; ++i) {
    text += "pgvitals_up{target=\"db-" + std::to_string(i % targets) + "\"} " +
            std::to_string(i % values) + "\n";
  }
  return text;
}

}  // namespace pgv::testing
