// Which series exist when: target_info's required label, failure counters at 0 from the
// start, activity gauges that vanish when their result is not current, the lock-wait
// gauge, the liveness rule the watchdog shares with /livez, and the notify protocol.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "app/check_report.hpp"
#include "app/sd_notify.hpp"
#include "config/error.hpp"
#include "config/values.hpp"
#include "http/debug_json.hpp"
#include "telemetry/digest_json.hpp"
#include "telemetry/recorder.hpp"

using namespace std::chrono_literals;
using pgv::Clock;
using pgv::probes::ActivityDigest;
using pgv::probes::ProbeResult;
using pgv::telemetry::Metrics;
using pgv::telemetry::TargetMetrics;
using pgv::telemetry::TargetRecorder;
using pgv::telemetry::Telemetry;

namespace {

bool has_sample(const std::string& text, const std::string& prefix) {
  return text.starts_with(prefix) || text.find("\n" + prefix) != std::string::npos;
}

// Every activity-derived family, by the prefix of a sample line for target "db".
const std::vector<std::string> kActivitySeries = {
    "pgvitals_server_connections{state=\"active\",target=\"db\"}",
    "pgvitals_server_connections_by_application{application=\"api\",target=\"db\"}",
    "pgvitals_server_connection_saturation_ratio{target=\"db\"}",
    "pgvitals_server_oldest_transaction_seconds{target=\"db\"}",
    "pgvitals_server_oldest_idle_in_transaction_seconds{target=\"db\"}",
    "pgvitals_server_longest_query_seconds{target=\"db\"}",
    "pgvitals_server_blocked_sessions{target=\"db\"}",
    "pgvitals_server_waiting_sessions{target=\"db\",wait_event_type=\"Lock\"}",
    "pgvitals_server_longest_lock_wait_seconds{target=\"db\"}",
};

int activity_present(const std::string& text) {
  int n = 0;
  for (const auto& s : kActivitySeries) n += has_sample(text, s) ? 1 : 0;
  return n;
}
const int kAll = static_cast<int>(kActivitySeries.size());

ActivityDigest digest() {
  ActivityDigest a;
  a.client_backends = 3;
  a.by_state = {{"active", 3}};
  a.top_applications = {{"api", 3}};
  a.waiting_by_event_type = {{"Lock", 1}};
  a.oldest_transaction_seconds = 4.5;
  a.longest_query_seconds = 4.0;
  a.longest_lock_wait_seconds = 3.25;
  a.blocked = {{.pid = 42, .blocked_by = {41}}};
  a.max_connections = 100;
  a.reserved_connections = 3;
  return a;
}

pgv::config::TargetConfig db_config(std::vector<std::string> probes) {
  pgv::config::TargetConfig c;
  c.name = "db";
  c.required = false;
  c.interval = 1000ms;
  c.timeout = 500ms;
  c.probes = std::move(probes);
  return c;
}

ProbeResult result(const std::string& probe, bool ok) {
  ProbeResult r;
  r.probe = probe;
  r.ok = ok;
  r.started = Clock::now();
  if (probe == "activity" && ok) r.activity = std::make_shared<const ActivityDigest>(digest());
  if (!ok) {
    pgv::pg::Error::Details d;
    d.reason = pgv::pg::Reason::refused;
    r.error = d;
  }
  return r;
}

}  // namespace

TEST_CASE("target_info says whether the target is required", "[metrics][lifecycle]") {
  Metrics m;
  TargetMetrics a(m, "a", {{"cluster", "eu-1"}}, true);
  TargetMetrics b(m, "b", {}, false);
  const std::string text = m.serialize();
  INFO(text);
  CHECK(
      has_sample(text, "pgvitals_target_info{cluster=\"eu-1\",required=\"true\",target=\"a\"} 1"));
  CHECK(has_sample(text, "pgvitals_target_info{required=\"false\",target=\"b\"} 1"));
}

TEST_CASE("a label named required is refused by the configuration", "[metrics][lifecycle]") {
  CHECK_THROWS_AS(pgv::config::detail::check_label_name("targets[0].labels.required", "required"),
                  pgv::config::ConfigError);
  CHECK_NOTHROW(
      pgv::config::detail::check_label_name("targets[0].labels.requirement", "requirement"));
}

TEST_CASE("failure counters of the common reasons exist at 0 for every enabled probe",
          "[metrics][lifecycle]") {
  Metrics m;
  TargetMetrics t(m, "db", {}, true, {"connectivity", "activity"});
  const std::string text = m.serialize();
  INFO(text);
  for (const std::string probe : {"connectivity", "activity"}) {
    for (pgv::pg::Reason reason : pgv::telemetry::kCommonFailureReasons) {
      CHECK(has_sample(text, "pgvitals_probe_failures_total{probe=\"" + probe + "\",reason=\"" +
                                 std::string(pgv::pg::to_string(reason)) + "\",target=\"db\"} 0"));
    }
  }
  // Bounded: a probe that is not enabled has none, rarer reasons appear only when they occur.
  CHECK_FALSE(has_sample(text, "pgvitals_probe_failures_total{probe=\"settings\""));
  CHECK(text.find("reason=\"tls\"") == std::string::npos);
  t.probe_failures("connectivity", "tls").Increment();
  t.probe_failures("connectivity", "timeout").Increment();
  const std::string after = m.serialize();
  CHECK(has_sample(after,
                   "pgvitals_probe_failures_total{probe=\"connectivity\",reason=\"tls\","
                   "target=\"db\"} 1"));
  CHECK(has_sample(after,
                   "pgvitals_probe_failures_total{probe=\"connectivity\",reason=\"timeout\","
                   "target=\"db\"} 1"));
}

TEST_CASE("activity gauges go with clear_activity and come back with the next result",
          "[metrics][lifecycle]") {
  Metrics m;
  TargetMetrics t(m, "db", {});
  CHECK(activity_present(m.serialize()) == 0);  // never a misleading 0 before the first read
  t.set_activity(digest());
  const std::string set = m.serialize();
  INFO(set);
  CHECK(activity_present(set) == kAll);
  CHECK(has_sample(set, "pgvitals_server_longest_lock_wait_seconds{target=\"db\"} 3.25"));

  t.clear_activity();
  CHECK_FALSE(t.has_activity());
  CHECK(activity_present(m.serialize()) == 0);
  t.set_activity(digest());
  CHECK(activity_present(m.serialize()) == kAll);
}

TEST_CASE("activity gauges expire at the first rendering after their validity",
          "[metrics][lifecycle]") {
  Metrics m;
  TargetMetrics fresh(m, "fresh", {});
  TargetMetrics t(m, "db", {});
  fresh.set_activity(digest(), Clock::now() + 1h);
  t.set_activity(digest(), Clock::now() - 1ms);  // a result already past its validity
  REQUIRE(t.has_activity());
  // No one calls clear_activity (a stuck target loop could not): rendering drops them.
  const std::string text = m.serialize();
  INFO(text);
  CHECK(activity_present(text) == 0);
  CHECK(has_sample(text, "pgvitals_server_blocked_sessions{target=\"fresh\"} 1"));
  CHECK_FALSE(t.has_activity());
}

TEST_CASE("the recorder shows activity gauges only while the activity probe succeeds",
          "[metrics][lifecycle][recorder]") {
  Telemetry hub;
  TargetRecorder rec(hub, db_config({"connectivity", "activity"}));
  const pgv::pool::PoolStats pool;

  rec.record(result("connectivity", true));
  rec.record(result("activity", true));
  rec.record_cycle(0, pool);
  CHECK(activity_present(hub.metrics.serialize()) == kAll);

  SECTION("a failed activity probe removes them at once") {
    rec.record(result("connectivity", true));
    rec.record(result("activity", false));
    const std::string text = hub.metrics.serialize();
    CHECK(activity_present(text) == 0);
    // What is known about the last success stays.
    CHECK(has_sample(text,
                     "pgvitals_probe_last_success_timestamp_seconds{probe=\"activity\",target="
                     "\"db\"}"));
  }
  SECTION("a cycle that skipped it (connectivity failed) removes them at its end") {
    rec.record(result("connectivity", false));
    CHECK(activity_present(hub.metrics.serialize()) == kAll);  // still this cycle
    rec.record_cycle(0, pool);
    CHECK(activity_present(hub.metrics.serialize()) == 0);
  }
  SECTION("they come back with the next success") {
    rec.record(result("connectivity", false));
    rec.record_cycle(0, pool);
    REQUIRE(activity_present(hub.metrics.serialize()) == 0);
    rec.record(result("connectivity", true));
    rec.record(result("activity", true));
    CHECK(activity_present(hub.metrics.serialize()) == kAll);
    rec.record_cycle(0, pool);
    CHECK(activity_present(hub.metrics.serialize()) == kAll);
  }
}

TEST_CASE("liveness holds only while every thread beat within max_age", "[lifecycle][livez]") {
  const Clock::time_point now = Clock::now();
  pgv::telemetry::Liveness l;
  l.max_age = 3s;
  l.heartbeats = {now - 1s, now - 2s};
  CHECK(l.alive(now));
  l.heartbeats.push_back(now - 4s);
  CHECK_FALSE(l.alive(now));
}

TEST_CASE("the longest lock wait is in /debug/activity's JSON and pgvitals check",
          "[lifecycle][debug]") {
  const ActivityDigest a = digest();
  CHECK(pgv::telemetry::activity_to_json(a)["longest_lock_wait_seconds"] == 3.25);
  ActivityDigest none;
  CHECK(pgv::telemetry::activity_to_json(none)["longest_lock_wait_seconds"].is_null());

  auto st = std::make_shared<pgv::telemetry::TargetState>();
  st->name = "db";
  st->activity = std::make_shared<const ActivityDigest>(a);
  pgv::app::CheckSummary summary;
  summary.targets.push_back({st, true, {}});
  const std::string text = pgv::app::render_check_text(summary);
  INFO(text);
  CHECK(text.find("blocked: 1 (pid 42 by 41), longest lock wait 3.2 s; waiting: Lock 1") !=
        std::string::npos);
}

TEST_CASE("the notifier sends datagrams to NOTIFY_SOCKET and reads the watchdog period",
          "[lifecycle][systemd]") {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("pgvitals-unit-notify-" + std::to_string(::getpid()) + ".sock"))
                               .string();
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ::unlink(path.c_str());
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);

  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  ::setenv("WATCHDOG_USEC", "2000000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  {
    const pgv::app::SystemdNotifier n;
    REQUIRE(n.enabled());
    REQUIRE(n.watchdog_every());
    CHECK(*n.watchdog_every() == std::chrono::milliseconds(500));
    CHECK(n.notify("READY=1"));
    char buf[64] = {};
    const ssize_t got = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    CHECK(std::string(buf, got > 0 ? static_cast<std::size_t>(got) : 0) == "READY=1");
  }
  ::setenv("WATCHDOG_PID", "1", 1);
  CHECK_FALSE(pgv::app::SystemdNotifier().watchdog_every());
  ::unsetenv("WATCHDOG_PID");
  ::unsetenv("WATCHDOG_USEC");
  CHECK_FALSE(pgv::app::SystemdNotifier().watchdog_every());
  ::unsetenv("NOTIFY_SOCKET");
  const pgv::app::SystemdNotifier off;
  CHECK_FALSE(off.enabled());
  CHECK_FALSE(off.notify("READY=1"));
  ::close(fd);
  ::unlink(path.c_str());
}
