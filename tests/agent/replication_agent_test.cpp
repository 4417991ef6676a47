// Replication, WAL retention and wraparound against a real primary and a streaming standby
// of the server version under test (the version matrix runs this binary on 13 to 18).
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "agent_helpers.hpp"
#include "helpers.hpp"

using namespace std::chrono_literals;
using namespace pgv::testing;
using pgv::Clock;

namespace {

using Seconds = std::chrono::duration<double>;

// A primary with a streaming standby, and an agent watching both every second.
struct Pair {
  PgCluster primary;
  std::unique_ptr<PgCluster> standby;
  std::unique_ptr<TempFile> config;
  std::unique_ptr<AgentProcess> agent;

  explicit Pair(const std::string& extra_target_keys = "", ClusterOptions options = {})
      : primary(std::move(options)) {
    primary.admin("CREATE TABLE filler (x int, pad text)");
    standby = PgCluster::standby_of(primary, "standby-1");
    REQUIRE(eventually([&] { return streaming_standbys() == 1; }, 30s));
    config = std::make_unique<TempFile>(
        "interval: 1s\ntimeout: 800ms\nactivity: {top_n: 5}\ntargets:\n"
        "  - name: primary\n    dsn: " +
        primary.dsn() + "\n  - name: standby\n    dsn: " + standby->dsn() + "\n" +
        extra_target_keys);
    agent =
        std::make_unique<AgentProcess>(std::vector<std::string>{"--config", config->path()}, Env{});
    REQUIRE(agent->wait_for_status("/healthz", 200, 10s));
    // Both targets' replication probes have run (the standby's first cycle may come first).
    REQUIRE(eventually([&] {
      const std::string m = agent->get("/metrics").body;
      return !std::isnan(metric_value(m, "pgvitals_replica_wal_receiver_up")) &&
             !std::isnan(metric_value(m, "pgvitals_server_xid_age", "target=\"primary\""));
    }));
  }

  int streaming_standbys() {
    return std::stoi(std::string(
        primary.admin("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")
            .get(0, 0)));
  }
  double value(const std::string& metric, const std::string& labels = "") {
    return metric_value(agent->get("/metrics").body, metric, labels);
  }
  // About `mb` MB of WAL on the primary.
  void write_wal(int mb) {
    primary.admin("INSERT INTO filler SELECT g, repeat('x', 1000) FROM generate_series(1, " +
                  std::to_string(mb * 900) + ") g");
  }
};

const std::string kStandby = "target=\"standby\"";
const std::string kPrimary = "target=\"primary\"";

}  // namespace

TEST_CASE("replication: paused replay shows as lag on both sides and fails ?lag=",
          "[replication][integration]") {
  Pair pair;
  CHECK(pair.value("pgvitals_replica_wal_receiver_up", kStandby) == 1);
  CHECK(pair.value("pgvitals_replica_replay_paused", kStandby) == 0);
  CHECK(pair.value("pgvitals_replication_standbys", "state=\"streaming\"") == 1);
  CHECK(pair.agent->get("/replica?target=standby&lag=1MB").status == 200);
  // On the primary the standby-side series do not exist: never a misleading 0.
  CHECK(std::isnan(pair.value("pgvitals_replica_wal_receiver_up", kPrimary)));

  pair.standby->admin("SELECT pg_wal_replay_pause()");
  pair.write_wal(4);
  const auto paused_at = Clock::now();
  REQUIRE(eventually(
      [&] { return pair.agent->get("/replica?target=standby&lag=1MB").status == 503; }, 15s));
  const double detected = Seconds(Clock::now() - paused_at).count();
  std::printf("replication: paused replay crossed ?lag=1MB after %.2f s\n", detected);
  const std::string m = pair.agent->get("/metrics").body;
  CHECK(metric_value(m, "pgvitals_replica_replay_paused", kStandby) == 1);
  CHECK(metric_value(m, "pgvitals_replica_replay_lag_bytes", kStandby) > 1024 * 1024);
  // The primary sees it at its own next cycle.
  CHECK(eventually([&] {
    return pair.value("pgvitals_replication_standby_lag_bytes", "standby=\"standby-1\"") >
           1024 * 1024;
  }));
  CHECK(metric_value(m, "pgvitals_replica_replay_lag_seconds", kStandby) >= 0);
  // Plain /replica keeps its meaning: a reachable replica.
  CHECK(pair.agent->get("/replica?target=standby").status == 200);
  const auto body = pair.agent->get("/replica?target=standby&lag=1MB").body;
  CHECK(body.find("replay lag") != std::string::npos);

  pair.standby->admin("SELECT pg_wal_replay_resume()");
  CHECK(eventually([&] { return pair.agent->get("/replica?target=standby&lag=1MB").status == 200; },
                   15s));
  CHECK(eventually([&] { return pair.value("pgvitals_replica_replay_lag_bytes", kStandby) == 0; }));
}

TEST_CASE("replication: an idle primary after a write is no replay lag",
          "[replication][integration]") {
  Pair pair;
  pair.write_wal(1);
  REQUIRE(
      eventually([&] { return pair.value("pgvitals_replica_replay_lag_bytes", kStandby) == 0; }));
  // Nothing written for several intervals: a now() - last-replay-timestamp lag would grow
  // by a second every second here. Replay lag is 0 whenever nothing received waits to be
  // replayed (a record the primary writes on its own, such as a running-transactions
  // snapshot, may be caught in flight for an instant).
  int idle_samples = 0;
  for (int i = 0; i < 4; ++i) {
    std::this_thread::sleep_for(1s);  // the condition is the passing of time itself
    const std::string m = pair.agent->get("/metrics").body;
    const double bytes = metric_value(m, "pgvitals_replica_replay_lag_bytes", kStandby);
    INFO("sample " << i << ": lag bytes " << bytes);
    if (bytes != 0) continue;
    ++idle_samples;
    CHECK(metric_value(m, "pgvitals_replica_replay_lag_seconds", kStandby) == 0);
  }
  CHECK(idle_samples >= 3);
  CHECK(pair.agent->get("/replica?target=standby&lag=1s").status == 200);
}

TEST_CASE("replication: the primary stopped is a receiver down on the standby",
          "[replication][integration]") {
  Pair pair;
  CHECK(pair.agent->get("/replica?target=standby&replication_state=streaming").status == 200);
  pair.primary.stop();
  const auto stopped_at = Clock::now();
  REQUIRE(eventually([&] { return pair.value("pgvitals_replica_wal_receiver_up", kStandby) == 0; },
                     15s));
  std::printf("replication: primary stop seen as receiver down after %.2f s\n",
              Seconds(Clock::now() - stopped_at).count());
  CHECK(pair.agent->get("/replica?target=standby&replication_state=streaming").status == 503);
  // A disconnected standby never passes a lag check, whatever its last numbers say.
  CHECK(pair.agent->get("/replica?target=standby&lag=1GB").status == 503);
  CHECK(pair.agent->get("/read-only?target=standby").status == 200);
  CHECK(pair.agent->get("/replica?target=standby").status == 200);
  CHECK(eventually([&] { return pair.agent->get("/read-only?target=primary").status == 503; }));
}

TEST_CASE("replication: an inactive slot's retained WAL grows as the primary writes",
          "[replication][integration]") {
  ClusterOptions options;
  options.settings = {"max_slot_wal_keep_size=1GB"};
  Pair pair("", options);
  pair.primary.admin("SELECT pg_create_physical_replication_slot('forgotten', true)");
  REQUIRE(eventually(
      [&] { return pair.value("pgvitals_replication_slot_active", "slot=\"forgotten\"") == 0; }));
  const double before =
      pair.value("pgvitals_replication_slot_retained_bytes", "slot=\"forgotten\"");
  CHECK(pair.value("pgvitals_replication_slot_wal_status", "wal_status=\"reserved\"") == 1);
  CHECK(pair.value("pgvitals_replication_slot_safe_wal_bytes", "slot=\"forgotten\"") > 0);
  pair.write_wal(8);
  const auto wrote_at = Clock::now();
  REQUIRE(eventually([&] {
    return pair.value("pgvitals_replication_slot_retained_bytes", "slot=\"forgotten\"") >
           before + 4 * 1024 * 1024;
  }));
  std::printf("replication: slot retention seen after %.2f s\n",
              Seconds(Clock::now() - wrote_at).count());

  // `pgvitals check` shows on-call both sides and the slot in one report.
  const auto check = run_capture({agent_binary(), "check", "--config", pair.config->path()}, {});
  INFO(check.output);
  CHECK(check.output.find("standby: receiver streaming") != std::string::npos);
  CHECK(check.output.find("standbys (1): standby-1 streaming async") != std::string::npos);
  CHECK(check.output.find("slots (1): forgotten (physical, INACTIVE, reserved) retains") !=
        std::string::npos);
  CHECK(check.output.find("of freeze max age") != std::string::npos);
}

TEST_CASE("replication: XID and MXID ages are the server's own", "[replication][integration]") {
  PgCluster cluster;
  AgentProcess agent(kFastArgs, env_for(cluster));
  REQUIRE(agent.wait_for_status("/healthz", 200, 10s));
  std::string m;
  REQUIRE(eventually([&] {
    m = agent.get("/metrics").body;
    return !std::isnan(metric_value(m, "pgvitals_server_xid_age"));
  }));
  // Ages only grow between the two reads; nothing else writes here.
  const double xid = std::stod(
      std::string(cluster.admin("SELECT max(age(datfrozenxid)) FROM pg_database").get(0, 0)));
  CHECK(metric_value(m, "pgvitals_server_xid_age") <= xid);
  CHECK(metric_value(m, "pgvitals_server_xid_age") >= xid - 5);
  const double mxid = std::stod(
      std::string(cluster.admin("SELECT max(mxid_age(datminmxid)) FROM pg_database").get(0, 0)));
  CHECK(metric_value(m, "pgvitals_server_mxid_age") == mxid);
  CHECK(metric_value(m, "pgvitals_server_autovacuum_freeze_max_age") == 200000000);
  // The database the oldest XID belongs to is in /debug/activity for on-call.
  const auto debug = nlohmann::json::parse(agent.get("/debug/activity").body);
  const auto& wrap = debug["targets"][0]["replication"]["wraparound"];
  CHECK(wrap["xid_database"] ==
        std::string(
            cluster.admin("SELECT datname FROM pg_database ORDER BY age(datfrozenxid) DESC LIMIT 1")
                .get(0, 0)));
  CHECK(metric_value(m, "pgvitals_server_autovacuum_multixact_freeze_max_age") == 400000000);
}

TEST_CASE("replication: a promoted standby's role, endpoints and metrics follow",
          "[replication][integration]") {
  Pair pair;
  pair.primary.stop();
  pair.standby->admin("SELECT pg_promote()");
  const auto promoted_at = Clock::now();
  REQUIRE(eventually([&] { return pair.agent->get("/primary?target=standby").status == 200; },
                     3s));  // two intervals and a timeout
  std::printf("replication: promotion seen after %.2f s\n",
              Seconds(Clock::now() - promoted_at).count());
  CHECK(eventually(
      [&] {
        const std::string m = pair.agent->get("/metrics").body;
        return metric_value(m, "pgvitals_server_in_recovery", kStandby) == 0 &&
               std::isnan(metric_value(m, "pgvitals_replica_wal_receiver_up", kStandby));
      },
      3s));
  CHECK(pair.agent->get("/replica?target=standby").status == 404);
}

TEST_CASE("replication: many slots stay within the top-N bound", "[replication][integration]") {
  ClusterOptions options;
  options.settings = {"max_replication_slots=20"};
  PgCluster cluster(options);
  for (int i = 0; i < 12; ++i) {
    cluster.admin("SELECT pg_create_physical_replication_slot('slot_" + std::to_string(i) +
                  "', true)");
  }
  TempFile config(
      "interval: 1s\ntimeout: 800ms\nactivity: {top_n: 5}\ntargets:\n"
      "  - name: db\n    dsn: " +
      cluster.dsn() + "\n");
  AgentProcess agent({"--config", config.path()}, {});
  REQUIRE(agent.wait_for_status("/healthz", 200, 10s));
  std::string m;
  REQUIRE(eventually([&] {
    m = agent.get("/metrics").body;
    return !std::isnan(metric_value(m, "pgvitals_replication_slot_active"));
  }));
  CHECK(series_count(m, "pgvitals_replication_slot_active") == 5);
}

TEST_CASE("replication: a bad ?lag= or replication_state= is a 400 that says why",
          "[replication][integration]") {
  PgCluster cluster;
  AgentProcess agent(kFastArgs, env_for(cluster));
  REQUIRE(agent.wait_for_status("/healthz", 200, 10s));
  for (const char* bad : {"lag=lots", "lag=-1MB", "lag=16XB", "replication_state=archive"}) {
    INFO(bad);
    const auto r = agent.get(std::string("/replica?") + bad);
    CHECK(r.status == 400);
    CHECK(r.body.find(bad[0] == 'l' ? "lag" : "replication_state") != std::string::npos);
  }
}
