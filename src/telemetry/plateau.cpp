#include "telemetry/plateau.hpp"

#include <algorithm>

namespace pgv::telemetry {
namespace {

// A plateau needs a pool worth the name.
constexpr int kMinSessions = 2;

// "Busy" allows one session in five to be between requests at the moment of a sample.
bool mostly_busy(int busy, int sessions) {
  return busy * 5 >= sessions * 4;
}

}  // namespace

std::map<std::string, bool> PlateauTracker::update(Clock::time_point now,
                                                   const std::vector<Sample>& samples,
                                                   bool server_full) {
  std::map<std::string, History> kept;
  std::map<std::string, bool> out;
  for (const Sample& s : samples) {
    History h;
    if (auto it = apps_.find(s.application); it != apps_.end()) h = std::move(it->second);
    while (!h.counts.empty() && now - h.counts.front().first > window_) h.counts.pop_front();
    h.counts.emplace_back(now, s.sessions);
    if (s.sessions != h.last) {
      h.last = s.sessions;
      h.flat_since = now;
      h.busy_throughout = true;
    }
    h.busy_throughout = h.busy_throughout && mostly_busy(s.busy, s.sessions);
    int highest = 0;
    for (const auto& [at, n] : h.counts) highest = std::max(highest, n);
    out[s.application] = !server_full && s.sessions >= kMinSessions && s.sessions == highest &&
                         h.busy_throughout && now - h.flat_since >= flat_for_;
    kept.emplace(s.application, std::move(h));
  }
  apps_ = std::move(kept);
  return out;
}

}  // namespace pgv::telemetry
