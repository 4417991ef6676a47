// The scheduler's timing with a fake clock (Cadence, first_delay are pure functions of the
// times they are given), and its reload with real targets whose database refuses at once.
#include "scheduler/scheduler.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <limits>
#include <set>
#include <sstream>
#include <string>

#include "config/dsn.hpp"
#include "helpers.hpp"
#include "scheduler/cadence.hpp"

using namespace std::chrono_literals;
using pgv::Clock;
using pgv::scheduler::Cadence;
using pgv::scheduler::first_delay;

namespace {

constexpr Clock::duration kInterval = 1s;
const Clock::time_point kStart = Clock::time_point() + 1000h;  // the fake clock's "now"

}  // namespace

TEST_CASE("cycles on time start one interval apart with no lag", "[scheduler]") {
  Cadence cadence(kStart, 300ms, kInterval);
  CHECK(cadence.next() == kStart + 300ms);
  for (int i = 0; i < 5; ++i) {
    const Clock::time_point woke = cadence.next();
    CHECK(cadence.lag(woke) == 0.0);
    cadence.finished(woke + 200ms);  // a cycle well inside its interval
    CHECK(cadence.next() == woke + kInterval);
  }
}

TEST_CASE("an overrun cycle is followed at once, and the next start records its lag",
          "[scheduler]") {
  Cadence cadence(kStart, 0ms, kInterval);
  CHECK(cadence.lag(kStart) == 0.0);
  cadence.finished(kStart + 2500ms);  // ran 2.5 intervals
  // No tick skipped, no wait: the next cycle starts when this one ended...
  CHECK(cadence.next() == kStart + 2500ms);
  // ...and is 1.5 s late against the schedule, which is what the lag histogram gets.
  CHECK(cadence.lag(cadence.next()) == Approx(1.5));
  cadence.finished(kStart + 2600ms);
  // Back to a whole interval after the late start, on time again.
  CHECK(cadence.next() == kStart + 3500ms);
  CHECK(cadence.lag(cadence.next()) == 0.0);
}

TEST_CASE("a late wake-up is lag even without an overrun", "[scheduler]") {
  Cadence cadence(kStart, 0ms, kInterval);
  cadence.finished(kStart + 10ms);
  CHECK(cadence.lag(kStart + 1250ms) == Approx(0.25));
}

TEST_CASE("one target starts at once, and many spread their first cycles over one interval",
          "[scheduler]") {
  CHECK(first_delay("only", kInterval, 1) == Clock::duration::zero());

  constexpr int kTargets = 200;
  constexpr int kSlices = 10;
  int per_slice[kSlices] = {};
  std::set<Clock::duration> distinct;
  for (int i = 0; i < kTargets; ++i) {
    const std::string name = "db-" + std::to_string(i);
    const Clock::duration d = first_delay(name, kInterval, kTargets);
    REQUIRE(d >= Clock::duration::zero());
    REQUIRE(d < kInterval);
    // Stable: a restart or a reload puts the target at the same offset.
    CHECK(first_delay(name, kInterval, kTargets) == d);
    distinct.insert(d);
    ++per_slice[d * kSlices / kInterval];
  }
  CHECK(distinct.size() > kTargets * 9 / 10);
  // 20 a slice on average; a stampede would put most of them in one.
  for (int count : per_slice) CHECK(count <= 2 * kTargets / kSlices);
}

namespace {

pgv::config::TargetConfig refused_target(const std::string& name, const std::string& zone) {
  pgv::config::TargetConfig t;
  t.name = name;
  // Port 1 on loopback: refused at once, so every cycle fails fast and is counted.
  t.dsn = pgv::config::parse_dsn("postgresql://pgvitals@127.0.0.1:1/postgres");
  t.labels = {{"zone", zone}};
  t.required = false;
  t.interval = 30ms;
  t.timeout = 25ms;
  t.probes = {"connectivity"};
  return t;
}

// Every sample line of `family` for target `target`.
std::vector<std::string> series(const pgv::telemetry::Telemetry& hub, const std::string& family,
                                const std::string& target) {
  std::vector<std::string> out;
  std::istringstream in(hub.metrics.serialize());
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(family + "{") &&
        line.find("target=\"" + target + "\"") != std::string::npos) {
      out.push_back(line);
    }
  }
  return out;
}

double refusals(const pgv::telemetry::Telemetry& hub, const std::string& target) {
  for (const auto& line : series(hub, "pgvitals_probe_failures_total", target)) {
    if (line.find("reason=\"refused\"") != std::string::npos) {
      return std::stod(line.substr(line.rfind(' ') + 1));
    }
  }
  return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

TEST_CASE("a reload keeps unchanged targets running and replaces changed ones whole",
          "[scheduler]") {
  pgv::telemetry::Telemetry hub;
  pgv::scheduler::Scheduler scheduler(hub, 2);
  pgv::config::AgentConfig config;
  config.targets = {refused_target("kept", "a"), refused_target("changed", "a"),
                    refused_target("removed", "a")};
  scheduler.apply(config);
  REQUIRE(scheduler.target_count() == 3);
  for (const char* name : {"kept", "changed", "removed"}) {
    REQUIRE(pgv::testing::eventually([&] { return refusals(hub, name) >= 3; }, 10s));
  }

  config.targets = {refused_target("kept", "a"), refused_target("changed", "b")};
  scheduler.apply(config);
  const double kept_after = refusals(hub, "kept");
  const double changed_after = refusals(hub, "changed");
  CHECK(scheduler.target_count() == 2);
  // Kept: the same counter goes on; a restart would have begun again from 0.
  CHECK(kept_after >= 3);
  // Replaced: the old target's series went before the new one's came, so the counter
  // starts again (a cycle or so at most) and the info series carries only the new labels.
  CHECK(changed_after < 3);
  const auto info = series(hub, "pgvitals_target_info", "changed");
  REQUIRE(info.size() == 1);
  CHECK(info.front().find("zone=\"b\"") != std::string::npos);
  // Removed: nothing of it is left.
  CHECK(series(hub, "pgvitals_target_info", "removed").empty());
  CHECK(series(hub, "pgvitals_probe_failures_total", "removed").empty());
  CHECK(series(hub, "pgvitals_up", "removed").empty());
  // And the kept target keeps cycling after the reload.
  CHECK(pgv::testing::eventually([&] { return refusals(hub, "kept") > kept_after + 2; }, 10s));
}
