// `pgvitals probe`: the container health check that asks the agent, never the database.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "agent_helpers.hpp"
#include "helpers.hpp"
#include "net.hpp"

using namespace std::chrono_literals;
using namespace pgv::testing;

namespace {

CommandResult probe(const std::vector<std::string>& args, const Env& env = {}) {
  std::vector<std::string> argv = {agent_binary(), "probe"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_capture(argv, env);
}

std::string url(const AgentProcess& agent, const std::string& path) {
  return "http://127.0.0.1:" + std::to_string(agent.port()) + path;
}

// A TCP port that accepts connections (the kernel completes the handshake into the
// backlog) and never answers: a hung agent, as the probe sees it.
class SilentPort {
 public:
  SilentPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd_, 8) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentPort() { ::close(fd_); }
  SilentPort(const SilentPort&) = delete;
  SilentPort& operator=(const SilentPort&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace

TEST_CASE("probe: 0 for a live agent whose database is down, 1 for its failing /healthz",
          "[agent][probe][integration]") {
  // Nothing listens on port 1: the database is down from the start.
  AgentProcess agent(kFastArgs, {{"DATABASE_URL", "postgresql://pgvitals@127.0.0.1:1/postgres"}});
  REQUIRE(agent.wait_for_status("/livez", 200, 10s));
  REQUIRE(agent.wait_for_status("/healthz", 503, 10s));

  const auto live = probe({url(agent, "/livez")});
  INFO(live.output);
  CHECK(live.exit_code == 0);
  const auto health = probe({url(agent, "/healthz")});
  INFO(health.output);
  CHECK(health.exit_code == 1);
  CHECK_THAT(health.output, Catch::Contains("503"));

  // The default URL is /livez on the listen port of the config file.
  const std::string listen = "127.0.0.1:" + std::to_string(agent.port());
  TempFile config("listen: " + listen + "\n");
  CHECK(probe({"--config", config.path()}).exit_code == 0);
  CHECK(probe({}, {{"PGVITALS_CONFIG", config.path()}}).exit_code == 0);
  // ... or of PGVITALS_LISTEN, over the file's as for the agent (`-e PGVITALS_LISTEN=` in a
  // container whose HEALTHCHECK is a bare `pgvitals probe`).
  TempFile elsewhere("listen: 127.0.0.1:" + std::to_string(free_port()) + "\n");
  CHECK(probe({"--config", elsewhere.path()}).exit_code == 1);
  CHECK(probe({}, {{"PGVITALS_LISTEN", listen}}).exit_code == 0);
  CHECK(probe({}, {{"PGVITALS_LISTEN", ":" + std::to_string(agent.port())}}).exit_code == 0);
  const Env both = {{"PGVITALS_CONFIG", elsewhere.path()}, {"PGVITALS_LISTEN", listen}};
  CHECK(probe({}, both).exit_code == 0);
  CHECK(probe({}, {{"PGVITALS_LISTEN", "nonsense"}}).exit_code == 2);
}

TEST_CASE("probe: 1 when nothing answers, within its timeout", "[agent][probe][integration]") {
  SilentPort silent;
  const auto hung =
      probe({"http://127.0.0.1:" + std::to_string(silent.port()) + "/livez", "--timeout", "1s"});
  INFO(hung.output);
  CHECK(hung.exit_code == 1);
  CHECK(hung.seconds < 10);
  CHECK_THAT(hung.output, Catch::Contains("no answer"));

  const int closed = free_port();
  const auto refused = probe({"http://127.0.0.1:" + std::to_string(closed) + "/livez"});
  CHECK(refused.exit_code == 1);
}

TEST_CASE("probe: 2 for bad arguments, and a password in the URL is never printed",
          "[agent][probe]") {
  CHECK(probe({"ftp://127.0.0.1/livez"}).exit_code == 2);
  CHECK(probe({"127.0.0.1:9188"}).exit_code == 2);
  CHECK(probe({"--timeout", "soon"}).exit_code == 2);
  CHECK(probe({"--cacert", "/nonexistent/ca.crt", "https://127.0.0.1:1/"}).exit_code == 2);
  CHECK(probe({"--no-such-flag"}).exit_code == 2);
  const auto secret = probe({"http://u:hunter2-CANARY@127.0.0.1:1/livez"});
  CHECK(secret.exit_code == 2);
  CHECK(secret.output.find("hunter2-CANARY") == std::string::npos);
}

TEST_CASE("probe: https with --cacert or --insecure, and credentials from config or environment",
          "[agent][probe][integration]") {
  const TestCa ca;
  const auto leaf = ca.issue("agent", "127.0.0.1", "IP:127.0.0.1,DNS:localhost", true);
  TempFile config("tls:\n  cert_file: " + leaf.cert + "\n  key_file: " + leaf.key +
                  "\nauth:\n  bearer_token: tok-CANARY-probe\n  protect_health: true\n");
  AgentProcess agent({"--config", config.path()},
                     {{"DATABASE_URL", "postgresql://pgvitals@127.0.0.1:1/postgres"}});
  const std::string live = "https://127.0.0.1:" + std::to_string(agent.port()) + "/livez";
  REQUIRE(eventually(
      [&] {
        return probe({live, "--insecure", "--config", config.path()}).exit_code == 0;
      },
      10s));

  // Verified against the CA that signed it; an unknown issuer fails.
  CHECK(probe({live, "--cacert", ca.cert(), "--config", config.path()}).exit_code == 0);
  const TestCa other("another CA");
  CHECK(probe({live, "--cacert", other.cert(), "--config", config.path()}).exit_code == 1);

  // protect_health: no credentials is 401, so 1; the token from the environment works.
  const auto anonymous = probe({live, "--insecure"});
  CHECK(anonymous.exit_code == 1);
  CHECK_THAT(anonymous.output, Catch::Contains("401"));
  CHECK(
      probe({live, "--insecure"}, {{"PGVITALS_AUTH_BEARER_TOKEN", "tok-CANARY-probe"}}).exit_code ==
      0);
  CHECK(agent.log().find("tok-CANARY-probe") == std::string::npos);
}
