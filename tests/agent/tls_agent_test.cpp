// The real agent against a cluster with ssl=on: libpq's TLS settings pass through
// DATABASE_URL, and a certificate the agent cannot verify is a visible connect failure.
#include <catch2/catch.hpp>
#include <cmath>
#include <nlohmann/json.hpp>

#include "agent_helpers.hpp"
#include "helpers.hpp"

using namespace std::chrono_literals;
using namespace pgv::testing;

namespace {

ClusterOptions hostssl_only() {
  ClusterOptions options;
  options.tls = true;
  options.hostssl_only = true;  // a session without TLS could not pass, so healthy means TLS
  return options;
}

Env verify_full_env(const PgCluster& cluster, const std::string& ca) {
  return {{"DATABASE_URL", "postgresql://pgvitals:" + cluster.password() +
                               "@localhost:" + std::to_string(cluster.port()) +
                               "/postgres?sslmode=verify-full&sslrootcert=" + ca}};
}

double tls_phase(const AgentProcess& agent) {
  return metric_value(agent.get("/metrics").body, "pgvitals_connect_phase_seconds",
                      "phase=\"tls\"");
}

}  // namespace

TEST_CASE("the agent under verify-full with the cluster CA turns healthy and times the tls phase",
          "[agent][tls][integration]") {
  PgCluster cluster(hostssl_only());
  AgentProcess agent(kFastArgs, verify_full_env(cluster, cluster.ca_cert()));
  INFO(agent.log());
  REQUIRE(agent.wait_for_status("/healthz", 200, 5s));
  CHECK(metric_value(agent.get("/metrics").body, "pgvitals_up", "target=\"default\"") == 1);
  CHECK(eventually([&] { return tls_phase(agent) > 0; }, 3s));
  const auto encrypted = cluster.admin(
      "SELECT count(*), count(*) FILTER (WHERE s.ssl) FROM pg_stat_activity a "
      "JOIN pg_stat_ssl s USING (pid) WHERE a.application_name = 'pgvitals'");
  CHECK(encrypted.get(0, 0) != "0");
  CHECK(encrypted.get(0, 1) == encrypted.get(0, 0));
}

TEST_CASE("the agent with a CA that did not sign the server certificate stays up and reports it",
          "[agent][tls][integration]") {
  PgCluster cluster(hostssl_only());
  const TestCa wrong("some other CA");
  AgentProcess agent(kFastArgs, verify_full_env(cluster, wrong.cert()));

  nlohmann::json failure;
  const bool failed = eventually(
      [&] {
        const auto body = agent.get("/debug/failures?target=default&limit=1").body;
        const auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
        if (j.is_discarded() || !j.contains("failures") || j["failures"].empty()) return false;
        failure = j["failures"][0];
        return true;
      },
      5s);
  INFO(agent.log());
  REQUIRE(failed);
  INFO("failure: " << failure.dump());
  CHECK(failure["phase"] == "connect");
  CHECK(failure["reason"] != "timeout");
  const std::string message = failure["message"];
  CHECK_THAT(message, Catch::Contains("certificate verify failed"));
  CHECK_THAT(message, !Catch::Contains(cluster.password()));

  CHECK(agent.get("/healthz").status == 503);
  CHECK(agent.get("/livez").status == 200);
  CHECK(metric_value(agent.get("/metrics").body, "pgvitals_up", "target=\"default\"") == 0);
  // It keeps trying and keeps failing the same way; the process does not give up or die.
  CHECK(eventually(
      [&] {
        const auto j =
            nlohmann::json::parse(agent.get("/debug/failures?limit=1").body, nullptr, false);
        return !j.is_discarded() && j.value("total", 0) >= 2;
      },
      4s));
  CHECK(agent.get("/livez").status == 200);
  CHECK(agent.get("/healthz").status == 503);
  CHECK_FALSE(agent.wait_exit(0ms).has_value());
}
