#include <catch2/catch.hpp>
#include <cmath>
#include <iostream>
#include <thread>

#include "agent_helpers.hpp"
#include "helpers.hpp"
#include "telemetry/gzip.hpp"

using namespace std::chrono_literals;
using namespace pgv::testing;

TEST_CASE("a healthy database: every endpoint passes and metrics are valid",
          "[matrix][agent][integration]") {
  PgCluster cluster;
  AgentProcess agent(kFastArgs, env_for(cluster));
  REQUIRE(agent.wait_for_status("/healthz", 200, 5s));
  const auto health = agent.get("/healthz");
  CHECK(health.body == "ok");
  CHECK(agent.get("/livez").status == 200);
  REQUIRE(agent.wait_for_status("/readyz", 200, 3s));
  CHECK(agent.get("/readyz?verbose").body.find("[+]default/new_connection ok") !=
        std::string::npos);
  CHECK(agent.get("/primary").status == 200);
  CHECK(agent.get("/replica").status == 404);
  CHECK(agent.get("/healthz/default").status == 200);
  CHECK(agent.get("/healthz/nope").status == 404);

  // The settings probe runs later in the same cycle than the checks /readyz waits for.
  REQUIRE(eventually([&] {
    return !std::isnan(metric_value(agent.get("/metrics").body, "pgvitals_server_max_connections"));
  }));
  const auto metrics = agent.get("/metrics");
  REQUIRE(metrics.status == 200);
  CHECK(metrics.content_type.find("version=0.0.4") != std::string::npos);
  CHECK(metric_value(metrics.body, "pgvitals_up", "target=\"default\"") == 1);
  CHECK(metric_value(metrics.body, "pgvitals_probe_duration_seconds_count",
                     "probe=\"connectivity\"") >= 1);
  CHECK(metric_value(metrics.body, "pgvitals_connect_duration_seconds_count") >= 1);
  CHECK(metric_value(metrics.body, "pgvitals_pool_acquire_duration_seconds_count") >= 1);
  CHECK(metric_value(metrics.body, "pgvitals_server_max_connections") == 40);
  CHECK(metric_value(metrics.body, "pgvitals_build_info") == 1);
  CHECK(metric_value(metrics.body, "process_resident_memory_bytes") > 0);

  const auto lint = run_capture({"promtool", "check", "metrics"}, {}, metrics.body);
  INFO(lint.output);
  CHECK(lint.exit_code == 0);
}

TEST_CASE("/metrics: gzip for a client that asks, as Prometheus does, text for one that does not",
          "[agent][metrics][integration]") {
  PgCluster cluster;
  AgentProcess agent(kFastArgs, env_for(cluster));
  REQUIRE(agent.wait_for_status("/healthz", 200, 10s));
  const auto plain = agent.get("/metrics");
  CHECK(plain.content_encoding.empty());
  REQUIRE(plain.body.find("pgvitals_up{") != std::string::npos);
  // Prometheus's own header.
  const auto gz = agent.get("/metrics", {{"Accept-Encoding", "gzip"}});
  REQUIRE(gz.status == 200);
  CHECK(gz.content_encoding == "gzip");
  CHECK(gz.body.size() * 3 < plain.body.size());
  const std::string text = pgv::telemetry::gunzip(gz.body);
  CHECK(text.find("# TYPE pgvitals_up gauge") != std::string::npos);
  CHECK(text.find("pgvitals_up{") != std::string::npos);
  // Refused by q=0: identity.
  CHECK(agent.get("/metrics", {{"Accept-Encoding", "gzip;q=0"}}).content_encoding.empty());
}

TEST_CASE("a stopped database turns healthz red within interval + timeout + 1 s and back",
          "[agent][integration]") {
  PgCluster cluster;
  AgentProcess agent(kFastArgs, env_for(cluster));
  REQUIRE(agent.wait_for_status("/healthz", 200, 5s));

  cluster.stop();
  const auto down = agent.wait_for_status("/healthz", 503, 2500ms);  // 1 s + 0.5 s + 1 s
  REQUIRE(down);
  CHECK(agent.get("/livez").status == 200);
  CHECK(metric_value(agent.get("/metrics").body, "pgvitals_up", "target=\"default\"") == 0);
  const auto failures = agent.get("/debug/failures?target=default&limit=1");
  CHECK(failures.body.find("\"probe\": \"connectivity\"") != std::string::npos);
  CHECK(failures.body.find("\"reason\": \"refused\"") != std::string::npos);
  CHECK(failures.body.find("\"phase\": \"connect\"") != std::string::npos);
  // The first failure may still be the shutdown itself (57P03); then connects are refused.
  CHECK(eventually(
      [&] {
        return agent.get("/healthz?verbose").body.find("[-]default failed: connection refused") !=
               std::string::npos;
      },
      2s));

  cluster.start();
  const auto up = agent.wait_for_status("/healthz", 200, 2s);  // two intervals
  REQUIRE(up);
  std::cout << "detection: down after " << *down << " s, recovered after " << *up
            << " s (interval 1 s, timeout 0.5 s)\n";
  CHECK(agent.log().find("target down") != std::string::npos);
  CHECK(agent.log().find("target up") != std::string::npos);
}

TEST_CASE("a frozen database: endpoints stay fast, healthz turns red, then recovers",
          "[agent][integration]") {
  PgCluster cluster;
  AgentProcess agent(kFastArgs, env_for(cluster));
  REQUIRE(agent.wait_for_status("/healthz", 200, 5s));

  cluster.freeze();
  const auto frozen_at = std::chrono::steady_clock::now();
  double slowest = 0;
  std::optional<double> down;
  while (std::chrono::steady_clock::now() - frozen_at < 3s) {
    const auto h = agent.get("/healthz");
    const auto m = agent.get("/metrics");
    slowest = std::max({slowest, h.seconds, m.seconds});
    CHECK(m.status == 200);
    if (h.status == 503 && !down) {
      down = std::chrono::duration<double>(std::chrono::steady_clock::now() - frozen_at).count();
    }
    if (down) break;
    std::this_thread::sleep_for(10ms);
  }
  REQUIRE(down);
  // Worst case by design is interval + timeout (a freeze just after a success); the
  // margin covers the 10 ms poll and scheduling on a loaded 2-core machine.
  CHECK(*down <= 1.5 + 0.2);
  CHECK(slowest < 0.1);
  const auto failures = agent.get("/debug/failures?limit=1");
  CHECK(failures.body.find("\"reason\": \"timeout\"") != std::string::npos);

  cluster.thaw();
  const auto up = agent.wait_for_status("/healthz", 200, 2500ms);
  REQUIRE(up);
  std::cout << "freeze: down after " << *down << " s (slowest answer " << slowest * 1e3
            << " ms), recovered " << *up << " s after thaw\n";
}

TEST_CASE("exclude, verbose and JSON health answers", "[matrix][agent][integration]") {
  PgCluster cluster;
  AgentProcess agent(kFastArgs, env_for(cluster));
  REQUIRE(agent.wait_for_status("/healthz", 200, 5s));
  cluster.stop();
  REQUIRE(agent.wait_for_status("/healthz", 503, 3s));
  CHECK(agent.get("/healthz?exclude=default").status == 200);
  const auto json = agent.get("/healthz?format=json");
  CHECK(json.content_type.find("application/json") != std::string::npos);
  CHECK(json.body.find("\"status\":\"failed\"") != std::string::npos);
  CHECK(eventually(
      [&] {
        return agent.get("/healthz?format=json").body.find("\"reason\":\"refused\"") !=
               std::string::npos;
      },
      2s));
  CHECK(agent.get("/healthz", {{"Accept", "application/json"}}).body.find("\"checks\"") !=
        std::string::npos);
  const auto verbose = agent.get("/healthz?verbose");
  CHECK(verbose.body.find("healthz check failed") != std::string::npos);
  CHECK(agent.get("/primary").status == 503);
}
