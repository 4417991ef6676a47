// A StatefulSet of agents, played by processes that each have a UTS namespace of their own
// and so a host name of their own (pgvitals-0, -1, -2): one config with `index: auto`, and
// every target watched by exactly one of them.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <regex>
#include <set>
#include <string>

#include "agent_helpers.hpp"
#include "config/shard.hpp"
#include "helpers.hpp"

using namespace std::chrono_literals;
using namespace pgv::testing;

namespace {

constexpr int kTargets = 30;
constexpr int kShards = 3;

std::string target_name(int i) {
  return "db-" + std::to_string(i);
}

// One config for every pod: 30 targets, all on one server under distinct names.
std::string fleet_config(const std::string& dsn, const std::string& shard) {
  std::string yaml = "shard: " + shard +
                     "\n"
                     "probes: [connectivity]\n"
                     "pool: {size: 1, max_overflow: 0}\n"
                     "targets:\n";
  for (int i = 0; i < kTargets; ++i) {
    yaml += "  - {name: " + target_name(i) + ", dsn: '" + dsn + "'}\n";
  }
  return yaml;
}

// The targets an agent watches, from its pgvitals_target_info series.
std::set<std::string> watched_targets(const AgentProcess& agent) {
  std::set<std::string> names;
  const std::string body = agent.get("/metrics").body;
  static const std::regex kInfo(R"re((^|\n)pgvitals_target_info\{[^}]*target="([^"]+)")re");
  for (auto it = std::sregex_iterator(body.begin(), body.end(), kInfo);
       it != std::sregex_iterator(); ++it) {
    names.insert((*it)[2].str());
  }
  return names;
}

void require_root() {
  INFO(
      "needs root: each agent gets its own host name in a UTS namespace of its own "
      "(unshare --uts); CI runs the tests as root");
  REQUIRE(::geteuid() == 0);
}

}  // namespace

TEST_CASE("three agents named like StatefulSet pods split 30 targets, each watched once",
          "[agent][shard][integration]") {
  require_root();
  ClusterOptions options;
  options.max_connections = 100;
  PgCluster cluster(options);
  const TempFile config(fleet_config(cluster.dsn(), "{index: auto, count: 3}"));
  std::vector<std::unique_ptr<AgentProcess>> agents;
  for (int i = 0; i < kShards; ++i) {
    agents.push_back(std::make_unique<AgentProcess>(
        std::vector<std::string>{"--config", config.path(), "--interval", "1s", "--timeout", "1s",
                                 "--log-format", "json"},
        Env{}, "", "pgvitals-" + std::to_string(i)));
  }
  std::multiset<std::string> watched;
  for (int i = 0; i < kShards; ++i) {
    const AgentProcess& agent = *agents[static_cast<std::size_t>(i)];
    INFO("pgvitals-" << i << " log:\n" << agent.log());
    // Every target this agent has is up: it really watches them.
    REQUIRE(agent.wait_for_status("/healthz", 200, 20s));
    const std::set<std::string> own = watched_targets(agent);
    CHECK_FALSE(own.empty());
    for (const std::string& name : own) CHECK(pgv::config::shard_of(name, kShards) == i);
    watched.insert(own.begin(), own.end());
    CHECK(agent.log().find("\"shard_index\":" + std::to_string(i)) != std::string::npos);
  }
  // The union is the whole fleet, and no target is watched twice.
  CHECK(watched.size() == static_cast<std::size_t>(kTargets));
  for (int i = 0; i < kTargets; ++i) CHECK(watched.count(target_name(i)) == 1);
}

TEST_CASE("index: auto refuses to start on a host name without an ordinal or beyond the count",
          "[agent][shard][integration]") {
  require_root();
  // Refused before any connection: no server needed.
  const TempFile config(fleet_config("host=127.0.0.1 port=1", "{index: auto, count: 3}"));
  auto start = [&](const std::string& host_name, const Env& env = {}) {
    // `run`, as a pod starts it; timeout ends an agent that wrongly started.
    return run_capture(with_host_name(host_name, {"timeout", "10", agent_binary(), "run",
                                                  "--config", config.path()}),
                       env);
  };
  const auto plain = start("db-host");
  INFO(plain.output);
  CHECK(plain.exit_code == 2);
  CHECK(plain.output.find("shard.index: auto, but the host name has no ordinal at its end: "
                          "got 'db-host'; allowed: a StatefulSet pod's host name ending in -0 "
                          "to -2 (shard.count is 3), or PGVITALS_SHARD_INDEX set to 0 to 2") !=
        std::string::npos);

  const auto beyond = start("pgvitals-3");
  INFO(beyond.output);
  CHECK(beyond.exit_code == 2);
  CHECK(beyond.output.find("not below shard.count: got 'pgvitals-3'") != std::string::npos);

  const auto bad_variable = start("pgvitals-0", {{"PGVITALS_SHARD_INDEX", "3"}});
  INFO(bad_variable.output);
  CHECK(bad_variable.exit_code == 2);
  CHECK(bad_variable.output.find("PGVITALS_SHARD_INDEX: out of range: got '3'; allowed: an "
                                 "integer from 0 to 2") != std::string::npos);

  // The variable (the pod-index label) wins over a host name that has no ordinal.
  const auto labelled = run_capture(
      with_host_name("db-host",
                     {agent_binary(), "run", "--check-config", "--config", config.path()}),
      {{"PGVITALS_SHARD_INDEX", "1"}});
  INFO(labelled.output);
  CHECK(labelled.exit_code == 0);
  CHECK(labelled.output.find("of shard 1 (count 3, index from PGVITALS_SHARD_INDEX)") !=
        std::string::npos);
}
