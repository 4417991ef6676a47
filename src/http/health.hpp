#pragma once

#include <set>
#include <string>
#include <vector>

#include "telemetry/state.hpp"

namespace pgv::http {

enum class Endpoint { livez, healthz, readyz };
std::string_view to_string(Endpoint e) noexcept;

// One line of a health answer.
struct Check {
  std::string name;    // "primary", "primary/new_connection", "primary/pool", "scheduler-0"
  std::string target;  // empty for the agent's own checks
  bool ok = false;
  bool counted = true;  // false: shown for information, does not decide the status
  std::string detail;   // short reason when not ok: "connection refused", "stale: ..."
  const telemetry::CheckState* state = nullptr;  // into the snapshot the report came from
};

struct Report {
  Endpoint endpoint = Endpoint::healthz;
  bool ok = true;
  bool found = true;  // false when a requested target does not exist
  std::vector<Check> checks;
};

// healthz: each required target's connectivity succeeded and is fresh. readyz: that, plus
// each target's new_connection probe and a pool that is not exhausted. With `target`, only
// that target's checks, all counted. `exclude` drops checks by name.
Report evaluate(const telemetry::Snapshot& snapshot, Endpoint endpoint, const std::string& target,
                const std::set<std::string>& exclude, Clock::time_point now);
// livez: every scheduler thread made progress recently. Never looks at a database.
Report evaluate_liveness(const telemetry::Liveness& liveness, const std::set<std::string>& exclude,
                         Clock::time_point now);

// Kubernetes style: "ok" when passing and not verbose; otherwise "[+]name ok" /
// "[-]name failed: detail" lines and "<endpoint> check passed|failed".
std::string render_text(const Report& report, bool verbose);
std::string render_json(const Report& report, Clock::time_point now);

// The up/down check of one target (its connectivity result, fresh), named after it.
Check up_check(const telemetry::TargetState& t, Clock::time_point now);

}  // namespace pgv::http
