#include "telemetry/state.hpp"

#include <algorithm>
#include <chrono>

#include "config/probe_catalog.hpp"

namespace pgv::telemetry {

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double TargetState::max_age_seconds(std::string_view probe) const {
  // A probe that runs at most every min_spacing ages on that scale.
  const config::ProbeSpec* spec = config::find_probe(probe);
  const double spacing = spec ? std::chrono::duration<double>(spec->min_spacing).count() : 0.0;
  return 2 * std::max(interval_seconds, spacing) + timeout_seconds;
}

bool TargetState::fresh(std::string_view probe, const CheckState& c, Clock::time_point now) const {
  if (!c.ok || c.last_success == Clock::time_point{}) return false;
  return seconds_between(c.last_success, now) <= max_age_seconds(probe);
}

bool Liveness::alive(Clock::time_point now) const {
  for (const Clock::time_point beat : heartbeats) {
    if (now - beat > max_age) return false;
  }
  return true;
}

std::shared_ptr<const Snapshot> StateStore::snapshot() const {
  std::lock_guard lock(mutex_);
  if (!snapshot_) snapshot_ = std::make_shared<const Snapshot>(current_);
  return snapshot_;
}

std::shared_ptr<const TargetState> StateStore::get(const std::string& name) const {
  std::lock_guard lock(mutex_);
  const auto it = current_.find(name);
  return it == current_.end() ? nullptr : it->second;
}

void StateStore::publish(std::shared_ptr<const TargetState> state) {
  std::lock_guard lock(mutex_);
  current_[state->name] = std::move(state);
  snapshot_.reset();
}

void StateStore::remove(const std::string& name) {
  std::lock_guard lock(mutex_);
  current_.erase(name);
  snapshot_.reset();
}

void StateStore::reset_liveness(std::size_t workers, Clock::duration max_age) {
  std::lock_guard lock(mutex_);
  liveness_.heartbeats.assign(workers, Clock::now());
  liveness_.max_age = max_age;
}

void StateStore::heartbeat(std::size_t worker, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (worker < liveness_.heartbeats.size()) liveness_.heartbeats[worker] = now;
}

Liveness StateStore::liveness() const {
  std::lock_guard lock(mutex_);
  return liveness_;
}

}  // namespace pgv::telemetry
