#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "agent_helpers.hpp"
#include "net.hpp"

using namespace std::chrono_literals;
using namespace pgv::testing;

namespace {

CommandResult run_agent_once(const std::vector<std::string>& args, const Env& env) {
  std::vector<std::string> argv = {agent_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_capture(argv, env);
}

}  // namespace

TEST_CASE("bad configuration exits 2 with a message naming the key", "[agent][cli][integration]") {
  const Env env = {{"DATABASE_URL", "postgresql://u@127.0.0.1:5432/db"}};
  struct Case {
    std::string yaml;
    std::string key;
  };
  const std::vector<Case> cases = {
      {"targets:\n  - name: a\n    dsn: postgresql://u@h/db\n    colour: blue\n",
       "targets[0].colour"},
      {"interval: fast\n", "interval"},
      {"pool:\n  size: -1\n", "pool.size"},
      {"targets:\n  - name: a\n    dsn: 'host=h bogus'\n", "targets[0].dsn"},
      {"targets:\n  - name: a\n    dsn: postgresql://u@h/db\n    max_replication_lag: 16XB\n",
       "targets[0].max_replication_lag"},
  };
  for (const auto& c : cases) {
    TempFile file(c.yaml);
    const auto r = run_agent_once({"run", "--check-config", "--config", file.path()}, env);
    INFO(c.yaml << r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.output.find(c.key) != std::string::npos);
  }
  CHECK(run_agent_once({"run", "--interval", "soon"}, env).exit_code == 2);
  CHECK(run_agent_once({"run", "--no-such-flag"}, env).exit_code == 2);
  // A DSN pasted where no argument is expected is quoted back without its password.
  for (const std::string stray :
       {"postgresql://u:CANARY-argv@h/db", "host=h password=CANARY-argv user=u"}) {
    const auto r = run_agent_once({"run", stray}, env);
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("not expected") != std::string::npos);
    CHECK(r.output.find("CANARY-argv") == std::string::npos);
  }
  const auto no_targets = run_agent_once({"run"}, {});
  CHECK(no_targets.exit_code == 2);
  CHECK(no_targets.output.find("DATABASE_URL") != std::string::npos);
}

TEST_CASE("run --check-config accepts a good configuration", "[agent][cli][integration]") {
  TempFile file("interval: 2s\ntargets:\n  - name: main\n    dsn: postgresql://u:CANARY-cc@h/db\n");
  const auto r = run_agent_once({"run", "--check-config", "--config", file.path()}, {});
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("main") != std::string::npos);
  CHECK(r.output.find("CANARY-cc") == std::string::npos);
}

TEST_CASE("version and help answer without a configuration", "[agent][cli][integration]") {
  const auto v = run_agent_once({"--version"}, {});
  CHECK(v.exit_code == 0);
  CHECK(v.output.find("pgvitals ") != std::string::npos);
  const auto h = run_agent_once({"run", "--help"}, {});
  CHECK(h.exit_code == 0);
  CHECK(h.output.find("--check-config") != std::string::npos);
}

TEST_CASE("pgvitals check: 0 healthy, 1 unhealthy, 2 bad configuration",
          "[agent][cli][integration]") {
  PgCluster cluster;
  const auto ok = run_agent_once({"check"}, env_for(cluster));
  INFO(ok.output);
  CHECK(ok.exit_code == 0);
  CHECK(ok.output.find("[+] default  up") != std::string::npos);
  CHECK(ok.output.find("healthy") != std::string::npos);

  const auto json = run_agent_once({"check", "--format", "json"}, env_for(cluster));
  const auto parsed = nlohmann::json::parse(json.output);
  CHECK(parsed["healthy"] == true);
  CHECK(parsed["targets"][0]["checks"]["connectivity"]["ok"] == true);

  const Env down = {
      {"DATABASE_URL", "postgresql://u:pw@127.0.0.1:" + std::to_string(free_port()) + "/db"}};
  const auto bad = run_agent_once({"check", "--timeout", "1s"}, down);
  INFO(bad.output);
  CHECK(bad.exit_code == 1);
  CHECK(bad.output.find("connection refused") != std::string::npos);
  CHECK(bad.seconds < 5);

  CHECK(run_agent_once({"check", "--interval", "0s"}, env_for(cluster)).exit_code == 2);
}

TEST_CASE("DB_ECHO_SQL logs every probe statement at debug level", "[agent][integration]") {
  PgCluster cluster;
  Env env = env_for(cluster);
  env["DB_ECHO_SQL"] = "true";
  AgentProcess agent({"--interval", "1s", "--timeout", "500ms", "--log-level", "debug"}, env);
  REQUIRE(agent.wait_for_status("/healthz", 200, 5s));
  CHECK(agent.log().find("SELECT pg_is_in_recovery()") != std::string::npos);
}

TEST_CASE("malformed HTTP gets 400 and the agent keeps serving", "[agent][http][integration]") {
  PgCluster cluster;
  AgentProcess agent(kFastArgs, env_for(cluster));
  REQUIRE(agent.wait_for_status("/livez", 200, 5s));
  const auto garbage =
      run_capture({"bash", "-c",
                   "exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(agent.port()) +
                       "; printf '\\x01\\x02 garbage\\r\\n\\r\\n' >&3; timeout 2 cat <&3"},
                  {});
  CHECK(garbage.output.find("400") != std::string::npos);
  CHECK(agent.get("/livez").status == 200);
  CHECK(agent.get("/nope").status == 404);
}
