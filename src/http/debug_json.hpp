#pragma once

#include <string>
#include <vector>

#include "telemetry/failures.hpp"
#include "telemetry/state.hpp"

namespace pgv::http {

// /debug/failures: newest first, everything already redacted at the source.
std::string failures_json(const std::vector<telemetry::FailureRecord>& records,
                          std::size_t capacity, std::uint64_t total);

// The landing page: links and a one-line state per target.
std::string landing_html(const telemetry::Snapshot& snapshot, Clock::time_point now);

}  // namespace pgv::http
