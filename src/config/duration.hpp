#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace pgv::config {

using Millis = std::chrono::milliseconds;

// Parses durations the way users write them: "500ms", "2s", "1.5s", "30m", "1h", "250us"
// is refused (below our resolution). A bare number is refused: units are never guessed.
// Throws ConfigError naming `key`, the value and the accepted forms; also when the result
// is below `min` (zero and negative durations are always refused).
Millis parse_duration(std::string_view key, std::string_view text, Millis min = Millis{1});

// "1500ms" -> "1.5s", "1800000ms" -> "30m": the shortest exact spelling.
std::string format_duration(Millis d);

}  // namespace pgv::config
