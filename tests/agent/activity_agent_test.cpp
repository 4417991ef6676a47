#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "agent_helpers.hpp"
#include "helpers.hpp"
#include "sessions.hpp"

using namespace std::chrono_literals;
using namespace pgv::testing;

TEST_CASE("a pg_monitor-only role gets every server metric",
          "[matrix][agent][activity][integration]") {
  PgCluster cluster;  // the agent's role `pgvitals` is a member of pg_monitor and nothing else
  cluster.admin("CREATE TABLE t (x int)");
  auto holder = open_sessions(cluster, 1, "postgres", "holder");
  auto waiter = open_sessions(cluster, 1, "postgres", "waiter");
  query(holder.at(0), "BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE");
  REQUIRE(pgv::pg::send(waiter.at(0), "SELECT * FROM t"));

  AgentProcess agent(kFastArgs, env_for(cluster));
  REQUIRE(agent.wait_for_status("/healthz", 200, 5s));
  std::string m;
  REQUIRE(eventually([&] {
    m = agent.get("/metrics").body;
    return metric_value(m, "pgvitals_server_blocked_sessions") == 1;
  }));
  CHECK(metric_value(m, "pgvitals_server_connections", "state=\"active\"") >= 1);
  CHECK(metric_value(m, "pgvitals_server_connections", "state=\"idle in transaction\"") >= 1);
  CHECK(metric_value(m, "pgvitals_server_connections_by_application", "application=\"holder\"") ==
        1);
  CHECK(metric_value(m, "pgvitals_server_connection_saturation_ratio") > 0);
  CHECK(metric_value(m, "pgvitals_server_oldest_transaction_seconds") > 0);
  CHECK(metric_value(m, "pgvitals_server_oldest_idle_in_transaction_seconds") > 0);
  CHECK(metric_value(m, "pgvitals_server_longest_query_seconds") > 0);
  CHECK(metric_value(m, "pgvitals_server_waiting_sessions", "wait_event_type=\"Lock\"") == 1);
  CHECK(metric_value(m, "pgvitals_server_max_connections") == 40);
  CHECK(metric_value(m, "pgvitals_server_in_recovery") == 0);
  CHECK(m.find("state=\"unknown\"") == std::string::npos);  // every state visible
  CHECK(agent.log().find("lacks pg_monitor") == std::string::npos);

  const auto activity = nlohmann::json::parse(agent.get("/debug/activity?target=default").body);
  const auto& a = activity["targets"][0]["activity"];
  CHECK(a["blocked"][0]["blocked_by"][0] == holder[0].backend_pid());
  CHECK(a["oldest_transactions"][0]["application"] == "holder");
  CHECK_FALSE(a["oldest_transactions"][0].contains("query"));
  CHECK(agent.get("/debug/activity?target=nope").status == 404);
  query(holder[0], "ROLLBACK");
}

TEST_CASE("a plain role keeps the counts and is warned about once",
          "[matrix][agent][activity][integration]") {
  PgCluster cluster;
  cluster.admin("CREATE ROLE plain LOGIN PASSWORD '" + cluster.password() + "'");
  auto others = open_sessions(cluster, 3, "postgres", "others");
  AgentProcess agent(kFastArgs, {{"DATABASE_URL", cluster.dsn("plain")}});
  // Deadlines wide enough for a loaded CI machine (CI stop 22 failed this case once, on 13).
  REQUIRE(agent.wait_for_status("/healthz", 200, 15s));
  std::string m;
  REQUIRE(eventually(
      [&] {
        m = agent.get("/metrics").body;
        return metric_value(m, "pgvitals_server_connections", "state=\"unknown\"") >= 3;
      },
      15s));
  CHECK(metric_value(m, "pgvitals_server_connections_by_application", "application=\"others\"") ==
        3);
  // Two more activity probes after the one that warned: the warning must stay single.
  auto activity_probes = [&] {
    return metric_value(agent.get("/metrics").body, "pgvitals_probe_duration_seconds_count",
                        "probe=\"activity\"");
  };
  const double probes = activity_probes();
  REQUIRE(eventually([&] { return activity_probes() >= probes + 2; }, 15s));
  const std::string log = agent.log();
  const auto first = log.find("lacks pg_monitor");
  REQUIRE(first != std::string::npos);
  CHECK(log.find("lacks pg_monitor", first + 1) == std::string::npos);
}

TEST_CASE("every slot taken: the agent answers, reports saturation, then recovers",
          "[agent][activity][integration]") {
  ClusterOptions options;
  options.max_connections = 20;  // 17 slots for ordinary roles
  PgCluster cluster(options);
  AgentProcess agent(kFastArgs, env_for(cluster));
  REQUIRE(agent.wait_for_status("/readyz", 200, 5s));

  auto fillers = open_sessions(cluster, 40, "pgvitals", "filler");  // until refused
  CHECK(fillers.size() >= 14);
  // A pooled session still works: connectivity holds; a new client cannot get in.
  REQUIRE(agent.wait_for_status("/readyz", 503, 8s));
  CHECK(agent.get("/healthz").status == 200);
  CHECK(agent.get("/livez").status == 200);
  const auto verbose = agent.get("/healthz?verbose").body;
  CHECK(verbose.find("[-]default/new_connection failed: too many connections (not counted)") !=
        std::string::npos);
  const auto failures = agent.get("/debug/failures?limit=20").body;
  CHECK(failures.find("\"sqlstate\": \"53300\"") != std::string::npos);
  CHECK(failures.find("\"reason\": \"too_many_connections\"") != std::string::npos);
  REQUIRE(eventually([&] {
    return metric_value(agent.get("/metrics").body, "pgvitals_server_connection_saturation_ratio") >
           0.95;
  }));

  fillers.clear();
  CHECK(agent.wait_for_status("/readyz", 200, 8s));
}

TEST_CASE("a thousand application names keep the series bounded by top N",
          "[agent][activity][integration]") {
  ClusterOptions options;
  options.max_connections = 240;
  PgCluster cluster(options);
  TempFile config(
      "interval: 1s\ntimeout: 1s\nactivity: {top_n: 20}\ntargets:\n  - name: db\n    dsn: " +
      cluster.dsn() + "\n");
  AgentProcess agent({"--config", config.path()}, {});
  REQUIRE(agent.wait_for_status("/healthz", 200, 5s));
  auto sessions = open_sessions(cluster, 200, "postgres", "start");
  REQUIRE(sessions.size() == 200);
  int most = 0;
  for (int round = 0; round < 5; ++round) {
    for (std::size_t i = 0; i < sessions.size(); ++i) {
      query(sessions[i],
            "SET application_name = 'app_" + std::to_string(round) + "_" + std::to_string(i) + "'");
    }
    const std::string marker = "application=\"app_" + std::to_string(round) + "_";
    std::string m;
    // The round is visible once its names are there and the previous round's have gone
    // into `other` (a snapshot may land while the SET loop is still running).
    REQUIRE(eventually([&] {
      m = agent.get("/metrics").body;
      return m.find(marker) != std::string::npos &&
             metric_value(m, "pgvitals_server_connections_by_application",
                          "application=\"other\"") >= 180;
    }));
    const int series = series_count(m, "pgvitals_server_connections_by_application");
    most = std::max(most, series);
    CHECK(series <= 21);  // 20 names + other
    CHECK(metric_value(m, "pgvitals_server_connections_by_application", "application=\"other\"") >=
          180);
  }
  INFO("most series seen: " << most);
  CHECK(most >= 20);
}

TEST_CASE("query text reaches /debug/activity only when expose_query_text is on",
          "[agent][activity][secrets][integration]") {
  PgCluster cluster;
  auto talker = open_sessions(cluster, 1, "postgres", "talker");
  const std::string marker = "MARKER_customer_ssn_4242";
  query(talker.at(0), "BEGIN; SELECT '" + marker + "'");
  for (const bool expose : {false, true}) {
    TempFile config(std::string("interval: 1s\ntimeout: 500ms\nactivity: {expose_query_text: ") +
                    (expose ? "true" : "false") +
                    "}\ntargets:\n  - name: db\n    dsn: " + cluster.dsn() + "\n");
    AgentProcess agent({"--config", config.path()}, {});
    REQUIRE(agent.wait_for_status("/healthz", 200, 5s));
    std::string page;
    REQUIRE(eventually([&] {
      page = agent.get("/debug/activity").body;
      return page.find("talker") != std::string::npos;
    }));
    INFO("expose_query_text " << expose);
    CHECK((page.find(marker) != std::string::npos) == expose);
    CHECK(agent.get("/metrics").body.find(marker) == std::string::npos);
    CHECK(agent.log().find(marker) == std::string::npos);
  }
}
