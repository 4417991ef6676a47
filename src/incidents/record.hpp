#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "incidents/history.hpp"
#include "telemetry/failures.hpp"

namespace pgv::incidents {

// What opened an incident. The label values of pgvitals_incidents_total{trigger}.
enum class Trigger { down, not_ready, saturation, blocked_sessions, oldest_transaction };
inline constexpr Trigger kTriggers[] = {Trigger::down, Trigger::not_ready, Trigger::saturation,
                                        Trigger::blocked_sessions, Trigger::oldest_transaction};
std::string_view to_string(Trigger t) noexcept;

// Something that changed, and when: a check that failed or recovered, a trigger that fired
// or cleared, the incident opening and closing.
struct Transition {
  double t = 0;
  std::string what;  // "primary/connectivity failed: connection refused", redacted
};

// One incident: the minutes of one target's outage. Immutable once published; the watcher
// publishes a new copy as it grows.
struct IncidentRecord {
  std::string id;  // "20261201T221500Z-primary", unique in incidents.dir, URL-safe
  std::string target;
  std::string trigger;  // to_string(Trigger) of the first trigger
  double opened_unix = 0;
  double cleared_unix = 0;  // when the last trigger cleared (0 while one holds)
  double closed_unix = 0;   // 0 while open
  std::string first_error;  // redacted
  std::string ended;        // how it closed: "recovered", "agent stopped", "target removed"
  std::vector<Transition> transitions;
  std::vector<Sample> before;                          // the history frozen at the trigger
  std::vector<std::shared_ptr<const Moment>> moments;  // before, then during
  std::vector<Sample> during;                          // recorded while open and `after`
  std::vector<telemetry::FailureRecord> failures;      // this target's, while open
  std::size_t failures_dropped = 0;                    // beyond the cap

  bool open() const noexcept { return closed_unix == 0; }
};

// The line /debug/incidents lists for each record.
struct IncidentSummary {
  std::string id;
  std::string target;
  std::string trigger;
  double opened_unix = 0;
  double closed_unix = 0;
  std::string first_error;
};

IncidentSummary summary_of(const IncidentRecord& r);

}  // namespace pgv::incidents
