#include "http/roles.hpp"

#include <cstdio>

#include "http/health.hpp"

namespace pgv::http {

std::optional<std::string> lag_problem(const telemetry::TargetState& t,
                                       const config::LagLimit& limit, bool require_streaming) {
  if (!limit.set() && !require_streaming) return std::nullopt;
  const probes::ReplicationDigest* d = t.replication.get();
  if (d == nullptr) return "replication state not known (replication probe has no result)";
  if (!d->receiver_streaming) return "WAL receiver state not visible (needs pg_monitor)";
  if (!*d->receiver_streaming) {
    return "WAL receiver not streaming (" +
           (d->receiver_status.empty() ? std::string("none running") : d->receiver_status) + ")";
  }
  char buf[128];
  if (limit.bytes) {
    if (!d->replay_lag_bytes) return "replay lag in bytes not known";
    if (*d->replay_lag_bytes > *limit.bytes) {
      std::snprintf(buf, sizeof buf, "replay lag %.0f bytes over limit %.0f bytes",
                    *d->replay_lag_bytes, *limit.bytes);
      return std::string(buf);
    }
  }
  if (limit.seconds) {
    if (!d->replay_lag_seconds) return "replay lag in seconds not known";
    if (*d->replay_lag_seconds > *limit.seconds) {
      std::snprintf(buf, sizeof buf, "replay lag %.1fs over limit %.1fs", *d->replay_lag_seconds,
                    *limit.seconds);
      return std::string(buf);
    }
  }
  return std::nullopt;
}

RoleAnswer evaluate_role(const telemetry::Snapshot& snapshot, const std::string& target,
                         const RoleQuery& query, Clock::time_point now) {
  const telemetry::TargetState* t = nullptr;
  if (target.empty()) {
    if (snapshot.size() != 1) {
      return {400, "several targets are watched: name one with ?target=\n"};
    }
    t = snapshot.begin()->second.get();
  } else {
    auto it = snapshot.find(target);
    if (it == snapshot.end()) return {404, "unknown target\n"};
    t = it->second.get();
  }
  const Check c = up_check(*t, now);
  if (!c.ok) return {503, t->name + " is down: " + c.detail + "\n"};
  if (!t->in_recovery) return {503, t->name + ": role not known yet\n"};
  const bool primary = !*t->in_recovery;
  const char* role = primary ? "primary" : "replica";
  if (query.want == Role::read_only) return {200, t->name + " is a reachable " + role + "\n"};
  if (primary != (query.want == Role::primary)) return {404, t->name + " is a " + role + "\n"};
  if (query.want == Role::replica) {
    if (const auto problem = lag_problem(*t, query.lag, query.require_streaming)) {
      return {503, t->name + " is a replica, but " + *problem + "\n"};
    }
  }
  return {200, t->name + " is a reachable " + role + "\n"};
}

RoleAnswer evaluate_role(const telemetry::Snapshot& snapshot, const std::string& target,
                         bool want_primary, Clock::time_point now) {
  RoleQuery query;
  query.want = want_primary ? Role::primary : Role::replica;
  return evaluate_role(snapshot, target, query, now);
}

}  // namespace pgv::http
