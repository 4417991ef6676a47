#pragma once

#include <string>

#include "telemetry/state.hpp"

namespace pgv::app {

// The replication lines of `pgvitals check` for one target: receiver, lag and pause on a
// standby; each standby's state and lag and the slots with their retained WAL upstream;
// wraparound age as a share of autovacuum_freeze_max_age and of 2^31. Nothing without a
// replication result.
void render_replication(std::string& out, const telemetry::TargetState& state);

}  // namespace pgv::app
