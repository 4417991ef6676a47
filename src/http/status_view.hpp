#pragma once

#include <optional>
#include <string>
#include <vector>

#include "incidents/incident_log.hpp"
#include "telemetry/state.hpp"

namespace pgv::http {

// One target as the status page shows it, read from the snapshot with the health rules
// (up_check): the server-rendered table and /debug/status say the same thing.
struct TargetStatus {
  std::string name;
  std::string state;   // up, down, unknown (no result yet)
  std::string detail;  // why it is not up: "connection refused", "stale: ..."
  std::string role;    // primary, replica, pgbouncer, unknown
  bool required = true;
  std::optional<double> latency;     // seconds, the last successful connectivity round trip
  std::optional<double> saturation;  // server connection saturation, 0-1
  pool::PoolStats pool;
  std::string incident;                            // the open incident's id, if one is open
  const telemetry::TargetState* target = nullptr;  // into the snapshot it was read from
};

// What the page was asked to show: ?state=up|down|unknown and ?q=<part of a name>
// (case-insensitive). Empty: everything.
struct StatusFilter {
  std::string state;
  std::string query;
  bool matches(const TargetStatus& t) const;
};

// Every target of `snapshot`, by name; `incidents` may be null.
std::vector<TargetStatus> target_statuses(const telemetry::Snapshot& snapshot,
                                          const std::vector<incidents::IncidentSummary>& incidents,
                                          Clock::time_point now);

// The open incidents, then the latest closed ones up to `recent` of them, newest first.
std::vector<incidents::IncidentSummary> incident_summaries(const incidents::IncidentLog* log,
                                                           std::size_t recent);

}  // namespace pgv::http
