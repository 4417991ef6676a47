#include "incidents/watcher.hpp"

#include <chrono>
#include <set>
#include <vector>

#include "log/log.hpp"

namespace pgv::incidents {
namespace {

// Often enough that an incident opens within a fraction of the shortest interval, rarely
// enough that a thousand idle targets cost nothing: a pass only looks at targets whose
// cycle has ended since the last one.
constexpr auto kTick = std::chrono::milliseconds(250);

}  // namespace

Watcher::Watcher(telemetry::Telemetry& telemetry, IncidentLog& log, Judge judge,
                 TrackerSettings settings, Sink sink)
    : telemetry_(telemetry),
      log_(log),
      judge_(std::move(judge)),
      sink_(std::move(sink)),
      settings_(settings) {}

Watcher::~Watcher() {
  stop();
}

void Watcher::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void Watcher::stop() {
  {
    const std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  const double now = telemetry::unix_now();
  for (auto& [target, tracker] : trackers_) {
    if (auto record = tracker->close(now, "agent stopped")) {
      Changes c;
      c.record = std::move(record);
      c.closed = true;
      publish(target, c);
    }
  }
}

void Watcher::set_settings(const TrackerSettings& settings) {
  const std::lock_guard lock(mutex_);
  settings_ = settings;
}

void Watcher::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    try {
      tick(telemetry::unix_now(), Clock::now());
    } catch (const std::exception& e) {
      // A bug here must not take the agent down with it; the next pass starts afresh.
      logging::log(logging::LogLevel::error, "incident watcher pass failed", {{"error", e.what()}});
    }
    lock.lock();
    wake_.wait_for(lock, kTick, [this] { return stopping_; });
  }
}

void Watcher::tick(double now_unix, Clock::time_point now_mono) {
  TrackerSettings settings;
  {
    const std::lock_guard lock(mutex_);
    settings = settings_;
  }
  const auto snapshot = telemetry_.state.snapshot();

  // The failures recorded since the last pass, by target, oldest first. The ring is only
  // read when its total moved.
  std::map<std::string, std::vector<telemetry::FailureRecord>> failures;
  const std::uint64_t total = telemetry_.failures.total();
  if (total != failures_seen_) {
    const auto fresh = static_cast<std::size_t>(total - failures_seen_);
    auto recent = telemetry_.failures.recent("", fresh);  // newest first
    for (auto it = recent.rbegin(); it != recent.rend(); ++it) {
      failures[it->target].push_back(std::move(*it));
    }
    failures_seen_ = total;
  }

  for (const auto& [name, state] : *snapshot) {
    auto& tracker = trackers_[name];
    if (!tracker) {
      tracker = std::make_unique<TargetTracker>(name, settings);
      for (const Trigger t : kTriggers) {
        telemetry_.metrics.incidents.Add(
            {{"target", name}, {"trigger", std::string(to_string(t))}});
      }
      telemetry_.metrics.incident_open.Add({{"target", name}}).Set(0);
    }
    tracker->set_settings(settings);
    auto& seen = seen_cycle_[name];
    if (state->last_cycle_unix <= seen) continue;
    seen = state->last_cycle_unix;
    auto mine = failures.find(name);
    Changes changes = tracker->observe(
        *state, judge_(*snapshot, *state, now_mono), now_unix, now_mono,
        mine == failures.end() ? std::vector<telemetry::FailureRecord>{} : std::move(mine->second));
    publish(name, changes);
    if (changes.history) log_.publish_history(tracker->history());
  }

  // Targets removed by a reload: their incident closes, their history and series go.
  for (auto it = trackers_.begin(); it != trackers_.end();) {
    if (snapshot->contains(it->first)) {
      ++it;
      continue;
    }
    Changes c;
    c.record = it->second->close(now_unix, "target removed");
    c.closed = c.record != nullptr;
    publish(it->first, c);
    log_.remove_history(it->first);
    for (const Trigger t : kTriggers) {
      auto& family = telemetry_.metrics.incidents;
      family.Remove(it->first,
                    &family.Add({{"target", it->first}, {"trigger", std::string(to_string(t))}}));
    }
    auto& open = telemetry_.metrics.incident_open;
    open.Remove(it->first, &open.Add({{"target", it->first}}));
    seen_cycle_.erase(it->first);
    it = trackers_.erase(it);
  }
}

void Watcher::publish(const std::string& target, const Changes& changes) {
  if (changes.opened) {
    telemetry_.metrics.incidents
        .Add({{"target", target}, {"trigger", std::string(to_string(*changes.opened))}})
        .Increment();
    telemetry_.metrics.incident_open.Add({{"target", target}}).Set(1);
    logging::log(logging::LogLevel::warn, "incident opened",
                 {{"target", target},
                  {"trigger", std::string(to_string(*changes.opened))},
                  {"id", changes.record ? changes.record->id : std::string()}});
  }
  if (changes.closed) {
    telemetry_.metrics.incident_open.Add({{"target", target}}).Set(0);
    if (changes.record) {
      logging::log(
          logging::LogLevel::info, "incident closed",
          {{"target", target}, {"id", changes.record->id}, {"ended", changes.record->ended}});
    }
  }
  if (!changes.record) return;
  log_.publish(changes.record);
  if (sink_) sink_(changes.record);
}

}  // namespace pgv::incidents
