#pragma once

#include "telemetry/failures.hpp"
#include "telemetry/state.hpp"
#include "telemetry/target_metrics.hpp"

namespace pgv::telemetry {

// What the scheduler writes and HTTP reads: metrics, the latest state per target, and the
// recent failures. Outlives every target and the HTTP server.
struct Telemetry {
  Metrics metrics;
  StateStore state;
  FailureRing failures;
};

}  // namespace pgv::telemetry
