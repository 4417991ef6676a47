#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "async/clock.hpp"

namespace pgv::telemetry {

// Learned ceilings of applications nobody declared a budget for. A client pool that is full
// holds its maximum number of sessions, busy, for as long as the load lasts: an application
// whose session count sits flat at the highest it reached in the window, its sessions busy,
// while the server still has room, is at a plateau. Limits: replicas that scale move the
// ceiling (the window forgets), and many short requests keep sessions idle between them
// (not busy), so a full pool of those is missed; a pool configured to hold its connections
// busy (long transactions) looks full all the time.
class PlateauTracker {
 public:
  struct Sample {
    std::string application;
    int sessions = 0;
    int busy = 0;  // sessions not idle
  };

  explicit PlateauTracker(Clock::duration flat_for,
                          Clock::duration window = std::chrono::minutes(10))
      : flat_for_(flat_for), window_(window) {}

  // One activity result; for each application in it, whether it is at its plateau.
  // Applications missing from `samples` are forgotten.
  std::map<std::string, bool> update(Clock::time_point now, const std::vector<Sample>& samples,
                                     bool server_full);

 private:
  struct History {
    std::deque<std::pair<Clock::time_point, int>> counts;
    Clock::time_point flat_since{};
    int last = -1;
    bool busy_throughout = false;
  };

  Clock::duration flat_for_;
  Clock::duration window_;
  std::map<std::string, History> apps_;
};

}  // namespace pgv::telemetry
