// Role answers with Patroni's parameters, and /readyz's replication check, from given states.
#include "http/roles.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>

#include "http/health.hpp"

using namespace std::chrono_literals;
using pgv::Clock;
using pgv::config::LagLimit;
using pgv::http::evaluate;
using pgv::http::evaluate_role;
using pgv::http::Role;
using pgv::http::RoleQuery;
using pgv::probes::ReplicationDigest;
using pgv::telemetry::CheckState;
using pgv::telemetry::Snapshot;
using pgv::telemetry::TargetState;

namespace {

const Clock::time_point kNow = Clock::time_point{} + 1000h;

TargetState server(bool in_recovery) {
  TargetState t;
  t.name = "db";
  t.interval_seconds = 5;
  t.timeout_seconds = 2;
  t.probes = {"connectivity", "replication"};
  CheckState c;
  c.ran = true;
  c.ok = true;
  c.last_success = kNow - 1s;
  t.checks["connectivity"] = c;
  t.in_recovery = in_recovery;
  return t;
}

TargetState standby(bool streaming, double lag_bytes, double lag_seconds) {
  TargetState t = server(true);
  auto d = std::make_shared<ReplicationDigest>();
  d->in_recovery = true;
  d->receiver_streaming = streaming;
  d->receiver_status = streaming ? "streaming" : "";
  d->replay_lag_bytes = lag_bytes;
  d->replay_lag_seconds = lag_seconds;
  t.replication = d;
  return t;
}

Snapshot of(const TargetState& t) {
  return {{t.name, std::make_shared<const TargetState>(t)}};
}

RoleQuery replica(LagLimit lag = {}, bool streaming = false) {
  RoleQuery q;
  q.want = Role::replica;
  q.lag = lag;
  q.require_streaming = streaming;
  return q;
}

LagLimit bytes(double b) {
  LagLimit l;
  l.bytes = b;
  return l;
}
LagLimit seconds(double s) {
  LagLimit l;
  l.seconds = s;
  return l;
}

}  // namespace

TEST_CASE("?lag= passes a standby within the limit and fails one beyond it", "[health][role]") {
  const TargetState near = standby(true, 1000, 0.5);
  CHECK(evaluate_role(of(near), "", replica(bytes(16 << 20)), kNow).status == 200);
  CHECK(evaluate_role(of(near), "", replica(seconds(10)), kNow).status == 200);
  const TargetState far = standby(true, 64 << 20, 30);
  const auto by_bytes = evaluate_role(of(far), "", replica(bytes(16 << 20)), kNow);
  CHECK(by_bytes.status == 503);
  CHECK(by_bytes.body ==
        "db is a replica, but replay lag 67108864 bytes over limit 16777216 bytes\n");
  const auto by_time = evaluate_role(of(far), "", replica(seconds(10)), kNow);
  CHECK(by_time.status == 503);
  CHECK(by_time.body == "db is a replica, but replay lag 30.0s over limit 10.0s\n");
  // Without parameters /replica keeps its meaning.
  CHECK(evaluate_role(of(far), "", replica(), kNow).status == 200);
}

TEST_CASE("a standby that does not stream fails every lag limit and replication_state",
          "[health][role]") {
  // Its last numbers say 0: a disconnected standby must not read as caught up.
  const TargetState cut_off = standby(false, 0, 0);
  const auto a = evaluate_role(of(cut_off), "", replica(bytes(1e12)), kNow);
  CHECK(a.status == 503);
  CHECK(a.body == "db is a replica, but WAL receiver not streaming (none running)\n");
  CHECK(evaluate_role(of(cut_off), "", replica({}, true), kNow).status == 503);
  CHECK(evaluate_role(of(standby(true, 0, 0)), "", replica({}, true), kNow).status == 200);
  // No replication result at all: unknown is not healthy either.
  TargetState unknown = server(true);
  CHECK(evaluate_role(of(unknown), "", replica(bytes(1e12)), kNow).status == 503);
}

TEST_CASE("/read-only answers 200 for any reachable server", "[health][role]") {
  RoleQuery q;
  q.want = Role::read_only;
  CHECK(evaluate_role(of(server(false)), "", q, kNow).status == 200);
  CHECK(evaluate_role(of(standby(false, 0, 0)), "", q, kNow).status == 200);
  TargetState down = server(false);
  down.checks["connectivity"].ok = false;
  down.checks["connectivity"].reason = "refused";
  CHECK(evaluate_role(of(down), "", q, kNow).status == 503);
}

TEST_CASE("max_replication_lag adds a replication check to /readyz on standbys only",
          "[health][role]") {
  TargetState lagging = standby(true, 64 << 20, 1);
  lagging.pool.max = 2;
  auto readyz = [](const TargetState& t) {
    return evaluate(of(t), pgv::http::Endpoint::readyz, "", {}, kNow);
  };
  CHECK(readyz(lagging).ok);  // no limit configured: no check
  lagging.max_replication_lag = bytes(16 << 20);
  const auto r = readyz(lagging);
  CHECK_FALSE(r.ok);
  bool found = false;
  for (const auto& c : r.checks) {
    if (c.name != "db/replication") continue;
    found = true;
    CHECK_FALSE(c.ok);
    CHECK(c.detail == "replay lag 67108864 bytes over limit 16777216 bytes");
  }
  CHECK(found);
  CHECK(evaluate(of(lagging), pgv::http::Endpoint::healthz, "", {}, kNow).ok);  // liveness of data
  TargetState primary = server(false);
  primary.pool.max = 2;
  primary.max_replication_lag = bytes(16 << 20);
  CHECK(readyz(primary).ok);
}
