#pragma once

#include <nlohmann/json.hpp>

#include "probes/result.hpp"
#include "telemetry/failures.hpp"

namespace pgv::telemetry {

// The JSON form of an activity digest and of a failure trace, shared by /debug/activity,
// /debug/failures and incident records; the readers take back what the writers wrote
// (incident files are read again after a restart and by `check --incident`).
// A missing key (or one of another type) reads as empty; returns a reference, not a
// temporary, so range-for over it is safe.
const nlohmann::json& list_at(const nlohmann::json& j, const char* key);
const nlohmann::json& map_at(const nlohmann::json& j, const char* key);

nlohmann::json activity_to_json(const probes::ActivityDigest& activity);
probes::ActivityDigest activity_from_json(const nlohmann::json& j);
nlohmann::json failure_to_json(const FailureRecord& record);
FailureRecord failure_from_json(const nlohmann::json& j);

}  // namespace pgv::telemetry
