// What must hold on every server version the agent supports. The default suite runs these
// on Debian's PostgreSQL; the version matrix (scripts/test --all-versions) runs them again
// on 13 to 18, each with PGVITALS_TEST_PG set.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "agent_helpers.hpp"
#include "helpers.hpp"

using namespace std::chrono_literals;
using namespace pgv::testing;

namespace {

int version_num(PgCluster& cluster) {
  return std::stoi(std::string(cluster.admin("SHOW server_version_num").get(0, 0)));
}

// Every probe of the default set has succeeded at least once.
bool every_probe_succeeded(const std::string& metrics) {
  for (const char* probe :
       {"connectivity", "new_connection", "lifecycle", "settings", "activity"}) {
    const std::string label = std::string("probe=\"") + probe + "\"";
    if (std::isnan(metric_value(metrics, "pgvitals_probe_last_success_timestamp_seconds", label)))
      return false;
  }
  return true;
}

// Sums every sample of `metric` in the exposition.
double sum_of(const std::string& exposition, const std::string& metric) {
  double sum = 0;
  std::size_t pos = 0;
  while ((pos = exposition.find("\n" + metric + "{", pos)) != std::string::npos) {
    const std::size_t eol = exposition.find('\n', pos + 1);
    const std::string line = exposition.substr(pos + 1, eol - pos - 1);
    sum += std::stod(line.substr(line.rfind(' ') + 1));
    pos = eol;
  }
  return sum;
}

}  // namespace

TEST_CASE("versions: the harness runs the server version it was asked for",
          "[versions][integration]") {
  PgCluster cluster;
  const int num = version_num(cluster);
  CHECK(num / 10000 == server_major());
  if (const auto major = requested_major()) CHECK(num / 10000 == *major);
}

TEST_CASE("versions: every probe runs on this server, with and without pg_monitor",
          "[versions][integration]") {
  PgCluster cluster;
  const int truth = version_num(cluster);
  cluster.admin("CREATE ROLE plain LOGIN PASSWORD '" + cluster.password() + "'");
  for (const char* role : {"pgvitals", "plain"}) {
    DYNAMIC_SECTION("as " << role) {
      AgentProcess agent(kFastArgs, {{"DATABASE_URL", cluster.dsn(role)}});
      REQUIRE(agent.wait_for_status("/readyz", 200, 10s));
      std::string m;
      // 20 s: under ASan on a loaded machine the five first successes took over 5 s.
      const bool seen = eventually(
          [&] {
            m = agent.get("/metrics").body;
            return every_probe_succeeded(m);
          },
          20s);
      INFO(m);
      REQUIRE(seen);
      CHECK(metric_value(m, "pgvitals_server_version_num") == truth);
      // A query a server version cannot run (42703 undefined column, 42883 undefined
      // function) would count a failure here and leave an ERROR in the server's log.
      CHECK(sum_of(m, "pgvitals_probe_failures_total") == 0);
    }
  }
  const std::string log = cluster.log_tail();
  INFO(log);
  CHECK(log.find("does not exist") == std::string::npos);
  CHECK(log.find("ERROR") == std::string::npos);
}

TEST_CASE("versions: a standby of this version streams, and the agent sees a replica",
          "[versions][integration]") {
  PgCluster primary;
  primary.admin("CREATE TABLE marker (x int)");
  const auto standby = PgCluster::standby_of(primary, "standby-1");
  primary.admin("INSERT INTO marker VALUES (42)");
  REQUIRE(eventually(
      [&] {
        try {
          return standby->admin("SELECT count(*) FROM marker").get(0, 0) == "1";
        } catch (const std::exception&) {
          return false;  // still catching up to the table's creation
        }
      },
      30s));
  const auto replication = primary.admin("SELECT application_name, state FROM pg_stat_replication");
  REQUIRE(replication.rows() == 1);
  CHECK(replication.get(0, 0) == "standby-1");
  CHECK(replication.get(0, 1) == "streaming");
  CHECK(version_num(*standby) == version_num(primary));

  AgentProcess agent(kFastArgs, env_for(*standby));
  REQUIRE(agent.wait_for_status("/healthz", 200, 10s));
  CHECK(agent.wait_for_status("/replica", 200, 5s));
  CHECK(agent.get("/primary").status != 200);
  std::string m;
  // 20 s: under ASan on a loaded machine the slower probes' first rounds take a while.
  const bool seen = eventually(
      [&] {
        m = agent.get("/metrics").body;
        return every_probe_succeeded(m) && metric_value(m, "pgvitals_server_in_recovery") == 1;
      },
      20s);
  INFO(m);
  REQUIRE(seen);
  // Every probe works on a standby of this version too (none may write).
  CHECK(sum_of(m, "pgvitals_probe_failures_total") == 0);
}
