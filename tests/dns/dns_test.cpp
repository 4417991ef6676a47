// Name lookups against a DNS server the test controls (support/fake_dns), with the agent in
// a mount namespace whose /etc/resolv.conf points at it.
#include <algorithm>
#include <catch2/catch.hpp>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "agent_helpers.hpp"
#include "agent_process.hpp"
#include "fake_dns.hpp"
#include "helpers.hpp"
#include "pg_cluster.hpp"
#include "watcher.hpp"

using namespace pgv::testing;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

namespace {

std::string target(const std::string& name, const std::string& dsn, bool required = true) {
  return "  - name: " + name + "\n    dsn: " + dsn + "\n" +
         (required ? "" : "    required: false\n");
}

std::string by_name(const PgCluster& cluster, const std::string& host) {
  std::string dsn = cluster.dsn();
  const std::string ip = "@127.0.0.1:";
  return dsn.replace(dsn.find(ip), ip.size(), "@" + host + ":");
}

nlohmann::json last_failure(const AgentProcess& agent, const std::string& name) {
  const auto page = nlohmann::json::parse(agent.get("/debug/failures?target=" + name).body);
  const auto& failures = page.at("failures");
  return failures.empty() ? nlohmann::json::object() : failures.back();
}

}  // namespace

TEST_CASE("dns: a slow resolver never delays the targets that need no lookup",
          "[dns][fault][integration]") {
  PgCluster cluster;
  FakeDns dns;
  dns.add("slow.test", {"127.0.0.1", 3s, 60});
  TempFile resolv(dns.resolv_conf(), ".conf");
  std::string config = "interval: 1s\ntimeout: 500ms\ntargets:\n";
  for (int i = 1; i <= 5; ++i) config += target("ip" + std::to_string(i), cluster.dsn());
  config += target("slow", by_name(cluster, "slow.test"), false);
  TempFile config_file(config);
  AgentProcess agent({"--config", config_file.path()}, {}, resolv.path());
  // Every healthy target has succeeded once (not /healthz: where lookups block, it flaps).
  CHECK(eventually(
      [&] {
        const std::string m = agent.get("/metrics").body;
        for (int i = 1; i <= 5; ++i) {
          if (std::isnan(
                  metric_value(m, "pgvitals_probe_last_success_timestamp_seconds",
                               "probe=\"connectivity\",target=\"ip" + std::to_string(i) + "\""))) {
            return false;
          }
        }
        return true;
      },
      10s));
  Watcher watcher(agent.port());
  const auto t0 = SteadyClock::now();

  // The agent's own success times of each healthy target, polled for 10 s.
  std::map<std::string, std::vector<double>> successes;
  while (SteadyClock::now() - t0 < 10s) {
    const std::string m = agent.get("/metrics").body;
    for (int i = 1; i <= 5; ++i) {
      const std::string name = "ip" + std::to_string(i);
      const double t = metric_value(m, "pgvitals_probe_last_success_timestamp_seconds",
                                    "probe=\"connectivity\",target=\"" + name + "\"");
      auto& s = successes[name];
      if (!std::isnan(t) && (s.empty() || t != s.back())) s.push_back(t);
    }
    std::this_thread::sleep_for(20ms);
  }
  watcher.catch_up();
  double widest = 0;
  double narrowest = 1e9;
  for (const auto& [name, times] : successes) {
    INFO(name);
    CHECK(times.size() >= 9);  // one a second for 10 s
    std::cout << name << ": " << times.size() << " successes seen in 10 s\n";
    if (times.size() < 3) widest = std::max(widest, 10.0);  // starved for the whole window
    // From the second success on: the first may be a start-up cycle that opened the pool.
    for (std::size_t i = 2; i < times.size(); ++i) {
      widest = std::max(widest, times[i] - times[i - 1]);
      narrowest = std::min(narrowest, times[i] - times[i - 1]);
    }
  }
  std::cout << "healthy targets beside a 3 s resolver: gaps between successes " << narrowest
            << " s .. " << widest << " s (interval 1 s)\n";
  CHECK(widest < 1.1);
  CHECK(narrowest > 0.9);
  CHECK(watcher.count_not("/healthz", 200, t0) == 0);
  CHECK(watcher.slowest("/healthz", t0) < 0.05);

  // The slow name fails at its deadline, as a DNS failure, not at the 3 s answer.
  CHECK(dns.queries("slow.test") > 0);
  CHECK(agent.get("/healthz/slow").status == 503);
  const std::string m = agent.get("/metrics").body;
  CHECK(metric_value(m, "pgvitals_probe_failures_total",
                     "probe=\"connectivity\",reason=\"dns\",target=\"slow\"") >= 5);
  // Timeout series exist from the start (at 0, so increase() sees the first failure);
  // not one of them may count the lookup.
  for (const char* probe : {"connectivity", "new_connection"}) {
    INFO(probe);
    CHECK(metric_value(m, "pgvitals_probe_failures_total",
                       std::string("probe=\"") + probe + "\",reason=\"timeout\",target=\"slow\"") ==
          0);
  }
  const auto failure = last_failure(agent, "slow");
  INFO(failure.dump());
  CHECK(failure.value("phase", "") == "dns");
  CHECK(failure.value("reason", "") == "dns");
  CHECK(failure.value("duration_seconds", 0.0) < 0.6);
  CHECK(failure.at("phases").value("dns", 0.0) >= 0.45);
  CHECK(failure.value("message", "").find("slow.test") != std::string::npos);
}

TEST_CASE("dns: a name looked up with c-ares connects, keeps its host and times the lookup",
          "[dns][fault][integration]") {
  PgCluster cluster;
  FakeDns dns;
  dns.add("fast.test", {"127.0.0.1", 0ms, 60});
  TempFile resolv(dns.resolv_conf(), ".conf");
  TempFile config("interval: 1s\ntimeout: 500ms\ntargets:\n" +
                  target("fast", by_name(cluster, "fast.test")) +
                  target("missing", by_name(cluster, "missing.test"), false));
  AgentProcess agent({"--config", config.path()}, {}, resolv.path());
  REQUIRE(agent.wait_for_status("/healthz/fast", 200, 10s));
  // The new_connection probe publishes the lookup as a connect phase.
  std::string m;
  REQUIRE(eventually(
      [&] {
        m = agent.get("/metrics").body;
        return !std::isnan(
            metric_value(m, "pgvitals_connect_phase_seconds", "phase=\"dns\",target=\"fast\""));
      },
      10s));
  const double lookup =
      metric_value(m, "pgvitals_connect_phase_seconds", "phase=\"dns\",target=\"fast\"");
  std::cout << "dns phase of a new connection to fast.test: " << lookup * 1e3 << " ms\n";
  CHECK(lookup < 0.5);
  // Answers are cached for their TTL (60 s): a few probe cycles, one lookup.
  const int asked = dns.queries("fast.test");
  CHECK(asked >= 1);
  REQUIRE(agent.wait_for_status("/healthz/missing", 503, 5s));
  const auto failure = last_failure(agent, "missing");
  INFO(failure.dump());
  CHECK(failure.value("reason", "") == "dns");
  CHECK(failure.value("phase", "") == "dns");
  CHECK(failure.value("message", "").find("could not translate host name \"missing.test\"") !=
        std::string::npos);
  std::this_thread::sleep_for(2s);  // two more cycles, which the cache must serve
  CHECK(dns.queries("fast.test") == asked);
  CHECK(agent.get("/healthz/fast").status == 200);
}
