#include "scheduler/scheduler.hpp"

#include <algorithm>

#include "async/awaitables.hpp"
#include "config/loader.hpp"
#include "log/log.hpp"
#include "scheduler/cadence.hpp"
#include "scheduler/cycle.hpp"
#include "scheduler/target_runtime.hpp"

namespace pgv::scheduler {
namespace {

constexpr auto kHeartbeat = std::chrono::milliseconds(250);
constexpr auto kStopWait = std::chrono::seconds(5);

async::Task<void> heartbeat(telemetry::StateStore& state, std::size_t worker,
                            Clock::duration period) {
  for (;;) {
    state.heartbeat(worker, Clock::now());
    const async::Outcome woke = co_await async::sleep_until(Clock::now() + period);
    if (woke == async::Outcome::cancelled) co_return;
  }
}

}  // namespace

int Scheduler::default_workers() {
  const unsigned cores = std::thread::hardware_concurrency();
  return static_cast<int>(std::clamp(cores, 1u, 4u));
}

Scheduler::Scheduler(telemetry::Telemetry& telemetry, int workers) : telemetry_(telemetry) {
  const int n = workers > 0 ? workers : default_workers();
  telemetry_.state.reset_liveness(static_cast<std::size_t>(n), std::chrono::seconds(15));
  for (int i = 0; i < n; ++i) {
    auto worker = std::make_unique<Worker>();
    Worker* w = worker.get();
    w->thread = std::thread([w] { w->loop.run(); });
    workers_.push_back(std::move(worker));
  }
  start_heartbeats(kHeartbeat);
}

Scheduler::~Scheduler() {
  stop();
}

void Scheduler::start_heartbeats(Clock::duration period) {
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    workers_[i]->loop.spawn(heartbeat(telemetry_.state, i, period), 0);
  }
}

void Scheduler::apply(const config::AgentConfig& config) {
  // Validate everything before touching anything: a bad reload keeps the old targets.
  std::map<std::string, pg::ConnectParams> params;
  for (const auto& target : config.targets) params.emplace(target.name, target_params(target));

  std::map<std::string, std::string> wanted;
  for (const auto& target : config.targets) wanted[target.name] = fingerprint(target, config);

  // Stop what is gone or changed, and wait: a replacement must not share series or state
  // with the target it replaces.
  std::vector<std::pair<std::string, std::shared_future<void>>> stopping;
  for (auto it = targets_.begin(); it != targets_.end();) {
    auto w = wanted.find(it->first);
    if (w != wanted.end() && w->second == it->second.fingerprint) {
      ++it;
      continue;
    }
    logging::log(logging::LogLevel::info,
                 w == wanted.end() ? "target removed" : "target changed, restarting",
                 {{"target", it->first}});
    workers_[it->second.worker]->loop.cancel_scope(it->second.scope);
    stopping.emplace_back(it->first, it->second.finished);
    it = targets_.erase(it);
  }
  // However long it takes: a loop is never blocked, so a cancelled target ends within a
  // turn of its loop, and a replacement started before that would share its series.
  for (auto& [name, finished] : stopping) {
    while (finished.wait_for(kStopWait) != std::future_status::ready) {
      logging::log(logging::LogLevel::warn, "stopped target has not finished; reload waits",
                   {{"target", name}});
    }
  }

  for (const auto& target : config.targets) {
    if (targets_.contains(target.name)) continue;
    start_target(target, config, std::move(params.at(target.name)), config.targets.size());
  }

  // /livez: every loop must have beaten within 3 x the shortest interval (never under 1 s).
  config::Millis shortest = config.interval;
  for (const auto& t : config.targets) shortest = std::min(shortest, t.interval);
  telemetry_.state.reset_liveness(workers_.size(),
                                  std::max<Clock::duration>(3 * shortest, std::chrono::seconds(1)));
}

void Scheduler::start_target(const config::TargetConfig& target, const config::AgentConfig& config,
                             pg::ConnectParams params, std::size_t target_count) {
  const std::uint64_t hash = config::stable_hash(target.name);
  Running running;
  running.fingerprint = fingerprint(target, config);
  running.worker = hash % workers_.size();
  running.scope = async::new_scope();
  const Clock::duration delay = first_delay(
      target.name, std::chrono::duration_cast<Clock::duration>(target.interval), target_count);
  auto runtime = std::make_shared<TargetRuntime>(telemetry_, target, config, std::move(params));
  auto finished = std::make_shared<std::promise<void>>();
  running.finished = finished->get_future().share();
  async::EventLoop& loop = workers_[running.worker]->loop;
  const async::Scope scope = running.scope;
  const std::string name = target.name;
  loop.spawn(run_schedule(std::move(runtime), delay), scope,
             [&loop, scope, finished, name](std::exception_ptr error) {
               if (error) {
                 try {
                   std::rethrow_exception(error);
                 } catch (const async::Cancelled&) {
                 } catch (const std::exception& e) {
                   logging::log(logging::LogLevel::error, "target loop ended unexpectedly",
                                {{"target", name}, {"error", e.what()}});
                 }
               }
               loop.release_scope(scope);
               finished->set_value();
             });
  logging::log(logging::LogLevel::info, "target started",
               {{"target", target.name},
                {"dsn", target.dsn.redacted},
                {"interval_seconds", std::chrono::duration<double>(target.interval).count()},
                {"timeout_seconds", std::chrono::duration<double>(target.timeout).count()}});
  targets_.emplace(target.name, std::move(running));
}

void Scheduler::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& w : workers_) w->loop.stop();
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  targets_.clear();
}

}  // namespace pgv::scheduler
