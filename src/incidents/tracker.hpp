#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/incidents.hpp"
#include "incidents/history.hpp"
#include "incidents/record.hpp"
#include "telemetry/state.hpp"

namespace pgv::incidents {

// What the health answers say of a target at one moment (the http layer's rules, handed in
// by the agent so that this layer does not reach up for them).
struct Verdict {
  bool up = true;
  std::string up_detail;
  bool ready = true;
  std::string ready_detail;
};

struct TrackerSettings {
  double before = 120;
  double after = 120;
  double saturation = 0.9;
  int blocked_sessions = 5;          // 0: off
  double oldest_transaction = 3600;  // seconds; 0: off

  static TrackerSettings from(const config::IncidentsConfig& c);
};

// What one observation changed.
struct Changes {
  bool history = false;                          // a sample or moment was added
  std::shared_ptr<const IncidentRecord> record;  // the incident's new copy, when it changed
  std::optional<Trigger> opened;                 // an incident opened, on this trigger
  bool closed = false;
};

// One target's history and incident, driven by the watcher once per finished probe cycle.
// Not thread-safe: one watcher thread owns it.
class TargetTracker {
 public:
  TargetTracker(std::string target, TrackerSettings settings);

  // A cycle finished: the target's published state, the health answers' verdict on it, and
  // the failures recorded for it since the last call (oldest first).
  Changes observe(const telemetry::TargetState& state, const Verdict& verdict, double now,
                  Clock::time_point now_mono, std::vector<telemetry::FailureRecord> failures);
  // Closes an open incident (the agent stops, the target is removed); null when none.
  std::shared_ptr<const IncidentRecord> close(double now, const std::string& why);
  void set_settings(const TrackerSettings& settings) { settings_ = settings; }

  std::shared_ptr<const TargetHistory> history() const;
  bool incident_open() const noexcept { return open_ != nullptr; }

 private:
  std::map<Trigger, std::string> triggers(const telemetry::TargetState& st, const Verdict& v,
                                          Clock::time_point now_mono) const;
  void note_checks(const telemetry::TargetState& st, double now);
  bool add_sample(const telemetry::TargetState& st, const Verdict& v, double now);
  std::shared_ptr<const Moment> moment(const telemetry::TargetState& st, double now);
  void open(Trigger trigger, const std::string& detail, double now,
            std::shared_ptr<const Moment> at_trigger);
  void update(const std::map<Trigger, std::string>& active, double now,
              std::vector<telemetry::FailureRecord>& failures, Changes& out);
  void transition(double now, std::string what);
  void forget_before(double now);

  const std::string target_;
  TrackerSettings settings_;
  TargetHistory history_;
  std::vector<Transition> recent_;                         // over the last `before`
  std::vector<telemetry::FailureRecord> recent_failures_;  // over the last `before`
  std::map<std::string, bool> last_ok_;
  std::map<Trigger, std::string> active_;
  std::unique_ptr<IncidentRecord> open_;
  double last_moment_ = 0;
  double last_during_ = 0;
  double during_every_ = 0;
  double last_during_moment_ = 0;
  double last_activity_unix_ = 0;  // of the last digest trimmed into a moment
  std::shared_ptr<const probes::ActivityDigest> last_trimmed_;
  std::string last_id_;
};

}  // namespace pgv::incidents
