#pragma once

#include <memory>
#include <string>
#include <vector>

#include "telemetry/failures.hpp"
#include "telemetry/state.hpp"

namespace pgv::app {

struct TargetSummary {
  std::shared_ptr<const telemetry::TargetState> state;
  bool up = false;
  std::vector<telemetry::FailureRecord> failures;  // newest first, a few
};

struct CheckSummary {
  bool healthy = true;  // every required target up
  std::vector<TargetSummary> targets;
};

CheckSummary summarise(const telemetry::Snapshot& snapshot, const telemetry::FailureRing& failures,
                       Clock::time_point now);

// For a person in a terminal at 3 a.m.: one block per target, worst news first.
std::string render_check_text(const CheckSummary& summary);
std::string render_check_json(const CheckSummary& summary);

}  // namespace pgv::app
