#include "app/check_report.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

using namespace std::chrono_literals;
using pgv::Clock;
using pgv::app::render_check_json;
using pgv::app::render_check_text;
using pgv::app::summarise;
using pgv::telemetry::CheckState;
using pgv::telemetry::FailureRecord;
using pgv::telemetry::FailureRing;
using pgv::telemetry::Snapshot;
using pgv::telemetry::TargetState;

namespace {

const Clock::time_point kNow = Clock::time_point{} + 1000h;

CheckState ok_check() {
  CheckState c;
  c.ran = true;
  c.ok = true;
  c.last_success = kNow - 1s;
  c.seconds = 0.0021;
  return c;
}

CheckState refused_check() {
  CheckState c;
  c.ran = true;
  c.ok = false;
  c.seconds = 0.0105;
  c.reason = "too_many_connections";
  c.phase = "connect";
  c.sqlstate = "53300";
  c.message = "sorry, too many clients already";
  return c;
}

TargetState target(const std::string& name, bool up, bool required = true) {
  TargetState t;
  t.name = name;
  t.required = required;
  t.interval_seconds = 5;
  t.timeout_seconds = 2;
  t.probes = {"connectivity"};
  t.checks["connectivity"] = up ? ok_check() : refused_check();
  t.pool.max = 4;
  t.pool.in_use = 1;
  t.pool.idle = 1;
  return t;
}

Snapshot snapshot_of(std::initializer_list<TargetState> targets) {
  Snapshot s;
  for (const TargetState& t : targets) s[t.name] = std::make_shared<const TargetState>(t);
  return s;
}

}  // namespace

TEST_CASE("check is healthy only when every required target is up", "[check]") {
  const FailureRing ring;
  CHECK(summarise(snapshot_of({target("a", true), target("b", true)}), ring, kNow).healthy);
  CHECK_FALSE(summarise(snapshot_of({target("a", true), target("b", false)}), ring, kNow).healthy);
  // A target that is not required may be down.
  CHECK(summarise(snapshot_of({target("a", true), target("b", false, false)}), ring, kNow).healthy);

  SECTION("a stale success is not up") {
    TargetState stale = target("a", true);
    stale.checks["connectivity"].last_success = kNow - 13s;  // limit 2 x 5 + 2 = 12 s
    const auto s = summarise(snapshot_of({stale}), ring, kNow);
    CHECK_FALSE(s.healthy);
    CHECK_FALSE(s.targets.at(0).up);
  }
  SECTION("a target that never ran is not up") {
    TargetState never = target("a", true);
    never.checks.clear();
    CHECK_FALSE(summarise(snapshot_of({never}), ring, kNow).healthy);
  }
}

TEST_CASE("check lists down targets before up targets, keeping name order otherwise", "[check]") {
  const FailureRing ring;
  const auto s = summarise(snapshot_of({target("a", true), target("b", false), target("c", true),
                                        target("d", false, false)}),
                           ring, kNow);
  REQUIRE(s.targets.size() == 4);
  CHECK(s.targets[0].state->name == "b");
  CHECK(s.targets[1].state->name == "d");
  CHECK(s.targets[2].state->name == "a");
  CHECK(s.targets[3].state->name == "c");
  CHECK_FALSE(s.targets[0].up);
  CHECK(s.targets[2].up);
}

TEST_CASE("check attaches each target's own recent failures, newest first, at most three",
          "[check]") {
  FailureRing ring;
  for (int i = 0; i < 5; ++i) {
    FailureRecord r;
    r.target = "b";
    r.message = "b-" + std::to_string(i);
    ring.push(r);
  }
  FailureRecord other;
  other.target = "a";
  ring.push(other);
  const auto s = summarise(snapshot_of({target("a", true), target("b", false)}), ring, kNow);
  REQUIRE(s.targets[0].state->name == "b");
  REQUIRE(s.targets[0].failures.size() == 3);
  CHECK(s.targets[0].failures[0].message == "b-4");
  CHECK(s.targets[0].failures[2].message == "b-2");
  CHECK(s.targets[1].failures.size() == 1);
}

TEST_CASE("check text shows a down target's failed probe with phase, reason and SQLSTATE",
          "[check]") {
  const FailureRing ring;
  TargetState primary = target("primary", true);
  primary.in_recovery = false;
  pgv::probes::ServerSettings settings;
  settings.version = "16.4";
  settings.max_connections = 100;
  primary.settings = settings;
  const auto s = summarise(snapshot_of({primary, target("replica", false)}), ring, kNow);
  const std::string text = render_check_text(s);
  INFO(text);
  CHECK_THAT(text, Catch::StartsWith("[-] replica  DOWN"));
  CHECK_THAT(text, Catch::Contains("connectivity: FAILED in connect (too many connections, "
                                   "SQLSTATE 53300) after 10.50 ms: sorry, too many clients "
                                   "already\n"));
  CHECK_THAT(text, Catch::Contains("[+] primary  up  primary  PostgreSQL 16.4  max_connections "
                                   "100  latency 2.10 ms\n"));
  CHECK_THAT(text, Catch::Contains("    agent pool: 1/4 in use, 1 idle, 0 waiting\n"));
  CHECK_THAT(text, Catch::Contains("connectivity: ok in 2.10 ms"));
  CHECK_THAT(text, Catch::EndsWith("UNHEALTHY\n"));
}

TEST_CASE("check text ends with healthy and marks targets that are not required", "[check]") {
  const FailureRing ring;
  TargetState extra = target("extra", false, false);
  extra.probes.push_back("lifecycle");  // enabled but not run
  const std::string text =
      render_check_text(summarise(snapshot_of({target("a", true), extra}), ring, kNow));
  INFO(text);
  CHECK_THAT(text, Catch::Contains("[-] extra  DOWN (not required)"));
  CHECK_THAT(text, Catch::Contains("    lifecycle: skipped\n"));
  CHECK_THAT(text, Catch::EndsWith("\nhealthy\n"));
}

TEST_CASE("check JSON parses and carries healthy and each target's state", "[check]") {
  const FailureRing ring;
  TargetState up = target("a", true);
  up.labels = {{"cluster", "main"}};
  up.in_recovery = true;
  const auto j = nlohmann::json::parse(
      render_check_json(summarise(snapshot_of({up, target("b", false)}), ring, kNow)));
  CHECK(j["healthy"] == false);
  REQUIRE(j["targets"].is_array());
  REQUIRE(j["targets"].size() == 2);
  const auto& down = j["targets"][0];
  CHECK(down["name"] == "b");
  CHECK(down["up"] == false);
  CHECK(down["required"] == true);
  CHECK(down["checks"]["connectivity"]["ok"] == false);
  CHECK(down["checks"]["connectivity"]["reason"] == "too_many_connections");
  CHECK(down["checks"]["connectivity"]["phase"] == "connect");
  CHECK(down["checks"]["connectivity"]["sqlstate"] == "53300");
  CHECK(down["pool"]["max"] == 4);
  const auto& a = j["targets"][1];
  CHECK(a["name"] == "a");
  CHECK(a["up"] == true);
  CHECK(a["labels"]["cluster"] == "main");
  CHECK(a["in_recovery"] == true);
  CHECK_FALSE(a["checks"]["connectivity"].contains("reason"));

  const auto healthy =
      nlohmann::json::parse(render_check_json(summarise(snapshot_of({up}), ring, kNow)));
  CHECK(healthy["healthy"] == true);
}
