// The dashboard's PgBouncer row and the pooler alerts end to end: one agent watching a real
// PgBouncer's admin console (`bouncer`), the database through it (`app`, via: bouncer) and
// the same server directly (`direct`), scraped by a real Prometheus.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <iostream>
#include <string>
#include <vector>

#include "agent_helpers.hpp"
#include "artefacts.hpp"
#include "e2e_helpers.hpp"
#include "helpers.hpp"
#include "pgbouncer.hpp"
#include "prometheus_process.hpp"

using namespace std::chrono_literals;
using namespace pgv::testing;

namespace {

const std::string kSource = PGVITALS_SOURCE_DIR;

std::string path_targets(const PgBouncer& bouncer, const PgCluster& server) {
  return "interval: 1s\ntimeout: 800ms\ntargets:\n"
         "  - {name: bouncer, kind: pgbouncer, dsn: '" +
         bouncer.admin_dsn() + "'}\n  - {name: app, via: bouncer, dsn: '" + bouncer.dsn() +
         "'}\n  - {name: direct, dsn: '" + server.dsn() + "'}\n";
}

}  // namespace

TEST_CASE("every PgBouncer row query returns data for the pooler or the path through it",
          "[e2e][integration][pgbouncer]") {
  PgCluster server;
  PgBouncer bouncer(server);
  TempFile config(path_targets(bouncer, server));
  AgentProcess agent({"--config", config.path()}, {});
  REQUIRE(agent.wait_for_status("/healthz", 200, 15s));
  PrometheusProcess prom(agent.port(), {kSource + "/alerts/pgvitals.rules.yml"});
  REQUIRE(eventually([&] { return series_count(prom.query("pgvitals_up == 1")) == 3; }, 15s));

  const std::string instance = "127.0.0.1:" + std::to_string(agent.port());
  const auto for_pooler =
      queries_of_row(dashboard_queries(kSource, "pgvitals", instance, "bouncer"), kPgbouncerRow);
  const auto for_path =
      queries_of_row(dashboard_queries(kSource, "pgvitals", instance, "app"), kPgbouncerRow);
  REQUIRE(for_pooler.size() == for_path.size());
  REQUIRE(for_pooler.size() >= 5);
  // The pooler's own families are the pooler target's; the path's are the via target's.
  std::vector<DashboardQuery> queries;
  for (std::size_t i = 0; i < for_pooler.size(); ++i) {
    const bool path = for_pooler[i].expr.find("pgvitals_path_") != std::string::npos;
    queries.push_back(path ? for_path[i] : for_pooler[i]);
  }
  const auto started = std::chrono::steady_clock::now();
  const auto empty = wait_for_dashboard_data(prom, queries, 60s);
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  for (const auto& q : queries) {
    const auto data = prom.query(q.expr);
    INFO(q.panel << ": " << q.expr << "\n -> " << data.dump().substr(0, 300));
    CHECK(has_samples(data));
  }
  CHECK(empty.empty());
  std::cout << "PgBouncer row: " << queries.size() << " queries, all data after " << waited
            << " s\n";
}

TEST_CASE("a frozen pooler in front of a working server fires PgvitalsPoolerDownServerUp",
          "[e2e][integration][pgbouncer]") {
  char dir[] = "/tmp/pgvitals-rules-XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  const std::string rules = rules_with_short_for(kSource + "/alerts/pgvitals.rules.yml", dir, "3s");
  PgCluster server;
  PgBouncer bouncer(server);
  TempFile config(path_targets(bouncer, server));
  AgentProcess agent({"--config", config.path()}, {});
  REQUIRE(agent.wait_for_status("/healthz", 200, 15s));
  PrometheusProcess prom(agent.port(), {rules});
  REQUIRE(
      eventually([&] { return series_count(prom.query("pgvitals_path_hop_up == 1")) == 2; }, 20s));
  CHECK(alert_state(prom, "PgvitalsPoolerDownServerUp") == "inactive");

  const auto frozen_at = std::chrono::steady_clock::now();
  bouncer.freeze();
  REQUIRE(
      eventually([&] { return alert_state(prom, "PgvitalsPoolerDownServerUp") == "firing"; }, 30s));
  const double fired =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - frozen_at).count();
  // The server is fine: its own alerts stay quiet.
  CHECK(alert_state(prom, "PgvitalsSplitBrain") == "inactive");
  bouncer.thaw();
  std::cout << "PgvitalsPoolerDownServerUp firing " << fired
            << " s after the pooler froze (for: 3s)\n";
}
