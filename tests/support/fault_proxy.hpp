#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

namespace pgv::testing {

// A TCP proxy between the agent and PostgreSQL that can misbehave on demand:
//   pass       forwards bytes both ways;
//   delay      holds every server-to-client chunk back for a fixed time (one added delay
//              per round trip);
//   blackhole  accepts and keeps connections but forwards nothing, either way;
//   reset      resets every open connection (RST) and every new one at once.
class FaultProxy {
 public:
  enum class Mode { pass, delay, blackhole, reset };

  explicit FaultProxy(int upstream_port);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;
  FaultProxy(FaultProxy&&) = delete;
  FaultProxy& operator=(FaultProxy&&) = delete;

  int port() const noexcept { return port_; }
  void pass() { set(Mode::pass, {}); }
  void delay(std::chrono::milliseconds d) { set(Mode::delay, d); }
  void blackhole() { set(Mode::blackhole, {}); }
  void reset() { set(Mode::reset, {}); }
  int connections_accepted() const noexcept { return accepted_.load(); }
  int connections_reset() const noexcept { return resets_.load(); }
  int open_connections() const noexcept { return open_.load(); }

 private:
  void set(Mode mode, std::chrono::milliseconds delay);
  void run();

  int upstream_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  int wake_[2] = {-1, -1};
  std::atomic<Mode> mode_{Mode::pass};
  std::atomic<long> delay_ms_{0};
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> resets_{0};
  std::atomic<int> open_{0};
  std::thread thread_;
};

}  // namespace pgv::testing
