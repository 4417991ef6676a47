#pragma once

#include <cstdint>
#include <string>

#include "config/duration.hpp"

namespace pgv::config {

// The incident recorder: when an incident opens, how much history it keeps, where its
// records go. Thresholds at 0 are off.
struct IncidentsConfig {
  std::string dir;  // empty: records in memory only
  int keep = 50;
  std::uint64_t max_bytes = 64ull << 20;
  Millis before{120'000};
  Millis after{120'000};
  double saturation = 0.9;
  int blocked_sessions = 5;
  Millis oldest_transaction{3'600'000};
};

// Parses a size such as 64MB, 512kB, 1GB or 1048576 (bytes) for `key`.
std::uint64_t parse_size(std::string_view key, std::string_view text);

}  // namespace pgv::config
