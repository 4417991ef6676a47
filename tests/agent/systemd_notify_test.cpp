// The systemd notification protocol, spoken to a socket the test owns the way systemd
// (or systemd-notify's listener) would: READY=1 after start, WATCHDOG=1 while alive,
// RELOADING=1 / READY=1 around SIGHUP, STOPPING=1 on SIGTERM. And the unit that asks for it.
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent_helpers.hpp"
#include "helpers.hpp"

using namespace std::chrono_literals;
using namespace pgv::testing;

namespace {

// A bound AF_UNIX datagram socket: what systemd listens on for NOTIFY_SOCKET.
class NotifySocket {
 public:
  NotifySocket()
      : path_((std::filesystem::temp_directory_path() /
               ("pgvitals-notify-" + std::to_string(::getpid()) + ".sock"))
                  .string()) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    ::unlink(path_.c_str());
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    const timeval tv{0, 100'000};  // recv() returns within 100 ms, so waits keep a deadline
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifySocket() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  const std::string& path() const { return path_; }

  // Messages received until one contains `wanted`, or the deadline; all of them, in order.
  std::vector<std::string> until(const std::string& wanted, std::chrono::milliseconds timeout) {
    std::vector<std::string> got;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) continue;
      got.emplace_back(buf, static_cast<std::size_t>(n));
      if (got.back().find(wanted) != std::string::npos) break;
    }
    return got;
  }

  // How many messages containing `wanted` arrive within `period`.
  int count(const std::string& wanted, std::chrono::milliseconds period) {
    int n = 0;
    const auto deadline = std::chrono::steady_clock::now() + period;
    while (std::chrono::steady_clock::now() < deadline) {
      char buf[4096];
      const ssize_t got = ::recv(fd_, buf, sizeof buf, 0);
      if (got > 0 &&
          std::string(buf, static_cast<std::size_t>(got)).find(wanted) != std::string::npos) {
        ++n;
      }
    }
    return n;
  }

 private:
  std::string path_;
  int fd_ = -1;
};

bool last_contains(const std::vector<std::string>& messages, const std::string& wanted) {
  return !messages.empty() && messages.back().find(wanted) != std::string::npos;
}

}  // namespace

TEST_CASE("under systemd the agent reports READY, pings the watchdog and reports STOPPING",
          "[agent][systemd][integration]") {
  PgCluster cluster;
  NotifySocket sock;
  Env env = env_for(cluster);
  env["NOTIFY_SOCKET"] = sock.path();
  env["WATCHDOG_USEC"] = "400000";  // pings every 100 ms
  AgentProcess agent(kFastArgs, env);

  const auto ready = sock.until("READY=1", 5s);
  REQUIRE(last_contains(ready, "READY=1"));
  CHECK(ready.back().find("STATUS=watching 1 target(s)") != std::string::npos);
  // READY comes once the listener is bound: HTTP answers at once.
  CHECK(agent.get("/livez").status == 200);
  // A quarter of WATCHDOG_USEC apart: about 20 in 2 s; at least 5 under load (an ASan run
  // beside the suite once counted 3 in a 1 s window).
  const int pings = sock.count("WATCHDOG=1", 2000ms);
  CHECK(pings >= 5);
  CHECK(pings <= 30);

  agent.signal(SIGHUP);
  const auto reload = sock.until("READY=1", 5s);
  REQUIRE(last_contains(reload, "READY=1"));
  bool reloading = false;
  for (const auto& msg : reload) {
    if (msg.find("RELOADING=1") != std::string::npos) {
      reloading = msg.find("MONOTONIC_USEC=") != std::string::npos;
    }
  }
  CHECK(reloading);

  agent.signal(SIGTERM);
  CHECK(last_contains(sock.until("STOPPING=1", 3s), "STOPPING=1"));
  const auto status = agent.wait_exit(3s);
  REQUIRE(status);
  CHECK(*status == 0);
}

TEST_CASE("the watchdog is not pinged for another process's WATCHDOG_PID",
          "[agent][systemd][integration]") {
  PgCluster cluster;
  NotifySocket sock;
  Env env = env_for(cluster);
  env["NOTIFY_SOCKET"] = sock.path();
  env["WATCHDOG_USEC"] = "400000";
  env["WATCHDOG_PID"] = "1";  // meant for someone else
  AgentProcess agent(kFastArgs, env);
  REQUIRE(last_contains(sock.until("READY=1", 5s), "READY=1"));
  CHECK(sock.count("WATCHDOG=1", 500ms) == 0);
}

TEST_CASE("the systemd unit asks for readiness and a watchdog", "[agent][systemd]") {
  std::ifstream in(std::filesystem::path(PGVITALS_SOURCE_DIR) / "config" / "systemd" /
                   "pgvitals.service");
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  const std::string unit = text.str();
  CHECK(unit.find("\nType=notify\n") != std::string::npos);
  CHECK(unit.find("\nNotifyAccess=main\n") != std::string::npos);
  CHECK(unit.find("\nWatchdogSec=30s\n") != std::string::npos);
  // A watchdog kill must lead to a restart.
  CHECK(unit.find("\nRestart=on-failure\n") != std::string::npos);
  // The sandbox must let the notification through.
  CHECK(unit.find("RestrictAddressFamilies=AF_UNIX") != std::string::npos);
}
