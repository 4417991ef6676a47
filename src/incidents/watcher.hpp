#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "incidents/incident_log.hpp"
#include "incidents/tracker.hpp"
#include "telemetry/telemetry.hpp"

namespace pgv::incidents {

// Follows the published state on a thread of its own: after each finished probe cycle of a
// target it keeps the target's history, opens, grows and closes its incident, publishes
// both to the IncidentLog and hands records to a sink (the files). It reads the snapshot and the
// failure ring like HTTP does, and never touches a database, so a watcher that falls
// behind delays no probe and no health answer.
class Watcher {
 public:
  // The health answers' verdict on one target (the http layer's /healthz and /readyz rules,
  // supplied by the agent).
  using Judge = std::function<Verdict(const telemetry::Snapshot&, const telemetry::TargetState&,
                                      Clock::time_point now)>;

  // Where each new copy of a record goes besides the log (the files, when incidents.dir is
  // set). Called on the watcher thread; must not block for long.
  using Sink = std::function<void(std::shared_ptr<const IncidentRecord>)>;

  Watcher(telemetry::Telemetry& telemetry, IncidentLog& log, Judge judge, TrackerSettings settings,
          Sink sink = {});
  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  void start();
  // Stops the thread, then closes every open incident ("agent stopped") and hands it on.
  void stop();
  void set_settings(const TrackerSettings& settings);
  // One pass over the snapshot, on the caller's thread (tests drive it without the thread).
  void tick(double now_unix, Clock::time_point now_mono);

 private:
  void run();
  void publish(const std::string& target, const Changes& changes);

  telemetry::Telemetry& telemetry_;
  IncidentLog& log_;
  Judge judge_;
  Sink sink_;
  std::mutex mutex_;  // settings_, stopping_
  std::condition_variable wake_;
  TrackerSettings settings_;
  bool stopping_ = false;
  std::thread thread_;
  // Watcher thread only.
  std::map<std::string, std::unique_ptr<TargetTracker>> trackers_;
  std::map<std::string, double> seen_cycle_;  // last_cycle_unix already observed
  std::uint64_t failures_seen_ = 0;           // FailureRing::total() at the last pass
};

}  // namespace pgv::incidents
