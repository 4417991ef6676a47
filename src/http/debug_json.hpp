#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/applications.hpp"
#include "telemetry/failures.hpp"
#include "telemetry/state.hpp"

namespace pgv::http {

// /debug/failures: newest first, everything already redacted at the source.
std::string failures_json(const std::vector<telemetry::FailureRecord>& records,
                          std::size_t capacity, std::uint64_t total);

// /debug/activity: the latest pg_stat_activity digest per target (all, or `target`).
std::string activity_json(const telemetry::Snapshot& snapshot, const std::string& target);
// Each declared application's sessions against its budget, then "other" (empty without
// budgets).
nlohmann::json applications_to_json(const probes::ActivityDigest& activity,
                                    const std::vector<config::ApplicationBudget>& budgets);

}  // namespace pgv::http
