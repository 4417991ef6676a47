// A frozen target beside a healthy one in the same agent: the healthy target's probes keep
// their cadence. In the fault suite because it asserts timing: it runs alone (RUN_SERIAL).
#include <catch2/catch.hpp>
#include <iostream>
#include <thread>

#include "agent_helpers.hpp"
#include "helpers.hpp"

using namespace std::chrono_literals;
using namespace pgv::testing;

TEST_CASE("fault: a frozen target never changes another target's cadence", "[fault][integration]") {
  PgCluster healthy;
  PgCluster frozen;
  TempFile config("interval: 1s\ntimeout: 500ms\ntargets:\n  - name: healthy\n    dsn: " +
                  healthy.dsn() + "\n  - name: frozen\n    dsn: " + frozen.dsn() + "\n");
  AgentProcess agent({"--config", config.path()}, {});
  REQUIRE(agent.wait_for_status("/healthz/healthy", 200, 5s));
  REQUIRE(agent.wait_for_status("/healthz/frozen", 200, 5s));
  frozen.freeze();

  const std::string sel = "probe=\"connectivity\",target=\"healthy\"";
  std::vector<double> successes;
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < until) {
    const double t = metric_value(agent.get("/metrics").body,
                                  "pgvitals_probe_last_success_timestamp_seconds", sel);
    if (successes.empty() || t != successes.back()) successes.push_back(t);
    // Not a wait: the sampling period of a fixed 5 s observation of the cadence.
    std::this_thread::sleep_for(20ms);
  }
  CHECK(agent.get("/healthz/frozen").status == 503);
  CHECK(agent.get("/healthz/healthy").status == 200);
  REQUIRE(successes.size() >= 5);
  double worst = 0;
  for (std::size_t i = 1; i < successes.size(); ++i)
    worst = std::max(worst, successes[i] - successes[i - 1]);
  std::cout << "healthy target beside a frozen one: " << successes.size() - 1
            << " successes in 5 s, largest gap " << worst << " s (interval 1 s)\n";
  CHECK(worst < 1.2);
  frozen.thaw();
}
