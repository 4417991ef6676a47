#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "pg/error.hpp"
#include "telemetry/state.hpp"

// A database reached through a pooler (`via:`) is a path of two hops: the pooler, then the
// PostgreSQL server behind it. These functions say which hop a failure belongs to and how
// each hop stands, from the states of the pooler target and, when one is configured, of a
// direct target to the same server. Pure functions over published states.
namespace pgv::telemetry {

struct PathTargets {
  std::shared_ptr<const TargetState> pooler;  // the `via` target
  std::shared_ptr<const TargetState> direct;  // a database target of the same server, or none
};

// Whether `candidate` reaches, directly, the server the pooler sends `self`'s database to
// (SHOW DATABASES' host and port; localhost, 127.0.0.1 and ::1 are one host).
bool reaches_same_server(const TargetState& self, const TargetState& pooler,
                         const TargetState& candidate);

struct HopVerdict {
  std::string hop;  // pooler, server, unknown
  std::string detail;
};

// The hop a failure of `self` (reached through `path.pooler`) is placed on.
HopVerdict place_failure(const PathTargets& path, const pg::Error::Details& error,
                         std::string_view message);

struct PathHealth {
  std::optional<bool> pooler_up;
  std::optional<bool> server_up;
  std::optional<double> added_latency_seconds;
};

PathHealth path_health(const TargetState& self, const PathTargets& path);

}  // namespace pgv::telemetry
