#include "telemetry/recorder.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

using namespace std::chrono_literals;
using pgv::Clock;
using pgv::pg::Error;
using pgv::pg::Phase;
using pgv::probes::ProbeResult;
using pgv::telemetry::TargetRecorder;
using pgv::telemetry::Telemetry;

namespace {

pgv::config::TargetConfig db_config() {
  pgv::config::TargetConfig c;
  c.name = "db";
  c.labels = {{"env", "test"}};
  c.required = false;
  c.interval = std::chrono::milliseconds(3000);
  c.timeout = std::chrono::milliseconds(1500);
  c.probes = {"connectivity", "new_connection", "settings"};
  return c;
}

// The value of the sample whose name and labels are exactly `series`; NaN when absent.
double sample(const Telemetry& hub, const std::string& series) {
  std::istringstream in(hub.metrics.serialize());
  for (std::string line; std::getline(in, line);) {
    if (line.size() > series.size() && line.starts_with(series) && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::numeric_limits<double>::quiet_NaN();
}

ProbeResult failure(const std::string& probe, std::string reason, std::string sqlstate = "",
                    int backend_pid = 0) {
  ProbeResult r;
  r.probe = probe;
  r.ok = false;
  r.started = Clock::now();
  r.seconds = 0.03;
  r.add_phase("acquire", 0.001);
  r.add_phase("connect", 0.029);
  Error::Details d;
  d.phase = Phase::connect;
  d.reason = pgv::pg::Reason::other;
  for (pgv::pg::Reason known : pgv::pg::kReasons) {
    if (pgv::pg::reason_label(known, sqlstate) == reason) d.reason = known;
  }
  d.sqlstate = std::move(sqlstate);
  d.backend_pid = backend_pid;
  r.error = d;
  r.error_message = "FATAL: sorry, too many clients already";
  return r;
}

ProbeResult success(const std::string& probe) {
  ProbeResult r;
  r.probe = probe;
  r.ok = true;
  r.started = Clock::now();
  r.seconds = 0.002;
  return r;
}

std::shared_ptr<const pgv::telemetry::TargetState> published(const Telemetry& hub,
                                                             const std::string& name) {
  const auto snap = hub.state.snapshot();
  auto it = snap->find(name);
  return it == snap->end() ? nullptr : it->second;
}

}  // namespace

TEST_CASE("a recorder publishes its target's state when created and removes it when destroyed",
          "[recorder]") {
  Telemetry hub;
  auto rec = std::make_unique<TargetRecorder>(hub, db_config());
  const auto state = published(hub, "db");
  REQUIRE(state != nullptr);
  CHECK(state->name == "db");
  CHECK(state->labels.at("env") == "test");
  CHECK_FALSE(state->required);
  CHECK(state->interval_seconds == Approx(3.0));
  CHECK(state->timeout_seconds == Approx(1.5));
  CHECK(state->probes == std::vector<std::string>{"connectivity", "new_connection", "settings"});
  CHECK(state->checks.empty());
  CHECK(sample(hub, "pgvitals_target_info{env=\"test\",required=\"false\",target=\"db\"}") == 1.0);

  rec.reset();
  CHECK(published(hub, "db") == nullptr);
  CHECK(hub.state.snapshot()->empty());
  CHECK_THAT(hub.metrics.serialize(), !Catch::Contains("target=\"db\""));
}

TEST_CASE("a failed connectivity result sets up to 0, counts the reason and keeps a trace",
          "[recorder]") {
  Telemetry hub;
  TargetRecorder rec(hub, db_config());
  rec.record(failure("connectivity", "too_many_connections", "53300", 4321));

  CHECK(sample(hub, "pgvitals_up{target=\"db\"}") == 0.0);
  CHECK(sample(hub,
               "pgvitals_probe_failures_total{probe=\"connectivity\",reason=\"too_many_"
               "connections\",target=\"db\"}") == 1.0);
  rec.record(failure("connectivity", "too_many_connections", "53300", 4321));
  CHECK(sample(hub,
               "pgvitals_probe_failures_total{probe=\"connectivity\",reason=\"too_many_"
               "connections\",target=\"db\"}") == 2.0);

  REQUIRE(hub.failures.total() == 2);
  const auto traces = hub.failures.recent("db", 10);
  REQUIRE(traces.size() == 2);
  const auto& f = traces[0];
  CHECK(f.target == "db");
  CHECK(f.probe == "connectivity");
  CHECK(f.phase == "connect");
  CHECK(f.reason == "too_many_connections");
  CHECK(f.sqlstate == "53300");
  CHECK(f.backend_pid == 4321);
  CHECK(f.message == "FATAL: sorry, too many clients already");
  CHECK(f.seconds == Approx(0.03));
  CHECK(f.time_unix > 1'600'000'000);
  REQUIRE(f.phases.size() == 2);
  CHECK(f.phases[0].first == "acquire");
  CHECK(f.phases[1].first == "connect");

  const auto state = published(hub, "db");
  REQUIRE(state != nullptr);
  const auto& c = state->checks.at("connectivity");
  CHECK(c.ran);
  CHECK_FALSE(c.ok);
  CHECK(c.reason == "too_many_connections");
  CHECK(c.phase == "connect");
  CHECK(c.sqlstate == "53300");
  CHECK(c.message == "FATAL: sorry, too many clients already");
  CHECK(c.last_success_unix == 0);
}

TEST_CASE("a failure without error details is counted as reason other in phase query",
          "[recorder]") {
  Telemetry hub;
  TargetRecorder rec(hub, db_config());
  ProbeResult r = success("connectivity");
  r.ok = false;
  rec.record(r);
  CHECK(sample(hub,
               "pgvitals_probe_failures_total{probe=\"connectivity\",reason=\"other\","
               "target=\"db\"}") == 1.0);
  REQUIRE(hub.failures.recent("", 1).size() == 1);
  CHECK(hub.failures.recent("", 1)[0].phase == "query");
}

TEST_CASE("a successful connectivity result sets up to 1 and the last success", "[recorder]") {
  Telemetry hub;
  TargetRecorder rec(hub, db_config());
  rec.record(failure("connectivity", "refused"));
  const Clock::time_point before = Clock::now();
  const double before_unix = pgv::telemetry::unix_now();
  rec.record(success("connectivity"));
  const Clock::time_point after = Clock::now();

  CHECK(sample(hub, "pgvitals_up{target=\"db\"}") == 1.0);
  const auto last = sample(
      hub, "pgvitals_probe_last_success_timestamp_seconds{probe=\"connectivity\",target=\"db\"}");
  CHECK(last >= before_unix - 1);
  CHECK(last <= pgv::telemetry::unix_now() + 1);
  CHECK(
      sample(hub, "pgvitals_probe_duration_seconds_count{probe=\"connectivity\",target=\"db\"}") ==
      1.0);

  const auto state = published(hub, "db");
  REQUIRE(state != nullptr);
  const auto& c = state->checks.at("connectivity");
  CHECK(c.ok);
  CHECK(c.last_success >= before);
  CHECK(c.last_success <= after);
  CHECK(c.last_success_unix >= before_unix - 1);
  // The previous failure's details are gone once it succeeds again.
  CHECK(c.reason.empty());
  CHECK(c.phase.empty());
  CHECK(c.message.empty());
  CHECK(state->fresh("connectivity", c, Clock::now()));
  // The failure stays counted.
  CHECK(sample(hub,
               "pgvitals_probe_failures_total{probe=\"connectivity\",reason=\"refused\","
               "target=\"db\"}") == 1.0);
}

TEST_CASE("a settings result sets the server gauges and the role", "[recorder]") {
  Telemetry hub;
  TargetRecorder rec(hub, db_config());
  CHECK(std::isnan(sample(hub, "pgvitals_server_max_connections{target=\"db\"}")));

  ProbeResult r = success("settings");
  pgv::probes::ServerSettings s;
  s.version_num = 160004;
  s.version = "16.4";
  s.max_connections = 100;
  s.superuser_reserved_connections = 3;
  s.reserved_connections = 2;
  s.in_recovery = true;
  r.settings = s;
  rec.record(r);

  CHECK(sample(hub, "pgvitals_server_max_connections{target=\"db\"}") == 100.0);
  CHECK(sample(hub, "pgvitals_server_reserved_connections{target=\"db\"}") == 5.0);
  CHECK(sample(hub, "pgvitals_server_in_recovery{target=\"db\"}") == 1.0);
  CHECK(sample(hub, "pgvitals_server_version_num{target=\"db\"}") == 160004.0);
  const auto state = published(hub, "db");
  REQUIRE(state != nullptr);
  REQUIRE(state->settings.has_value());
  CHECK(state->settings->version == "16.4");
  CHECK(state->in_recovery.value_or(false));

  SECTION("connectivity's role reading updates the role afterwards") {
    ProbeResult c = success("connectivity");
    c.in_recovery = false;
    rec.record(c);
    CHECK(sample(hub, "pgvitals_server_in_recovery{target=\"db\"}") == 0.0);
    CHECK_FALSE(published(hub, "db")->in_recovery.value_or(true));
  }
}

TEST_CASE("a successful new_connection result exports its phases and connect duration",
          "[recorder]") {
  Telemetry hub;
  TargetRecorder rec(hub, db_config());
  ProbeResult r = success("new_connection");
  r.add_phase("tcp", 0.001);
  r.add_phase("auth", 0.004);
  rec.record(r);
  CHECK(sample(hub, "pgvitals_connect_phase_seconds{phase=\"tcp\",target=\"db\"}") == 0.001);
  CHECK(sample(hub, "pgvitals_connect_phase_seconds{phase=\"auth\",target=\"db\"}") == 0.004);
  CHECK(sample(hub, "pgvitals_connect_duration_seconds_count{target=\"db\"}") == 1.0);
  const auto sum = sample(hub, "pgvitals_connect_duration_seconds_sum{target=\"db\"}");
  CHECK(sum == Approx(0.005));
}

TEST_CASE("SQLSTATE 57P03 marks the target as starting until a probe succeeds", "[recorder]") {
  Telemetry hub;
  TargetRecorder rec(hub, db_config());
  rec.record(failure("connectivity", "shutdown", "57P03"));
  CHECK(published(hub, "db")->starting);
  rec.record(success("connectivity"));
  CHECK_FALSE(published(hub, "db")->starting);
}

TEST_CASE("record_cycle publishes the pool stats to state and metrics", "[recorder]") {
  Telemetry hub;
  TargetRecorder rec(hub, db_config());
  pgv::pool::PoolStats stats;
  stats.idle = 1;
  stats.in_use = 3;
  stats.waiting = 2;
  stats.max = 4;
  const double before_unix = pgv::telemetry::unix_now();
  rec.record_cycle(0.25, stats);

  const auto state = published(hub, "db");
  REQUIRE(state != nullptr);
  CHECK(state->pool.idle == 1);
  CHECK(state->pool.in_use == 3);
  CHECK(state->pool.waiting == 2);
  CHECK(state->pool.max == 4);
  CHECK(state->last_cycle_unix >= before_unix - 1);

  CHECK(sample(hub, "pgvitals_pool_connections{state=\"idle\",target=\"db\"}") == 1.0);
  CHECK(sample(hub, "pgvitals_pool_connections{state=\"in_use\",target=\"db\"}") == 3.0);
  CHECK(sample(hub, "pgvitals_pool_waiting{target=\"db\"}") == 2.0);
  CHECK(sample(hub, "pgvitals_pool_max_connections{target=\"db\"}") == 4.0);
  CHECK(sample(hub, "pgvitals_pool_saturation_ratio{target=\"db\"}") == 0.75);
  CHECK(sample(hub, "pgvitals_scheduler_lag_seconds_count{target=\"db\"}") == 1.0);
  const auto last = sample(hub, "pgvitals_scheduler_last_cycle_timestamp_seconds{target=\"db\"}");
  CHECK(last >= before_unix - 1);
}

TEST_CASE("one freshness rule: two periods plus a timeout, new_connection on its own spacing",
          "[recorder][freshness]") {
  pgv::telemetry::TargetState t;
  t.interval_seconds = 1;
  t.timeout_seconds = 0.5;
  CHECK(t.max_age_seconds("connectivity") == Approx(2.5));
  CHECK(t.max_age_seconds("activity") == Approx(2.5));
  // new_connection runs at most every 5 s, however short the interval.
  CHECK(t.max_age_seconds("new_connection") == Approx(10.5));
  t.interval_seconds = 30;
  CHECK(t.max_age_seconds("new_connection") == Approx(60.5));

  pgv::telemetry::CheckState c;
  c.ok = true;
  const auto now = Clock::now();
  c.last_success = now - std::chrono::seconds(40);
  CHECK(t.fresh("connectivity", c, now));
  c.last_success = now - std::chrono::seconds(61);
  CHECK_FALSE(t.fresh("new_connection", c, now));
  c.ok = false;
  c.last_success = now;
  CHECK_FALSE(t.fresh("connectivity", c, now));
}
