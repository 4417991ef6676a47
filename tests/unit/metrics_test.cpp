#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "telemetry/target_metrics.hpp"

using pgv::telemetry::Metrics;
using pgv::telemetry::TargetMetrics;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Sample lines (not HELP/TYPE) that contain `needle`.
std::size_t count_samples(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (const std::string& line : lines_of(text)) {
    if (!line.starts_with("#") && line.find(needle) != std::string::npos) ++n;
  }
  return n;
}

bool has_sample(const std::string& text, const std::string& series_prefix) {
  for (const std::string& line : lines_of(text)) {
    if (line.starts_with(series_prefix)) return true;
  }
  return false;
}

// Touches every lazily created series too, so "all series" really means all.
void exercise(TargetMetrics& t) {
  t.up().Set(1);
  t.probe_duration("connectivity").Observe(0.002);
  t.probe_failures("connectivity", "timeout").Increment();
  t.probe_last_success("connectivity").Set(1'700'000'000);
  t.connect_phase("tcp").Set(0.001);
  t.connect_duration().Observe(0.01);
  pgv::pool::PoolStats stats;
  stats.idle = 1;
  stats.in_use = 1;
  stats.max = 4;
  t.set_pool(stats);
  t.set_server(100, 3, false, 160004);
  t.last_cycle().Set(1'700'000'000);
  t.schedule_lag().Observe(0.001);
  t.on_acquire(0.0001);
  t.on_timeout();
  t.on_close(pgv::pool::CloseReason::recycled);
}

}  // namespace

TEST_CASE("target series carry target=<name> and target_info carries the user labels",
          "[metrics]") {
  Metrics m;
  TargetMetrics t(m, "orders-db", {{"cluster", "eu-1"}, {"role", "primary"}});
  t.up().Set(1);
  const std::string text = m.serialize();
  INFO(text);
  CHECK(has_sample(text, "pgvitals_up{target=\"orders-db\"} 1"));
  CHECK(has_sample(text,
                   "pgvitals_target_info{cluster=\"eu-1\",required=\"true\",role=\"primary\","
                   "target=\"orders-db\"} "
                   "1"));
  CHECK(has_sample(text, "pgvitals_pool_connections{state=\"idle\",target=\"orders-db\"}"));
  CHECK(has_sample(text, "pgvitals_pool_connections{state=\"in_use\",target=\"orders-db\"}"));
  CHECK(has_sample(
      text, "pgvitals_pool_connections_closed_total{reason=\"invalidated\",target=\"orders-db\"}"));
  // Every sample line of a per-target family names the target.
  for (const std::string& line : lines_of(text)) {
    if (line.starts_with("pgvitals_") && !line.starts_with("pgvitals_build_info")) {
      CHECK_THAT(line, Catch::Contains("target=\"orders-db\""));
    }
  }
}

TEST_CASE("destroying a target's metrics removes all its series and keeps other targets'",
          "[metrics]") {
  Metrics m;
  TargetMetrics keep(m, "keep", {{"team", "a"}});
  exercise(keep);
  auto gone =
      std::make_unique<TargetMetrics>(m, "gone", std::map<std::string, std::string>{{"team", "b"}});
  exercise(*gone);

  const std::string before = m.serialize();
  const std::size_t kept_series = count_samples(before, "target=\"keep\"");
  REQUIRE(count_samples(before, "target=\"gone\"") == kept_series);
  REQUIRE(kept_series > 30);
  REQUIRE(has_sample(before, "pgvitals_server_max_connections{target=\"gone\"} 100"));

  gone.reset();
  const std::string after = m.serialize();
  INFO(after);
  CHECK(count_samples(after, "target=\"gone\"") == 0);
  CHECK(count_samples(after, "target=\"keep\"") == kept_series);
  CHECK(has_sample(after, "pgvitals_build_info{"));
}

TEST_CASE("serialize includes build_info and the process metrics", "[metrics]") {
  Metrics m;
  const std::string text = m.serialize();
  INFO(text);
  CHECK(has_sample(text, "pgvitals_build_info{version=\""));
  CHECK(has_sample(text, "process_resident_memory_bytes "));
  CHECK(has_sample(text, "process_cpu_seconds_total "));
  CHECK(has_sample(text, "process_open_fds "));
  CHECK_THAT(text, Catch::Contains("# TYPE process_cpu_seconds_total counter"));
}

TEST_CASE("server gauges are absent until set_server is called", "[metrics]") {
  Metrics m;
  TargetMetrics t(m, "db", {});
  const std::string before = m.serialize();
  CHECK_FALSE(has_sample(before, "pgvitals_server_max_connections{"));
  CHECK_FALSE(has_sample(before, "pgvitals_server_reserved_connections{"));
  CHECK_FALSE(has_sample(before, "pgvitals_server_in_recovery{"));
  CHECK_FALSE(has_sample(before, "pgvitals_server_version_num{"));

  t.set_server(200, 5, true, 150007);
  const std::string after = m.serialize();
  INFO(after);
  CHECK(has_sample(after, "pgvitals_server_max_connections{target=\"db\"} 200"));
  CHECK(has_sample(after, "pgvitals_server_reserved_connections{target=\"db\"} 5"));
  CHECK(has_sample(after, "pgvitals_server_in_recovery{target=\"db\"} 1"));
  CHECK(has_sample(after, "pgvitals_server_version_num{target=\"db\"} 150007"));
}

TEST_CASE("serialized metrics pass promtool check metrics", "[metrics][promtool]") {
  const char* promtool = "/usr/bin/promtool";
  // promtool is a declared dependency (scripts/install-deps): without it this check would
  // pass having checked nothing.
  if (::access(promtool, X_OK) != 0) {
    FAIL(
        "promtool not found at /usr/bin/promtool (Debian package prometheus; "
        "scripts/install-deps installs it)");
  }
  Metrics m;
  TargetMetrics a(m, "a", {{"cluster", "eu-1"}});
  TargetMetrics b(m, "b", {});
  exercise(a);
  exercise(b);
  const std::string text = m.serialize();

  const std::filesystem::path file = std::filesystem::temp_directory_path() /
                                     ("pgvitals-metrics-" + std::to_string(::getpid()) + ".txt");
  {
    std::ofstream out(file);
    out << text;
  }
  const std::string cmd = std::string(promtool) + " check metrics < " + file.string() + " 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buf[512];
  while (std::fgets(buf, sizeof buf, pipe) != nullptr) output += buf;
  const int status = ::pclose(pipe);
  std::filesystem::remove(file);
  INFO("promtool said:\n" << output);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("exposition is rendered at most once per kRenderEvery and then refreshed", "[metrics]") {
  Metrics metrics;
  auto target =
      std::make_unique<TargetMetrics>(metrics, "cached", std::map<std::string, std::string>{});
  target->up().Set(1);
  const auto t0 = std::chrono::steady_clock::now();
  const auto first = metrics.exposition();
  target->up().Set(0);
  const auto second = metrics.exposition();
  // Within the window the same rendering is shared (same object, old value).
  if (std::chrono::steady_clock::now() - t0 < Metrics::kRenderEvery) CHECK(second == first);
  // After it, the new value shows; polled with a deadline, not slept for.
  const auto until = std::chrono::steady_clock::now() + 5 * Metrics::kRenderEvery;
  std::shared_ptr<const std::string> latest = second;
  while (latest->find("pgvitals_up{target=\"cached\"} 0") == std::string::npos &&
         std::chrono::steady_clock::now() < until) {
    latest = metrics.exposition();
  }
  CHECK(latest->find("pgvitals_up{target=\"cached\"} 0") != std::string::npos);
  CHECK(latest->find("pgvitals_up{target=\"cached\"} 1") == std::string::npos);
}

// The text the agent wrote through prometheus-cpp's TextSerializer until 2026-12-02, line for
// line (captured from it): dashboards, alert rules and recording rules read these numbers,
// label orders and bucket bounds, so the writer that replaced it must not change them.
TEST_CASE("the exposition is written as prometheus-cpp's serializer wrote it", "[metrics]") {
  Metrics metrics;
  auto a = std::make_unique<TargetMetrics>(metrics, "target-0",
                                           std::map<std::string, std::string>{{"env", "prod"}});
  for (int k = 0; k < 5; ++k) a->connect_duration().Observe(0.002 + k * 1e-4);
  a->probe_failures("connectivity", "sqlstate_57").Increment(3);
  metrics.up.Add({{"target", "large"}}).Set(12345678901234567890.0);
  metrics.up.Add({{"target", "small"}}).Set(5e-5);
  metrics.up.Add({{"target", "big"}}).Set(1764693000.123);
  metrics.up.Add({{"target", "inf"}}).Set(std::numeric_limits<double>::infinity());
  metrics.server_connections_by_application.Add({{"target", "t\"q\\x\ny"}, {"application", "a b"}})
      .Set(0.1 + 0.2);
  const std::string text = metrics.serialize();
  INFO(text);
  const std::string histogram =
      "# HELP pgvitals_connect_duration_seconds Time to open a new connection (TCP, TLS, "
      "authentication).\n"
      "# TYPE pgvitals_connect_duration_seconds histogram\n"
      "pgvitals_connect_duration_seconds_count{target=\"target-0\"} 5\n"
      "pgvitals_connect_duration_seconds_sum{target=\"target-0\"} 0.011\n"
      "pgvitals_connect_duration_seconds_bucket{target=\"target-0\",le=\"5e-05\"} 0\n"
      "pgvitals_connect_duration_seconds_bucket{target=\"target-0\",le=\"0.0001\"} 0\n"
      "pgvitals_connect_duration_seconds_bucket{target=\"target-0\",le=\"0.00025\"} 0\n"
      "pgvitals_connect_duration_seconds_bucket{target=\"target-0\",le=\"0.0005\"} 0\n"
      "pgvitals_connect_duration_seconds_bucket{target=\"target-0\",le=\"0.001\"} 0\n"
      "pgvitals_connect_duration_seconds_bucket{target=\"target-0\",le=\"0.0025\"} 5\n"
      "pgvitals_connect_duration_seconds_bucket{target=\"target-0\",le=\"0.005\"} 5\n"
      "pgvitals_connect_duration_seconds_bucket{target=\"target-0\",le=\"0.01\"} 5\n"
      "pgvitals_connect_duration_seconds_bucket{target=\"target-0\",le=\"0.025\"} 5\n"
      "pgvitals_connect_duration_seconds_bucket{target=\"target-0\",le=\"0.05\"} 5\n"
      "pgvitals_connect_duration_seconds_bucket{target=\"target-0\",le=\"0.1\"} 5\n"
      "pgvitals_connect_duration_seconds_bucket{target=\"target-0\",le=\"0.25\"} 5\n"
      "pgvitals_connect_duration_seconds_bucket{target=\"target-0\",le=\"0.5\"} 5\n"
      "pgvitals_connect_duration_seconds_bucket{target=\"target-0\",le=\"1\"} 5\n"
      "pgvitals_connect_duration_seconds_bucket{target=\"target-0\",le=\"2.5\"} 5\n"
      "pgvitals_connect_duration_seconds_bucket{target=\"target-0\",le=\"5\"} 5\n"
      "pgvitals_connect_duration_seconds_bucket{target=\"target-0\",le=\"10\"} 5\n"
      "pgvitals_connect_duration_seconds_bucket{target=\"target-0\",le=\"+Inf\"} 5\n";
  CHECK(text.find(histogram) != std::string::npos);
  for (const char* line : {
           "pgvitals_probe_failures_total{probe=\"connectivity\",reason=\"sqlstate_57\","
           "target=\"target-0\"} 3",
           "pgvitals_up{target=\"large\"} 1.234567890123457e+19",
           "pgvitals_up{target=\"small\"} 5e-05",
           "pgvitals_up{target=\"big\"} 1764693000.123",
           "pgvitals_up{target=\"inf\"} +Inf",
           "pgvitals_server_connections_by_application{application=\"a b\","
           "target=\"t\\\"q\\\\x\\ny\"} 0.3",
           "pgvitals_target_info{env=\"prod\",required=\"true\",target=\"target-0\"} 1",
       }) {
    CHECK(count_samples(text, line) == 1);
  }
  // One head per family, each before its series; families without series have none.
  const auto lines = lines_of(text);
  CHECK(std::count(lines.begin(), lines.end(), "# TYPE pgvitals_up gauge") == 1);
  CHECK(text.find("# TYPE pgvitals_up gauge") < text.find("pgvitals_up{"));
  CHECK(text.find("pgvitals_pgbouncer_clients") == std::string::npos);
  CHECK(text.find("process_resident_memory_bytes ") != std::string::npos);
}
