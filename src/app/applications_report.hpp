#pragma once

#include <string>

#include "telemetry/state.hpp"

namespace pgv::app {

// The declared applications of `pgvitals check` for one target, from its activity result:
// `orders-api 15/15 (pool full) · owner team-orders`, then the undeclared as `other`.
// Nothing without declared budgets or an activity result.
void render_applications(std::string& out, const telemetry::TargetState& state);

}  // namespace pgv::app
