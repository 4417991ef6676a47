#pragma once

#include <nlohmann/json.hpp>

#include "probes/pooler_digest.hpp"

namespace pgv::http {

// A PgBouncer target's digest as /debug/activity and `pgvitals check --format json` show
// it: pools, per-database totals and client connections.
nlohmann::json pooler_to_json(const probes::PoolerDigest& pooler);

}  // namespace pgv::http
