#include <catch2/catch.hpp>
#include <filesystem>
#include <iostream>

#include "agent_helpers.hpp"
#include "artefacts.hpp"
#include "e2e_helpers.hpp"
#include "helpers.hpp"
#include "prometheus_process.hpp"
#include "sessions.hpp"

using namespace std::chrono_literals;
using namespace pgv::testing;

namespace {

const std::string kSource = PGVITALS_SOURCE_DIR;
const std::string kRules = kSource + "/alerts/pgvitals.rules.yml";

}  // namespace

TEST_CASE("Prometheus scrapes the agent and every dashboard query returns data",
          "[e2e][integration]") {
  PgCluster cluster;
  AgentProcess agent(kFastArgs, env_for(cluster));
  REQUIRE(agent.wait_for_status("/healthz", 200, 5s));
  // A failure in the record, sessions idle in transaction, one blocked on a lock: the
  // situations the dashboard's panels are about.
  cluster.stop();
  REQUIRE(agent.wait_for_status("/healthz", 503, 3s));
  cluster.start();
  REQUIRE(agent.wait_for_status("/healthz", 200, 3s));
  cluster.admin("CREATE TABLE t (x int)");
  auto holder = open_sessions(cluster, 1, "postgres", "holder");
  auto waiter = open_sessions(cluster, 1, "postgres", "waiter");
  auto idle = open_sessions(cluster, 2, "postgres", "idler");
  query(holder.at(0), "BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE");
  REQUIRE(pgv::pg::send(waiter.at(0), "SELECT * FROM t"));
  for (auto& c : idle) query(c, "BEGIN; SELECT txid_current()");

  PrometheusProcess prom(agent.port(), {kRules});
  REQUIRE(eventually([&] { return has_samples(prom.query("up{job=\"pgvitals\"} == 1")); }, 15s));

  const std::string instance = "127.0.0.1:" + std::to_string(agent.port());
  // One primary without standbys or slots: the Replication row is replication_e2e_test's;
  // no PgBouncer and no declared applications either: the PgBouncer and Applications rows
  // are left out.
  const auto queries = queries_of_row(
      queries_of_row(queries_of_row(dashboard_queries(kSource, "pgvitals", instance, "default"),
                                    kReplicationRow, /*inside=*/false),
                     kPgbouncerRow, /*inside=*/false),
      kApplicationsRow, /*inside=*/false);
  REQUIRE(queries.size() >= 20);
  // Polled, not slept: until every rate() window of 20 s holds enough scrapes.
  const auto started = std::chrono::steady_clock::now();
  const auto empty = wait_for_dashboard_data(prom, queries, 30s);
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  for (const auto& q : queries) {
    const auto data = prom.query(q.expr);
    INFO(q.dashboard << " / " << q.panel << ": " << q.expr << "\n -> "
                     << data.dump().substr(0, 300));
    CHECK(data.is_object());  // evaluated without error
    CHECK(has_samples(data));
  }
  std::cout << "dashboard queries: " << queries.size() << " evaluated, " << empty.size()
            << " empty, all data after " << waited << " s\n";
  // The metrics the rules and the dashboard rely on from the agent (required on
  // target_info, the longest lock wait, failure counters created before any failure).
  CHECK(has_samples(prom.query("pgvitals_target_info{target=\"default\", required=\"true\"}")));
  CHECK(
      has_samples(prom.query("pgvitals_server_longest_lock_wait_seconds{target=\"default\"} > 0")));
  CHECK(
      has_samples(prom.query("pgvitals_probe_failures_total{target=\"default\", "
                             "probe=\"activity\", reason=\"timeout\"}")));

  // Every rule loads and evaluates without error against the live series.
  const auto rules = prom.api("rules");
  REQUIRE(rules.is_object());
  int rule_count = 0;
  for (const auto& group : rules["data"]["groups"]) {
    for (const auto& rule : group["rules"]) {
      ++rule_count;
      INFO(rule.value("name", "?") << ": " << rule.value("lastError", ""));
      CHECK(rule.value("health", "") != "err");
    }
  }
  CHECK(rule_count >= 10);
  query(holder.at(0), "ROLLBACK");
}

TEST_CASE("stopping the database fires the down alert through Prometheus, and it clears",
          "[e2e][integration]") {
  const std::string alert = database_down_alert(kRules);
  REQUIRE_FALSE(alert.empty());
  char dir[] = "/tmp/pgvitals-rules-XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  const std::string rules = rules_with_short_for(kRules, dir, "3s");

  PgCluster cluster;
  AgentProcess agent(kFastArgs, env_for(cluster));
  REQUIRE(agent.wait_for_status("/healthz", 200, 5s));
  PrometheusProcess prom(agent.port(), {rules});
  REQUIRE(eventually([&] { return has_samples(prom.query("pgvitals_up == 1")); }, 15s));
  CHECK(alert_state(prom, alert) == "inactive");

  const auto stopped_at = std::chrono::steady_clock::now();
  cluster.stop();
  REQUIRE(eventually([&] { return alert_state(prom, alert) == "firing"; }, 20s));
  const double fired =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - stopped_at).count();

  cluster.start();
  const auto started_at = std::chrono::steady_clock::now();
  REQUIRE(eventually([&] { return alert_state(prom, alert) == "inactive"; }, 20s));
  const double cleared =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at).count();
  std::cout << alert << ": firing " << fired << " s after the stop (for: 3s), cleared " << cleared
            << " s after the restart\n";
  std::filesystem::remove_all(dir);
}
