#pragma once

#include <memory>

#include "async/task.hpp"
#include "scheduler/target_runtime.hpp"

namespace pgv::scheduler {

// One pass over the target's due probes, in order, each under its own deadline
// (now + timeout). When connectivity fails the probes that need the pool are skipped, and
// a timeout ends the cycle: the rest would only wait out the same hang. `every_probe`
// ignores due().
async::Task<void> run_cycle(TargetRuntime& target, bool every_probe);

// Cycles forever on the target's Cadence. Ends when cancelled.
async::Task<void> run_schedule(std::shared_ptr<TargetRuntime> target, Clock::duration first_delay);

}  // namespace pgv::scheduler
