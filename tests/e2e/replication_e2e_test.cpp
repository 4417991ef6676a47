// The dashboard's Replication row end to end: one agent watching a primary (a physical slot,
// max_slot_wal_keep_size set) and its streaming standby, scraped by a real Prometheus. Every
// query of the row returns data for the target it is about: the primary-side ones
// (pgvitals_replication_*) for the primary, the standby-side ones (pgvitals_replica_*) for the
// standby, the wraparound ones for both.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <iostream>
#include <string>
#include <vector>

#include "agent_helpers.hpp"
#include "artefacts.hpp"
#include "e2e_helpers.hpp"
#include "helpers.hpp"
#include "prometheus_process.hpp"

using namespace std::chrono_literals;
using namespace pgv::testing;

namespace {

const std::string kSource = PGVITALS_SOURCE_DIR;
// The targets in the agent's config, and the standby's application_name on the primary.
const std::string kPrimary = "primary";
const std::string kStandby = "standby";
const std::string kStandbyApp = "standby-1";
const std::string kSlot = "e2e_slot";

std::string two_targets(const PgCluster& primary, const PgCluster& standby) {
  return "interval: 1s\ntimeout: 1s\ntargets:\n  - name: " + kPrimary +
         "\n    dsn: " + primary.dsn() + "\n  - name: " + kStandby + "\n    dsn: " + standby.dsn() +
         "\n";
}

// The targets a Replication-row query has data for, from the families it reads (the
// replication contract): pgvitals_replica_* only while a server is in recovery,
// pgvitals_replication_* on a server with standbys or slots, the rest (wraparound) everywhere.
struct Sides {
  bool primary = false;
  bool standby = false;
};

Sides sides_of(const std::string& expr) {
  const bool replica = expr.find("pgvitals_replica_") != std::string::npos;
  const bool replication = expr.find("pgvitals_replication_") != std::string::npos;
  if (!replica && !replication) return {true, true};
  return {replication, replica};
}

struct Expected {
  std::string target;
  DashboardQuery query;
};

bool streaming(PgCluster& primary) {
  return primary
             .admin("SELECT count(*) FROM pg_stat_replication WHERE application_name = '" +
                    kStandbyApp + "' AND state = 'streaming'")
             .get(0, 0) == "1";
}

}  // namespace

TEST_CASE("every Replication row query returns data for a primary, its standby and a slot",
          "[e2e][integration]") {
  ClusterOptions options;
  options.settings = {"max_slot_wal_keep_size=1GB"};  // else no safe_wal_bytes
  PgCluster primary(options);
  const auto standby = PgCluster::standby_of(primary, kStandbyApp);
  // After the copy: a slot in the primary's data directory would come along to the standby.
  primary.admin("SELECT pg_create_physical_replication_slot('" + kSlot + "', true)");
  REQUIRE(eventually([&] { return streaming(primary); }, 30s));

  TempFile config(two_targets(primary, *standby));
  AgentProcess agent({"--config", config.path()}, {});
  const bool healthy = agent.wait_for_status("/healthz", 200, 10s).has_value();
  INFO(agent.get("/healthz?verbose").body.substr(0, 2000));
  REQUIRE(healthy);

  PrometheusProcess prom(agent.port(), {kSource + "/alerts/pgvitals.rules.yml"});
  REQUIRE(eventually([&] { return series_count(prom.query("pgvitals_up == 1")) == 2; }, 15s));

  // The row's queries for each target, in the same order.
  const std::string instance = "127.0.0.1:" + std::to_string(agent.port());
  const auto on_primary =
      queries_of_row(dashboard_queries(kSource, "pgvitals", instance, kPrimary), kReplicationRow);
  const auto on_standby =
      queries_of_row(dashboard_queries(kSource, "pgvitals", instance, kStandby), kReplicationRow);
  REQUIRE(on_primary.size() == on_standby.size());
  REQUIRE(on_primary.size() >= 10);

  std::vector<Expected> expected;
  std::vector<DashboardQuery> standby_only_on_primary;
  int primary_only = 0, standby_only = 0, both = 0;
  for (std::size_t i = 0; i < on_primary.size(); ++i) {
    const Sides sides = sides_of(on_primary[i].expr);
    if (sides.primary) expected.push_back({kPrimary, on_primary[i]});
    if (sides.standby) expected.push_back({kStandby, on_standby[i]});
    if (!sides.primary) standby_only_on_primary.push_back(on_primary[i]);
    primary_only += sides.primary && !sides.standby ? 1 : 0;
    standby_only += sides.standby && !sides.primary ? 1 : 0;
    both += sides.primary && sides.standby ? 1 : 0;
  }
  // The row has panels for each end and for both.
  CHECK(primary_only > 0);
  CHECK(standby_only > 0);
  CHECK(both > 0);

  std::vector<DashboardQuery> queries;
  for (const auto& e : expected) queries.push_back(e.query);
  const auto started = std::chrono::steady_clock::now();
  const auto empty = wait_for_dashboard_data(prom, queries, 60s);
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  bool saw_standby = false, saw_slot = false;
  for (const auto& [target, q] : expected) {
    const auto data = prom.query(q.expr);
    INFO(target << ": " << q.panel << ": " << q.expr << "\n -> " << data.dump().substr(0, 300));
    CHECK(data.is_object());  // evaluated without error
    CHECK(has_samples(data));
    for (const auto& r : data.value("result", nlohmann::json::array())) {
      const auto& labels = r["metric"];
      CHECK(labels.value("target", target) == target);  // only the picked target's series
      if (labels.contains("standby")) {
        CHECK(labels.value("standby", "") == kStandbyApp);
        saw_standby = true;
      }
      if (labels.contains("slot")) {
        CHECK(labels.value("slot", "") == kSlot);
        saw_slot = true;
      }
    }
  }
  CHECK(saw_standby);
  CHECK(saw_slot);

  // The standby-side panels show nothing for a primary: its series are absent, never 0.
  for (const auto& q : standby_only_on_primary) {
    const auto data = prom.query(q.expr);
    INFO(kPrimary << ": " << q.panel << ": " << q.expr << "\n -> " << data.dump().substr(0, 300));
    CHECK(data.is_object());
    CHECK_FALSE(has_samples(data));
  }
  std::cout << "Replication row: " << on_primary.size() << " queries, " << expected.size()
            << " (query, target) pairs checked, " << empty.size() << " empty, all data after "
            << waited << " s\n";
}

TEST_CASE("paused replay and a stopped primary fire the replication alerts through Prometheus",
          "[e2e][integration]") {
  char dir[] = "/tmp/pgvitals-rules-XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  const std::string rules = rules_with_short_for(kSource + "/alerts/pgvitals.rules.yml", dir, "3s");
  PgCluster primary;
  const auto standby = PgCluster::standby_of(primary, kStandbyApp);
  REQUIRE(eventually([&] { return streaming(primary); }, 30s));
  TempFile config(two_targets(primary, *standby));
  AgentProcess agent({"--config", config.path()}, {});
  REQUIRE(agent.wait_for_status("/healthz", 200, 10s));
  PrometheusProcess prom(agent.port(), {rules});
  REQUIRE(eventually(
      [&] { return has_samples(prom.query("pgvitals_replica_wal_receiver_up == 1")); }, 20s));
  CHECK(alert_state(prom, "PgvitalsReplicaReplayPaused") == "inactive");
  CHECK(alert_state(prom, "PgvitalsWalReceiverDown") == "inactive");

  const auto paused_at = std::chrono::steady_clock::now();
  standby->admin("SELECT pg_wal_replay_pause()");
  REQUIRE(eventually([&] { return alert_state(prom, "PgvitalsReplicaReplayPaused") == "firing"; },
                     30s));
  const double paused_fired =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - paused_at).count();
  standby->admin("SELECT pg_wal_replay_resume()");

  const auto stopped_at = std::chrono::steady_clock::now();
  primary.stop();
  REQUIRE(
      eventually([&] { return alert_state(prom, "PgvitalsWalReceiverDown") == "firing"; }, 30s));
  const double receiver_fired =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - stopped_at).count();
  std::cout << "PgvitalsReplicaReplayPaused firing " << paused_fired
            << " s after the pause, PgvitalsWalReceiverDown " << receiver_fired
            << " s after the primary stopped (for: 3s)\n";
}
