#include "telemetry/path.hpp"

#include <catch2/catch.hpp>

using pgv::telemetry::CheckState;
using pgv::telemetry::path_health;
using pgv::telemetry::PathTargets;
using pgv::telemetry::place_failure;
using pgv::telemetry::reaches_same_server;
using pgv::telemetry::TargetState;

namespace {

std::shared_ptr<TargetState> target(const std::string& name, const std::string& host, int port,
                                    const std::string& dbname = "app") {
  auto t = std::make_shared<TargetState>();
  t->name = name;
  t->endpoint = {host, port, dbname};
  return t;
}

void set_up(TargetState& t, bool ok, double seconds = 0.001, const std::string& reason = "") {
  CheckState& c = t.checks["connectivity"];
  c.ran = true;
  c.ok = ok;
  c.seconds = seconds;
  c.reason = reason;
}

// A pooler at 127.0.0.1:6432 sending database "app" to PostgreSQL at localhost:5433.
std::shared_ptr<TargetState> pooler() {
  auto p = target("bouncer", "127.0.0.1", 6432, "pgbouncer");
  p->kind = pgv::config::TargetKind::pgbouncer;
  auto digest = std::make_shared<pgv::probes::PoolerDigest>();
  digest->databases.push_back({"app", "localhost", 5433, "app", 2});
  p->pooler = digest;
  return p;
}

std::shared_ptr<TargetState> via_target() {
  auto t = target("app", "127.0.0.1", 6432);
  t->via = "bouncer";
  return t;
}

pgv::pg::Error::Details error(pgv::pg::Phase phase, pgv::pg::Reason reason,
                              const std::string& sqlstate = "") {
  pgv::pg::Error::Details d;
  d.phase = phase;
  d.reason = reason;
  d.sqlstate = sqlstate;
  return d;
}

}  // namespace

TEST_CASE("a direct target is one that reaches the pooler's server for the database", "[path]") {
  const auto self = via_target();
  const auto p = pooler();
  CHECK(reaches_same_server(*self, *p, *target("direct", "127.0.0.1", 5433, "postgres")));
  CHECK(reaches_same_server(*self, *p, *target("direct", "::1", 5433)));
  CHECK_FALSE(reaches_same_server(*self, *p, *target("other-port", "127.0.0.1", 5432)));
  CHECK_FALSE(reaches_same_server(*self, *p, *target("other-host", "10.0.0.9", 5433)));
  auto through = target("also-via", "127.0.0.1", 5433);
  through->via = "bouncer";
  CHECK_FALSE(reaches_same_server(*self, *p, *through));
  // Before the pooler's first SHOW DATABASES nothing can be matched.
  auto blind = pooler();
  blind->pooler = nullptr;
  CHECK_FALSE(reaches_same_server(*self, *blind, *target("direct", "127.0.0.1", 5433)));
}

TEST_CASE("a failure through a pooler is placed on the hop the evidence points at", "[path]") {
  using pgv::pg::Phase;
  using pgv::pg::Reason;
  PathTargets path{pooler(), target("direct", "127.0.0.1", 5433)};
  const auto timeout = error(Phase::query, Reason::timeout);

  SECTION("the pooler target fails too: pooler") {
    set_up(const_cast<TargetState&>(*path.pooler), false, 2, "timeout");
    set_up(const_cast<TargetState&>(*path.direct), true);
    const auto v = place_failure(path, timeout, "timed out");
    CHECK(v.hop == "pooler");
    CHECK(v.detail == "the pooler target 'bouncer' fails too (timeout)");
  }
  SECTION("the pooler answers and the direct target fails: server") {
    set_up(const_cast<TargetState&>(*path.pooler), true);
    set_up(const_cast<TargetState&>(*path.direct), false, 0, "refused");
    CHECK(place_failure(path, timeout, "timed out").hop == "server");
  }
  SECTION("the pooler answers and so does the server directly: pooler") {
    set_up(const_cast<TargetState&>(*path.pooler), true);
    set_up(const_cast<TargetState&>(*path.direct), true);
    const auto v = place_failure(path, timeout, "timed out");
    CHECK(v.hop == "pooler");
    CHECK(v.detail == "PostgreSQL answers the direct target 'direct'");
  }
  SECTION("PgBouncer saying it cannot reach the server: server, whatever else is known") {
    set_up(const_cast<TargetState&>(*path.direct), true);
    const auto v = place_failure(path, error(Phase::query, Reason::other, "08P01"),
                                 "ERROR:  pgbouncer cannot connect to server");
    CHECK(v.hop == "server");
  }
  SECTION("a PostgreSQL error relayed during a query: server") {
    CHECK(place_failure({}, error(Phase::query, Reason::shutdown, "57P01"), "terminating").hop ==
          "server");
  }
  SECTION("without a direct target: refused at the pooler's address is the pooler") {
    PathTargets alone{pooler(), nullptr};
    CHECK(place_failure(alone, error(Phase::connect, Reason::refused), "refused").hop == "pooler");
    CHECK(place_failure(alone, timeout, "timed out").hop == "unknown");
  }
}

TEST_CASE("each hop of a path is up, down or unknown, and the pooler's added latency", "[path]") {
  auto self = via_target();
  PathTargets path{pooler(), target("direct", "127.0.0.1", 5433)};
  auto& p = const_cast<TargetState&>(*path.pooler);
  auto& d = const_cast<TargetState&>(*path.direct);

  // Nothing ran yet: nothing known.
  auto h = path_health(*self, path);
  CHECK_FALSE(h.pooler_up);
  CHECK_FALSE(h.server_up);

  set_up(*self, true, 0.0030);
  set_up(p, true);
  set_up(d, true, 0.0010);
  h = path_health(*self, path);
  CHECK(h.pooler_up == true);
  CHECK(h.server_up == true);
  REQUIRE(h.added_latency_seconds);
  CHECK(*h.added_latency_seconds == Approx(0.0020));

  // A frozen pooler: its own probe fails, the server answers directly.
  set_up(*self, false);
  set_up(p, false);
  h = path_health(*self, path);
  CHECK(h.pooler_up == false);
  CHECK(h.server_up == true);
  CHECK_FALSE(h.added_latency_seconds);

  // No direct target: the server's hop is known from the path's own failures only.
  PathTargets no_direct{path.pooler, nullptr};
  set_up(p, true);
  self->checks["connectivity"].hop = "server";
  h = path_health(*self, no_direct);
  CHECK(h.pooler_up == true);
  CHECK(h.server_up == false);
  self->checks["connectivity"].hop = "unknown";
  CHECK_FALSE(path_health(*self, no_direct).server_up);
}
