#pragma once

#include <chrono>

namespace pgv {

// Every network wait is bounded by a point on the monotonic clock, never by a duration,
// so nested operations share one budget instead of each restarting the clock.
using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

inline double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace pgv
