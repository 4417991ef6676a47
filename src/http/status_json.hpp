#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "http/status_view.hpp"
#include "incidents/history.hpp"
#include "incidents/record.hpp"
#include "telemetry/failures.hpp"

namespace pgv::http {

// /debug/status, the document the status page polls: per target its state, role, latency,
// saturation, pool, oldest transactions and blocking pairs, last failures and open
// incident; then the open and recent incidents. `failures` is the ring, newest first: each
// target keeps its first `failures_per_target`.
std::string status_json(const std::vector<TargetStatus>& targets,
                        const std::vector<incidents::IncidentSummary>& incidents,
                        const std::vector<telemetry::FailureRecord>& failures,
                        std::size_t failures_per_target, double now_unix);

// /debug/history without ?target: per target the recent samples' latency (seconds, null
// when none) and up (1/0) as two arrays, oldest first, for the page's sparklines.
std::string histories_json(
    const std::map<std::string, std::shared_ptr<const incidents::TargetHistory>>& histories);

// /debug/incidents: {"incidents": [summary...]}, newest first; only `target`'s if set.
std::string incident_list_json(const std::vector<incidents::IncidentSummary>& incidents,
                               const std::string& target);

}  // namespace pgv::http
