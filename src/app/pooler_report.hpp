#pragma once

#include <string>

#include "telemetry/state.hpp"

namespace pgv::app {

// The PgBouncer lines of `pgvitals check` for a `kind: pgbouncer` target: client
// connections against max_client_conn, then each pool's clients, waits and server
// connections against its pool size. Nothing without a pooler result.
void render_pooler(std::string& out, const telemetry::TargetState& state);

}  // namespace pgv::app
