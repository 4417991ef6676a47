#pragma once

#include <optional>
#include <string>

#include "config/lag_limit.hpp"
#include "telemetry/state.hpp"

namespace pgv::http {

// Role checks for load balancers, with Patroni's parameters.
enum class Role { primary, replica, read_only };
struct RoleQuery {
  Role want = Role::primary;
  config::LagLimit lag;            // replica: 503 when further behind (?lag=16MB, ?lag=10s)
  bool require_streaming = false;  // replica: 503 unless the WAL receiver streams
};

struct RoleAnswer {
  int status = 503;
  std::string body;
};

// 200 reachable with the wanted role (read_only: either role), 404 the other role, 503 down,
// role not known, or a replica outside the query's lag or streaming demands. `target` may
// be empty when there is exactly one target; 400 when it must be named.
RoleAnswer evaluate_role(const telemetry::Snapshot& snapshot, const std::string& target,
                         const RoleQuery& query, Clock::time_point now);
// The same with only a role, as /primary and /replica without parameters.
RoleAnswer evaluate_role(const telemetry::Snapshot& snapshot, const std::string& target,
                         bool want_primary, Clock::time_point now);

// Why the standby `t` fails `limit` (or, with `require_streaming`, a receiver that does not
// stream), or nothing when it passes. Lag is what the standby itself knows: WAL received but
// not replayed, and the age of the last replayed transaction while replay is behind. A
// standby whose receiver does not stream fails any limit: how far behind its primary it is
// cannot be known, and a disconnected standby must never read as lag 0.
std::optional<std::string> lag_problem(const telemetry::TargetState& t,
                                       const config::LagLimit& limit, bool require_streaming);

}  // namespace pgv::http
