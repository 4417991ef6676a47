#pragma once

#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "async/event_loop.hpp"
#include "config/agent_config.hpp"
#include "telemetry/telemetry.hpp"

namespace pgv::scheduler {

// Runs every target's probes on a small fixed set of event-loop threads. Threads do not
// grow with targets: each target is a coroutine on one loop (chosen by a stable hash of
// its name), and a hung database only ever parks its own coroutine.
class Scheduler {
 public:
  Scheduler(telemetry::Telemetry& telemetry, int workers);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;
  Scheduler(Scheduler&&) = delete;
  Scheduler& operator=(Scheduler&&) = delete;

  // Brings the running targets in line with `config`: new ones start, removed ones stop
  // (their connections closed, their series and state dropped), changed ones restart,
  // unchanged ones keep running untouched. Validates every DSN first and throws
  // config::ConfigError, changing nothing, if one is bad. Not thread-safe (one caller).
  void apply(const config::AgentConfig& config);

  // Cancels all work and joins the threads; connections are closed on the way out.
  void stop();

  std::size_t worker_count() const noexcept { return workers_.size(); }
  std::size_t target_count() const noexcept { return targets_.size(); }

  // How many threads to use when the configuration says 0.
  static int default_workers();

 private:
  struct Worker {
    async::EventLoop loop;
    std::thread thread;
  };
  struct Running {
    std::string fingerprint;
    std::size_t worker = 0;
    async::Scope scope = 0;
    std::shared_future<void> finished;
  };

  void start_target(const config::TargetConfig& target, const config::AgentConfig& config,
                    pg::ConnectParams params, std::size_t target_count);
  void start_heartbeats(Clock::duration period);

  telemetry::Telemetry& telemetry_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::map<std::string, Running> targets_;
  bool stopped_ = false;
};

}  // namespace pgv::scheduler
