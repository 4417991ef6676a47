// The dashboard at fleet scale: one agent with 100 targets (all pointing at one test
// PostgreSQL), scraped by a real Prometheus. Every dashboard query still returns data, the
// Fleet row stays a handful of series, and the drill-down rows show only the picked target.
#include <catch2/catch.hpp>
#include <iostream>
#include <sstream>
#include <string>

#include "agent_helpers.hpp"
#include "artefacts.hpp"
#include "e2e_helpers.hpp"
#include "helpers.hpp"
#include "prometheus_process.hpp"

using namespace std::chrono_literals;
using namespace pgv::testing;

namespace {

constexpr int kTargets = 100;
constexpr int kNotRequired = 10;  // t000..t009: required: false

std::string target_name(int i) {
  std::string n = std::to_string(i);
  return "t" + std::string(3 - n.size(), '0') + n;
}

// A short interval, and one pooled session per target so 100 targets fit the server. The
// 2 s timeout leaves room for 100 SCRAM logins and backend forks at once on a small machine.
std::string fleet_config(const std::string& dsn) {
  std::ostringstream out;
  out << "interval: 2s\ntimeout: 2s\npool: {size: 1, max_overflow: 1}\ntargets:\n";
  for (int i = 0; i < kTargets; ++i) {
    out << "  - name: " << target_name(i) << "\n    dsn: " << dsn
        << "\n    labels: {cluster: fleet, owner: team" << i % 5 << "}\n";
    if (i < kNotRequired) out << "    required: false\n";
  }
  return out.str();
}

}  // namespace

TEST_CASE("at 100 targets every dashboard query returns data and the Fleet row stays small",
          "[e2e][integration]") {
  ClusterOptions options;
  options.max_connections = 300;
  PgCluster cluster(options);
  TempFile config(fleet_config(cluster.dsn()));
  AgentProcess agent({"--config", config.path()}, {});
  const bool healthy = agent.wait_for_status("/healthz", 200, 60s).has_value();
  INFO(agent.get("/healthz?verbose").body.substr(0, 2000));
  REQUIRE(healthy);

  PrometheusProcess prom(agent.port(), {PGVITALS_SOURCE_DIR "/alerts/pgvitals.rules.yml"});
  REQUIRE(eventually(
      [&] { return series_count(prom.query("pgvitals_up == 1")) == std::size_t{kTargets}; }, 30s));

  const std::string instance = "127.0.0.1:" + std::to_string(agent.port());
  const std::string picked = target_name(42);
  // 100 views of one primary without standbys or slots: the Replication row is
  // replication_e2e_test's; no PgBouncer and no declared applications either: the PgBouncer
  // and Applications rows are left out.
  const auto queries = queries_of_row(
      queries_of_row(
          queries_of_row(dashboard_queries(PGVITALS_SOURCE_DIR, "pgvitals", instance, picked),
                         kReplicationRow, /*inside=*/false),
          kPgbouncerRow, /*inside=*/false),
      kApplicationsRow, /*inside=*/false);
  const auto started = std::chrono::steady_clock::now();
  const auto empty = wait_for_dashboard_data(prom, queries, 90s);
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  int fleet_queries = 0;
  for (const auto& q : queries) {
    const auto data = prom.query(q.expr);
    INFO(q.dashboard << " / " << q.panel << ": " << q.expr << "\n -> "
                     << data.dump().substr(0, 300));
    CHECK(data.is_object());
    CHECK(has_samples(data));
    if (q.panel.rfind("Fleet", 0) == 0) {
      ++fleet_queries;
      CHECK(series_count(data) <= 10);  // topk/bottomk(10) or a count, whatever the fleet
      continue;
    }
    // Drill-down rows: only the picked target's series (or none carrying a target at all).
    for (const auto& r : data.value("result", nlohmann::json::array())) {
      const std::string t = r["metric"].value("target", picked);
      CHECK(t == picked);
    }
  }
  CHECK(fleet_queries >= 5);
  std::cout << "fleet of " << kTargets << ": " << queries.size() << " dashboard queries, "
            << empty.size() << " empty, all data after " << waited << " s\n";

  CHECK(series_count(prom.query("pgvitals_target_info{cluster=\"fleet\"}")) ==
        std::size_t{kTargets});
  CHECK(series_count(prom.query("pgvitals_target_info{required=\"false\"}")) ==
        std::size_t{kNotRequired});
  // Every rule evaluates without error over 100 targets.
  const auto rules = prom.api("rules");
  REQUIRE(rules.is_object());
  for (const auto& group : rules["data"]["groups"]) {
    for (const auto& rule : group["rules"]) {
      INFO(rule.value("name", "?") << ": " << rule.value("lastError", ""));
      CHECK(rule.value("health", "") != "err");
    }
  }
}
