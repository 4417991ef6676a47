#pragma once

#include <cstddef>
#include <string_view>

#include "async/clock.hpp"

namespace pgv::scheduler {

// When a target's cycles start. Pure arithmetic on the times it is given, so it is tested
// with a fake clock. Cycles start one interval apart from the first start; a cycle that
// overruns is followed at once rather than skipping a tick (a gap of a whole interval would
// age /healthz needlessly), and the schedule goes on one interval after that late start.
// The lateness of every start is measured against when it was due.
class Cadence {
 public:
  Cadence(Clock::time_point start, Clock::duration first_delay, Clock::duration interval)
      : interval_(interval), next_(start + first_delay), due_(next_) {}

  // When to start the next cycle.
  Clock::time_point next() const noexcept { return next_; }
  // How late, in seconds, a cycle starting at `now` is against the schedule: after an
  // overrun the cycle that follows at once is as late as the overrun made it.
  double lag(Clock::time_point now) const noexcept { return seconds_between(due_, now); }
  // The cycle that started at next() ended at `now`.
  void finished(Clock::time_point now) noexcept {
    due_ = next_ + interval_;
    next_ = due_ > now ? due_ : now;
  }

 private:
  Clock::duration interval_;
  Clock::time_point next_;  // when the next cycle starts
  Clock::time_point due_;   // when it should have started
};

// A target's first start after the scheduler takes it: at once when it is the only one;
// otherwise a stable offset within one interval, from a hash of its name, so a fleet does
// not stampede at start-up or after every restart.
Clock::duration first_delay(std::string_view name, Clock::duration interval,
                            std::size_t target_count);

}  // namespace pgv::scheduler
