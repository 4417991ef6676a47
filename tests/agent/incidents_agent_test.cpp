// The incident recorder end to end: a real server with an application holding a
// transaction, stopped under a real agent; the record, its file, the restart, the CLI.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "agent_helpers.hpp"
#include "helpers.hpp"
#include "sessions.hpp"
#include "temp_dir.hpp"

using namespace std::chrono_literals;
using namespace pgv::testing;
using nlohmann::json;

namespace {

json incidents_of(const AgentProcess& agent) {
  const auto r = agent.get("/debug/incidents");
  REQUIRE(r.status == 200);
  return json::parse(r.body);
}

// The list, whatever its wrapping: an array, or {"incidents": [...]}.
const json& listed(const json& j) {
  return j.is_array() ? j : j.at("incidents");
}

bool holds_billing_worker(const json& record) {
  for (const auto& m : record.at("moments")) {
    if (!m.contains("activity") || m["activity"].is_null()) continue;
    for (const auto& s : m["activity"].value("oldest_transactions", json::array())) {
      if (s.value("application", "") == "billing-worker") return true;
    }
  }
  return false;
}

}  // namespace

TEST_CASE("a stopped database leaves an incident with the minutes before it",
          "[agent][incidents][integration]") {
  PgCluster cluster;
  TempDir dir("pgvitals-incidents");
  TempFile config(
      "incidents:\n  before: 30s\n  after: 3s\n"
      "targets:\n  - name: primary\n    dsn: " +
      cluster.dsn() + "\n");
  const Env env{{"PGVITALS_INCIDENTS_DIR", dir.path()}};
  std::vector<std::string> args = kFastArgs;
  args.insert(args.end(), {"--config", config.path()});

  auto billing = open_sessions(cluster, 1, "postgres", "billing-worker");
  REQUIRE(billing.size() == 1);
  query(billing[0], "BEGIN; SELECT txid_current()");

  std::string id;
  {
    AgentProcess agent(args, env);
    REQUIRE(agent.wait_for_status("/healthz", 200, 10s));
    // The watcher has seen the transaction once the digest shows it.
    REQUIRE(eventually(
        [&] {
          // Not const: before the first digest "activity" is null, and const operator[] throws.
          auto a = json::parse(agent.get("/debug/activity?target=primary").body);
          const auto& oldest = a["targets"][0]["activity"]["oldest_transactions"];
          return !oldest.empty() && oldest[0]["application"] == "billing-worker";
        },
        15s));
    REQUIRE(eventually([&] { return agent.get("/debug/history?target=primary").status == 200; }));
    CHECK(listed(incidents_of(agent)).empty());

    billing.clear();
    cluster.stop();
    json list;
    REQUIRE(eventually(
        [&] {
          list = listed(incidents_of(agent));
          return !list.empty();
        },
        10s));
    id = list[0].at("id");
    CHECK(list[0]["target"] == "primary");
    CHECK(list[0]["trigger"] == "down");
    CHECK(list[0]["closed"].is_null());

    // The down state and its failure trace reach the watcher separately; under load the
    // trace may come a tick after the incident opened. A probe in flight when the server
    // shut down fails in its query; the cycles after it fail to connect, and that trace
    // must reach the record too.
    json record;
    auto refused = [&] {
      for (const auto& f : record["failures"]) {
        if (f["phase"] == "connect") return true;
      }
      return false;
    };
    REQUIRE(eventually(
        [&] {
          const auto one = agent.get("/debug/incidents/" + id);
          if (one.status != 200) return false;
          record = json::parse(one.body);
          return refused();
        },
        5s));
    CHECK(holds_billing_worker(record));
    const json& first = record["failures"][0];
    CHECK((first["phase"] == "connect" || first["phase"] == "query"));
    // Within one interval of the first failed cycle.
    CHECK(record["opened"].get<double>() - first["time"].get<double>() <= 1.0 + 0.5);
    CHECK_FALSE(record["first_error"].get<std::string>().empty());
    CHECK(agent.get("/debug/incidents/nope").status == 404);

    const std::string metrics = agent.get("/metrics").body;
    CHECK(metric_value(metrics, "pgvitals_incident_open", "target=\"primary\"") == 1);
    CHECK(metric_value(metrics, "pgvitals_incidents_total",
                       "target=\"primary\",trigger=\"down\"") == 1);
    CHECK(metric_value(metrics, "pgvitals_incidents_total",
                       "target=\"primary\",trigger=\"saturation\"") == 0);
    CHECK(metric_value(metrics, "pgvitals_incident_write_failures_total") == 0);

    // Written while open.
    const std::string file = dir.path() + "/" + id + ".json";
    REQUIRE(eventually([&] { return std::filesystem::exists(file); }));
    CHECK(holds_billing_worker(json::parse(read_file(file))));

    // Recovery, then `after` more of recording, then closed.
    cluster.start();
    json closed;
    REQUIRE(eventually(
        [&] {
          closed = json::parse(agent.get("/debug/incidents/" + id).body);
          return !closed["closed"].is_null();
        },
        20s));
    CHECK(closed["ended"] == "recovered");
    CHECK(closed["closed"].get<double>() - closed["cleared"].get<double>() >= 3.0);
    CHECK_FALSE(closed["during"].empty());
    CHECK(metric_value(agent.get("/metrics").body, "pgvitals_incident_open",
                       "target=\"primary\"") == 0);
    REQUIRE(eventually(
        [&] { return !json::parse(read_file(file)).value("closed", json()).is_null(); }));

    agent.signal(SIGTERM);
    REQUIRE(agent.wait_exit(10s) == 0);
  }

  // A restarted agent lists it again.
  {
    AgentProcess again(args, env);
    REQUIRE(again.wait_for_status("/healthz", 200, 10s));
    const json list = listed(incidents_of(again));
    REQUIRE_FALSE(list.empty());
    CHECK(list[0]["id"] == id);
    CHECK(again.get("/debug/incidents/" + id).status == 200);
  }

  // A person reads it without an agent or a database.
  cluster.stop();
  const auto text = run_capture({agent_binary(), "check", "--incident", "last"},
                                {{"PGVITALS_INCIDENTS_DIR", dir.path()}});
  CHECK(text.exit_code == 0);
  CHECK_THAT(text.output, Catch::Contains(id));
  CHECK_THAT(text.output, Catch::Contains("billing-worker"));
  CHECK_THAT(text.output, Catch::Contains("recovered"));
  const auto raw = run_capture({agent_binary(), "check", "--incident", id, "--format", "json"},
                               {{"PGVITALS_INCIDENTS_DIR", dir.path()}});
  CHECK(raw.exit_code == 0);
  CHECK(json::parse(raw.output)["id"] == id);

  // The DSN's password is nowhere.
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    CHECK(read_file(entry.path()).find(cluster.password()) == std::string::npos);
  }
  CHECK(text.output.find(cluster.password()) == std::string::npos);
  CHECK(raw.output.find(cluster.password()) == std::string::npos);
}

TEST_CASE("an unwritable incidents.dir stops the agent at startup with exit 2",
          "[agent][incidents][integration]") {
  TempFile not_a_dir("just a file\n", ".txt");
  for (const std::string& bad : {not_a_dir.path(), not_a_dir.path() + "/incidents"}) {
    AgentProcess agent({}, {{"DATABASE_URL", "postgresql://127.0.0.1:1/postgres"},
                            {"PGVITALS_INCIDENTS_DIR", bad}});
    REQUIRE(agent.wait_exit(10s) == 2);
    CHECK_THAT(agent.log(), Catch::Contains("incidents.dir"));
    CHECK_THAT(agent.log(), Catch::Contains(bad));
  }
}
