#pragma once

#include <nlohmann/json.hpp>

#include "probes/replication_digest.hpp"

namespace pgv::http {

// The replication digest as /debug/activity and `pgvitals check --format json` show it:
// unknown values are null, never 0.
nlohmann::json replication_to_json(const probes::ReplicationDigest& replication);

}  // namespace pgv::http
