#include <signal.h>

#include <catch2/catch.hpp>
#include <thread>

#include "agent_helpers.hpp"
#include "helpers.hpp"

using namespace std::chrono_literals;
using namespace pgv::testing;

namespace {

std::string two_targets(const PgCluster& cluster, const std::string& a, const std::string& b) {
  return "interval: 1s\ntimeout: 500ms\ntargets:\n  - name: " + a + "\n    dsn: " + cluster.dsn() +
         "\n  - name: " + b + "\n    dsn: " + cluster.dsn() + "\n";
}

}  // namespace

TEST_CASE("SIGHUP adds and removes targets without dropping HTTP",
          "[agent][signals][integration]") {
  PgCluster cluster;
  TempFile config(two_targets(cluster, "alpha", "beta"));
  AgentProcess agent({"--config", config.path()}, {});
  REQUIRE(agent.wait_for_status("/healthz/alpha", 200, 5s));
  REQUIRE(agent.wait_for_status("/healthz/beta", 200, 5s));

  config.write(two_targets(cluster, "beta", "gamma"));
  agent.signal(SIGHUP);
  CHECK(agent.wait_for_status("/healthz/gamma", 200, 5s));
  CHECK(agent.wait_for_status("/healthz/alpha", 404, 2s));
  CHECK(agent.get("/healthz/beta").status == 200);
  // Polled: the incident watcher drops a removed target's incident series at its next pass
  // (every 250 ms), after the reload itself.
  std::string metrics;
  const bool gone = eventually(
      [&] {
        metrics = agent.get("/metrics").body;
        return metrics.find("target=\"alpha\"") == std::string::npos;
      },
      3s);
  INFO(metrics);
  CHECK(gone);
  CHECK(metrics.find("target=\"gamma\"") != std::string::npos);
}

TEST_CASE("a bad reload keeps the running configuration", "[agent][signals][integration]") {
  PgCluster cluster;
  TempFile config(two_targets(cluster, "alpha", "beta"));
  AgentProcess agent({"--config", config.path()}, {});
  REQUIRE(agent.wait_for_status("/healthz", 200, 5s));
  config.write("targets: [oops\n");
  agent.signal(SIGHUP);
  REQUIRE(eventually([&] { return agent.log().find("reload rejected") != std::string::npos; }));
  CHECK(agent.get("/healthz/alpha").status == 200);
  CHECK(agent.get("/healthz/beta").status == 200);
  CHECK(agent.log().find("line") != std::string::npos);  // the message points into the file
}

TEST_CASE("SIGTERM stops within 2 s with exit 0 and no session left on the server",
          "[agent][signals][integration]") {
  PgCluster cluster;
  AgentProcess agent(kFastArgs, env_for(cluster));
  REQUIRE(agent.wait_for_status("/readyz", 200, 5s));
  REQUIRE(agent_sessions(cluster) >= 1);
  const auto start = std::chrono::steady_clock::now();
  agent.signal(SIGTERM);
  const auto status = agent.wait_exit(2s);
  REQUIRE(status);
  CHECK(*status == 0);
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  CHECK(eventually([&] { return agent_sessions(cluster) == 0; }, 1s));
}

TEST_CASE("SIGTERM while the database hangs still stops within 2 s",
          "[agent][signals][integration]") {
  PgCluster cluster;
  AgentProcess agent({"--interval", "1s", "--timeout", "10s"}, env_for(cluster));
  REQUIRE(agent.wait_for_status("/healthz", 200, 5s));
  cluster.freeze();
  // The stimulus, not a wait on an event: hold the freeze past one interval, so a probe is
  // certainly stuck on the frozen server. Unread bytes there cannot serve as the event: a
  // freeze that lands after a backend read its query leaves none, and that probe then
  // waits out its 10 s timeout without sending anything new.
  std::this_thread::sleep_for(1200ms);
  const auto start = std::chrono::steady_clock::now();
  agent.signal(SIGINT);
  const auto status = agent.wait_exit(2s);
  REQUIRE(status);
  CHECK(*status == 0);
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  cluster.thaw();
}
