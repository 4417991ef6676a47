#include "http/health.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "http/roles.hpp"

using namespace std::chrono_literals;
using pgv::Clock;
using pgv::http::Endpoint;
using pgv::http::evaluate;
using pgv::http::evaluate_liveness;
using pgv::http::evaluate_role;
using pgv::http::render_json;
using pgv::http::render_text;
using pgv::http::Report;
using pgv::pg::describe_reason;
using pgv::telemetry::CheckState;
using pgv::telemetry::Liveness;
using pgv::telemetry::Snapshot;
using pgv::telemetry::TargetState;

namespace {

// A fixed "now", far from the clock's epoch so that "age" arithmetic never underflows.
const Clock::time_point kNow = Clock::time_point{} + 1000h;

CheckState succeeded(Clock::duration age) {
  CheckState c;
  c.ran = true;
  c.ok = true;
  c.last_run_unix = 1'700'000'000;
  c.last_success_unix = 1'700'000'000;
  c.last_success = kNow - age;
  c.seconds = 0.0012;
  return c;
}

CheckState failed(std::string reason, std::string phase = "connect", std::string sqlstate = "",
                  std::string message = "boom") {
  CheckState c;
  c.ran = true;
  c.ok = false;
  c.last_run_unix = 1'700'000'000;
  c.seconds = 0.5;
  c.reason = std::move(reason);
  c.phase = std::move(phase);
  c.sqlstate = std::move(sqlstate);
  c.message = std::move(message);
  return c;
}

// interval 5 s, timeout 2 s: connectivity is fresh up to 12 s after its last success.
TargetState healthy(const std::string& name, bool required = true) {
  TargetState t;
  t.name = name;
  t.required = required;
  t.interval_seconds = 5;
  t.timeout_seconds = 2;
  t.probes = {"connectivity"};
  t.checks["connectivity"] = succeeded(1s);
  t.pool.max = 4;
  t.pool.idle = 1;
  return t;
}

Snapshot snapshot_of(std::initializer_list<TargetState> targets) {
  Snapshot s;
  for (const TargetState& t : targets) s[t.name] = std::make_shared<const TargetState>(t);
  return s;
}

Report healthz(const Snapshot& s, const std::set<std::string>& exclude = {}) {
  return evaluate(s, Endpoint::healthz, "", exclude, kNow);
}
Report readyz(const Snapshot& s, const std::set<std::string>& exclude = {}) {
  return evaluate(s, Endpoint::readyz, "", exclude, kNow);
}

const pgv::http::Check* find_check(const Report& r, const std::string& name) {
  for (const auto& c : r.checks) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("healthz answers a plain ok when every required target is up and fresh", "[health]") {
  const Snapshot s = snapshot_of({healthy("primary"), healthy("replica")});
  const Report r = healthz(s);
  CHECK(r.ok);
  CHECK(r.found);
  CHECK(r.checks.size() == 2);
  CHECK(render_text(r, false) == "ok");
}

TEST_CASE("healthz verbose lists one [+] line per check and ends with 'check passed'", "[health]") {
  const Snapshot s = snapshot_of({healthy("primary"), healthy("replica")});
  CHECK(render_text(healthz(s), true) ==
        "[+]primary ok\n"
        "[+]replica ok\n"
        "healthz check passed\n");
}

TEST_CASE("healthz fails when a required target's connectivity failed and still lists checks",
          "[health]") {
  TargetState down = healthy("replica");
  down.checks["connectivity"] = failed("refused");
  const Snapshot s = snapshot_of({healthy("primary"), down});
  const Report r = healthz(s);
  CHECK_FALSE(r.ok);
  const std::string expected =
      "[+]primary ok\n"
      "[-]replica failed: connection refused\n"
      "healthz check failed\n";
  // A failing answer is never a bare "failed": the lines say what is wrong.
  CHECK(render_text(r, false) == expected);
  CHECK(render_text(r, true) == expected);
}

TEST_CASE("healthz fails when a required target's last success is stale", "[health]") {
  TargetState t = healthy("db");
  SECTION("exactly at the limit (2 x interval + timeout) is still fresh") {
    t.checks["connectivity"] = succeeded(12s);
    CHECK(healthz(snapshot_of({t})).ok);
  }
  SECTION("past the limit is stale") {
    t.checks["connectivity"] = succeeded(12s + 100ms);
    const Snapshot s = snapshot_of({t});
    const Report r = healthz(s);
    CHECK_FALSE(r.ok);
    REQUIRE(r.checks.size() == 1);
    CHECK_FALSE(r.checks[0].ok);
    CHECK_THAT(r.checks[0].detail, Catch::StartsWith("stale"));
    CHECK_THAT(render_text(r, false), Catch::Contains("[-]db failed: stale"));
  }
  SECTION("a success at the clock's epoch (never set) is stale") {
    t.checks["connectivity"].last_success = Clock::time_point{};
    CHECK_FALSE(healthz(snapshot_of({t})).ok);
  }
}

TEST_CASE("healthz reports 'no result yet' for a probe that has not run", "[health]") {
  TargetState t = healthy("db");
  SECTION("no entry at all") {
    t.checks.clear();
  }
  SECTION("an entry that has not run") {
    t.checks["connectivity"] = CheckState{};
  }
  const Snapshot s = snapshot_of({t});
  const Report r = healthz(s);
  CHECK_FALSE(r.ok);
  REQUIRE(r.checks.size() == 1);
  CHECK(r.checks[0].detail == "no result yet");
  CHECK(r.checks[0].state == nullptr);
}

TEST_CASE("a non-required target's failure does not fail healthz but is shown as not counted",
          "[health]") {
  TargetState optional = healthy("analytics", false);
  optional.checks["connectivity"] = failed("timeout");
  const Snapshot s = snapshot_of({healthy("primary"), optional});
  const Report r = healthz(s);
  CHECK(r.ok);
  const auto* c = find_check(r, "analytics");
  REQUIRE(c != nullptr);
  CHECK_FALSE(c->counted);
  CHECK(render_text(r, true) ==
        "[-]analytics failed: timed out (not counted)\n"
        "[+]primary ok\n"
        "healthz check passed\n");
}

TEST_CASE("a failing new_connection probe is shown by healthz but counted only by readyz",
          "[health]") {
  TargetState t = healthy("db");
  t.probes = {"connectivity", "new_connection"};
  t.checks["new_connection"] = failed("too_many_connections", "connect", "53300");
  const Snapshot s = snapshot_of({t});

  const Report h = healthz(s);
  CHECK(h.ok);
  const auto* hc = find_check(h, "db/new_connection");
  REQUIRE(hc != nullptr);
  CHECK_FALSE(hc->counted);
  CHECK_THAT(render_text(h, true),
             Catch::Contains("[-]db/new_connection failed: too many connections (not counted)"));

  const Report r = readyz(s);
  CHECK_FALSE(r.ok);
  const auto* rc = find_check(r, "db/new_connection");
  REQUIRE(rc != nullptr);
  CHECK(rc->counted);
  CHECK_THAT(render_text(r, false),
             Catch::Contains("[-]db/new_connection failed: too many connections\n"));
  CHECK_THAT(render_text(r, false), Catch::EndsWith("readyz check failed\n"));
}

TEST_CASE("new_connection freshness uses a period of at least 5 seconds", "[health]") {
  TargetState t = healthy("db");
  t.interval_seconds = 1;
  t.timeout_seconds = 1;  // connectivity limit 3 s; new_connection limit 2 x 5 + 1 = 11 s
  t.probes = {"connectivity", "new_connection"};
  t.checks["connectivity"] = succeeded(1s);
  SECTION("8 s old is fresh for new_connection") {
    t.checks["new_connection"] = succeeded(8s);
    CHECK(readyz(snapshot_of({t})).ok);
  }
  SECTION("12 s old is stale for new_connection") {
    t.checks["new_connection"] = succeeded(12s);
    const Snapshot s = snapshot_of({t});
    const Report r = readyz(s);
    CHECK_FALSE(r.ok);
    const auto* c = find_check(r, "db/new_connection");
    REQUIRE(c != nullptr);
    CHECK_THAT(c->detail, Catch::StartsWith("stale"));
  }
  SECTION("connectivity keeps the plain interval: 4 s old is stale") {
    t.checks["connectivity"] = succeeded(4s);
    t.checks["new_connection"] = succeeded(1s);
    CHECK_FALSE(healthz(snapshot_of({t})).ok);
  }
}

TEST_CASE("an exhausted pool with waiters fails readyz but not healthz", "[health]") {
  TargetState t = healthy("db");
  t.pool.max = 4;
  t.pool.in_use = 4;
  t.pool.idle = 0;
  SECTION("all slots taken and someone waiting: exhausted") {
    t.pool.waiting = 1;
    const Snapshot s = snapshot_of({t});
    CHECK(healthz(s).ok);
    CHECK(find_check(healthz(s), "db/pool") == nullptr);
    const Report r = readyz(s);
    CHECK_FALSE(r.ok);
    const auto* c = find_check(r, "db/pool");
    REQUIRE(c != nullptr);
    CHECK(c->detail == "pool exhausted");
    CHECK_THAT(render_text(r, false), Catch::Contains("[-]db/pool failed: pool exhausted"));
  }
  SECTION("all slots taken but nobody waiting: busy, not exhausted") {
    t.pool.waiting = 0;
    const Snapshot s = snapshot_of({t});
    const Report r = readyz(s);
    CHECK(r.ok);
    CHECK(render_text(r, true) ==
          "[+]db ok\n"
          "[+]db/pool ok\n"
          "readyz check passed\n");
  }
}

TEST_CASE("evaluating one target counts it even when it is not required", "[health]") {
  TargetState optional = healthy("analytics", false);
  optional.checks["connectivity"] = failed("auth");
  const Snapshot s = snapshot_of({healthy("primary"), optional});
  const Report r = evaluate(s, Endpoint::healthz, "analytics", {}, kNow);
  CHECK(r.found);
  CHECK_FALSE(r.ok);
  REQUIRE(r.checks.size() == 1);
  CHECK(r.checks[0].counted);
  CHECK(render_text(r, true) ==
        "[-]analytics failed: authentication failed\n"
        "healthz check failed\n");
  // The other target is not part of the answer.
  CHECK(evaluate(s, Endpoint::healthz, "primary", {}, kNow).checks.size() == 1);
}

TEST_CASE("evaluating an unknown target answers not found", "[health]") {
  const Snapshot s = snapshot_of({healthy("primary")});
  const Report r = evaluate(s, Endpoint::healthz, "nope", {}, kNow);
  CHECK_FALSE(r.found);
  CHECK_FALSE(r.ok);
  CHECK(r.checks.empty());
  CHECK(render_text(r, true) == "unknown target\n");
  const auto j = nlohmann::json::parse(render_json(r, kNow));
  CHECK(j["status"] == "failed");
  CHECK(j["error"] == "unknown target");
}

TEST_CASE("exclude drops a check by name so its failure no longer counts", "[health]") {
  TargetState down = healthy("replica");
  down.checks["connectivity"] = failed("refused");
  const Snapshot s = snapshot_of({healthy("primary"), down});
  REQUIRE_FALSE(healthz(s).ok);
  const Report r = healthz(s, {"replica"});
  CHECK(r.ok);
  REQUIRE(r.checks.size() == 1);
  CHECK(r.checks[0].name == "primary");
  // Excluding a name that matches nothing changes nothing.
  CHECK_FALSE(healthz(s, {"replica/pool"}).ok);
}

TEST_CASE("health JSON has status, endpoint and each failed check's last error", "[health]") {
  TargetState down = healthy("replica");
  down.checks["connectivity"] =
      failed("sqlstate_3D", "connect", "3D000", "database \"x\" does not exist");
  const Snapshot s = snapshot_of({healthy("primary"), down});
  const auto j = nlohmann::json::parse(render_json(healthz(s), kNow));
  CHECK(j["status"] == "failed");
  CHECK(j["endpoint"] == "healthz");
  REQUIRE(j["checks"].is_array());
  REQUIRE(j["checks"].size() == 2);

  const auto& up = j["checks"][0];
  CHECK(up["name"] == "primary");
  CHECK(up["ok"] == true);
  CHECK(up["counted"] == true);
  CHECK(up["last_success"] == 1'700'000'000);
  CHECK(up["age_seconds"].get<double>() == Approx(1.0));
  CHECK_FALSE(up.contains("last_error"));
  CHECK_FALSE(up.contains("detail"));

  const auto& bad = j["checks"][1];
  CHECK(bad["name"] == "replica");
  CHECK(bad["target"] == "replica");
  CHECK(bad["ok"] == false);
  CHECK(bad["detail"] == "SQLSTATE class 3D");
  CHECK(bad["last_success"].is_null());
  REQUIRE(bad.contains("last_error"));
  CHECK(bad["last_error"]["reason"] == "sqlstate_3D");
  CHECK(bad["last_error"]["phase"] == "connect");
  CHECK(bad["last_error"]["sqlstate"] == "3D000");
  CHECK(bad["last_error"]["message"] == "database \"x\" does not exist");

  const auto ok = nlohmann::json::parse(render_json(readyz(snapshot_of({healthy("a")})), kNow));
  CHECK(ok["status"] == "ok");
  CHECK(ok["endpoint"] == "readyz");
}

TEST_CASE("a target whose server is starting up is described as such", "[health]") {
  TargetState t = healthy("db");
  t.checks["connectivity"] = failed("shutdown", "connect", "57P03");
  t.starting = true;
  const Snapshot s = snapshot_of({t});
  CHECK_THAT(render_text(healthz(s), false),
             Catch::Contains("[-]db failed: server is starting up"));
}

TEST_CASE("livez fails when a scheduler heartbeat is older than max_age", "[health]") {
  Liveness l;
  l.max_age = 15s;
  l.heartbeats = {kNow - 1s, kNow - 15s};
  SECTION("every scheduler within max_age passes") {
    const Report r = evaluate_liveness(l, {}, kNow);
    CHECK(r.ok);
    CHECK(r.endpoint == Endpoint::livez);
    CHECK(render_text(r, true) ==
          "[+]scheduler-0 ok\n"
          "[+]scheduler-1 ok\n"
          "livez check passed\n");
  }
  SECTION("one stalled scheduler fails livez") {
    l.heartbeats[1] = kNow - 16s;
    const Report r = evaluate_liveness(l, {}, kNow);
    CHECK_FALSE(r.ok);
    CHECK(render_text(r, false) ==
          "[+]scheduler-0 ok\n"
          "[-]scheduler-1 failed: no progress for 16.0s\n"
          "livez check failed\n");
    CHECK(evaluate_liveness(l, {"scheduler-1"}, kNow).ok);
  }
}

TEST_CASE("role check answers 200 for the wanted role and 404 for the other", "[health][role]") {
  TargetState primary = healthy("db");
  primary.in_recovery = false;
  TargetState replica = healthy("db");
  replica.in_recovery = true;

  const auto p = evaluate_role(snapshot_of({primary}), "", true, kNow);
  CHECK(p.status == 200);
  CHECK(p.body == "db is a reachable primary\n");
  CHECK(evaluate_role(snapshot_of({primary}), "", false, kNow).status == 404);

  const auto r = evaluate_role(snapshot_of({replica}), "", false, kNow);
  CHECK(r.status == 200);
  CHECK(r.body == "db is a reachable replica\n");
  const auto rp = evaluate_role(snapshot_of({replica}), "", true, kNow);
  CHECK(rp.status == 404);
  CHECK(rp.body == "db is a replica\n");
}

TEST_CASE("role check answers 503 when the target is down, stale or its role is unknown",
          "[health][role]") {
  TargetState t = healthy("db");
  t.in_recovery = false;
  SECTION("down") {
    t.checks["connectivity"] = failed("refused");
    const auto a = evaluate_role(snapshot_of({t}), "db", true, kNow);
    CHECK(a.status == 503);
    CHECK(a.body == "db is down: connection refused\n");
  }
  SECTION("stale") {
    t.checks["connectivity"] = succeeded(60s);
    CHECK(evaluate_role(snapshot_of({t}), "db", true, kNow).status == 503);
  }
  SECTION("role not read yet") {
    t.in_recovery.reset();
    CHECK(evaluate_role(snapshot_of({t}), "db", true, kNow).status == 503);
    CHECK(evaluate_role(snapshot_of({t}), "db", false, kNow).status == 503);
  }
}

TEST_CASE("role check needs a target name among several and 404s an unknown one",
          "[health][role]") {
  TargetState primary = healthy("a");
  primary.in_recovery = false;
  TargetState replica = healthy("b");
  replica.in_recovery = true;
  const Snapshot s = snapshot_of({primary, replica});
  CHECK(evaluate_role(s, "", true, kNow).status == 400);
  const auto unknown = evaluate_role(s, "c", true, kNow);
  CHECK(unknown.status == 404);
  CHECK(unknown.body == "unknown target\n");
  CHECK(evaluate_role(s, "a", true, kNow).status == 200);
  CHECK(evaluate_role(s, "b", true, kNow).status == 404);
  CHECK(evaluate_role(s, "b", false, kNow).status == 200);
}

TEST_CASE("describe_reason turns reason labels into short phrases", "[health]") {
  CHECK(describe_reason("timeout") == "timed out");
  CHECK(describe_reason("refused") == "connection refused");
  CHECK(describe_reason("auth") == "authentication failed");
  CHECK(describe_reason("too_many_connections") == "too many connections");
  CHECK(describe_reason("shutdown") == "server shut down or ended the session");
  CHECK(describe_reason("sqlstate_42") == "SQLSTATE class 42");
  CHECK(describe_reason("") == "failed");
  CHECK(describe_reason("other") == "other");
}
