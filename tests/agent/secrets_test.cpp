#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "agent_helpers.hpp"
#include "helpers.hpp"
#include "temp_dir.hpp"

using namespace std::chrono_literals;
using namespace pgv::testing;

namespace {

constexpr const char* kCanary = "CANARY-7zq-pw";

std::string canary_url(const PgCluster& cluster) {
  return std::string("postgresql+asyncpg://pgvitals:") + kCanary +
         "@127.0.0.1:" + std::to_string(cluster.port()) + "/postgres";
}

}  // namespace

TEST_CASE("a canary password reaches no log line, metric, page, trace or incident file",
          "[agent][secrets][integration]") {
  PgCluster cluster;
  cluster.admin(std::string("ALTER ROLE pgvitals PASSWORD '") + kCanary + "'");
  for (const std::string format : {"text", "json"}) {
    TempDir incidents("pgvitals-secrets");
    Env env = {{"DATABASE_URL", canary_url(cluster)},
               {"DB_ECHO_SQL", "1"},
               {"PGVITALS_INCIDENTS_DIR", incidents.path()}};
    AgentProcess agent(
        {"--interval", "1s", "--timeout", "500ms", "--log-level", "debug", "--log-format", format},
        env);
    REQUIRE(agent.wait_for_status("/healthz", 200, 5s));
    // Failures put error text everywhere: logs, traces, health bodies.
    cluster.stop();
    REQUIRE(agent.wait_for_status("/healthz", 503, 3s));
    std::string everything;
    for (const char* path : {"/metrics", "/healthz?verbose", "/healthz?format=json",
                             "/readyz?verbose", "/readyz?format=json", "/livez?verbose",
                             "/debug/failures", "/", "/primary", "/healthz/default?format=json",
                             "/debug/status", "/debug/history", "/debug/history?target=default",
                             "/debug/activity", "/assets/status.js", "/assets/status.css"}) {
      const auto r = agent.get(path);
      CHECK(r.status != 0);
      everything += r.body;
    }
    // The incident the outage opened, whole (its first error, transitions and failures).
    const bool listed = eventually(
        [&] { return agent.get("/debug/incidents").body.find("\"default\"") != std::string::npos; },
        5s);
    CHECK(listed);
    const auto list = nlohmann::json::parse(agent.get("/debug/incidents").body, nullptr, false);
    REQUIRE(list.is_object());
    everything += list.dump();
    for (const auto& i : list.value("incidents", nlohmann::json::array())) {
      const auto r = agent.get("/debug/incidents/" + i.value("id", std::string()));
      CHECK(r.status == 200);
      everything += r.body;
    }
    cluster.start();
    REQUIRE(agent.wait_for_status("/healthz", 200, 3s));
    agent.signal(SIGTERM);
    REQUIRE(agent.wait_exit(3s));
    everything += agent.log();
    // The incident as written to disk, and as `check --incident` prints it for a person.
    std::size_t files = 0;
    for (const auto& f : std::filesystem::directory_iterator(incidents.path())) {
      everything += read_file(f.path().string());
      ++files;
    }
    CHECK(files >= 1);
    const auto printed = run_capture({agent_binary(), "check", "--incident", "last"},
                                     {{"PGVITALS_INCIDENTS_DIR", incidents.path()}});
    CHECK(printed.exit_code == 0);
    CHECK(printed.output.find("default") != std::string::npos);
    everything += printed.output;
    INFO(format);
    CHECK(everything.find("refused") != std::string::npos);  // the failure text is there...
    CHECK(everything.find(kCanary) == std::string::npos);    // ...the password is not
    CHECK(agent.log().find("probe statement") != std::string::npos);
  }
}

TEST_CASE("pgvitals check and config errors never print the password",
          "[agent][secrets][integration]") {
  PgCluster cluster;
  cluster.admin(std::string("ALTER ROLE pgvitals PASSWORD '") + kCanary + "'");
  const auto ok = run_capture({agent_binary(), "check", "--format", "json"},
                              {{"DATABASE_URL", canary_url(cluster)}});
  CHECK(ok.exit_code == 0);
  cluster.stop();
  const auto down = run_capture({agent_binary(), "check"}, {{"DATABASE_URL", canary_url(cluster)}});
  CHECK(down.exit_code == 1);
  const auto bad_scheme = run_capture(
      {agent_binary(), "check"}, {{"DATABASE_URL", std::string("mysql://u:") + kCanary + "@h/db"}});
  CHECK(bad_scheme.exit_code == 2);
  TempFile file(std::string("targets:\n  - name: x\n    dsn: 'host=h password=") + kCanary +
                " junk'\n    colour: red\n");
  const auto bad_file =
      run_capture({agent_binary(), "run", "--check-config", "--config", file.path()}, {});
  CHECK(bad_file.exit_code == 2);
  for (const auto* r : {&ok, &down, &bad_scheme, &bad_file}) {
    INFO(r->output);
    CHECK(r->output.find(kCanary) == std::string::npos);
  }
}
