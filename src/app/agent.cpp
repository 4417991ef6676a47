#include "app/agent.hpp"

#include <signal.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "app/incident_recorder.hpp"
#include "app/sd_notify.hpp"
#include "config/error.hpp"
#include "config/loader.hpp"
#include "http/server.hpp"
#include "log/log.hpp"
#include "scheduler/scheduler.hpp"
#include "scheduler/target_runtime.hpp"
#include "telemetry/telemetry.hpp"
#include "version.hpp"

namespace pgv::app {
namespace {

using logging::LogLevel;

sigset_t agent_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

config::Secrets all_secrets(const config::AgentConfig& config) {
  config::Secrets secrets;
  for (const auto& t : config.targets) secrets.merge(t.dsn.secrets);
  secrets.add(config.auth.basic_password);
  secrets.add(config.auth.bearer_token);
  return secrets;
}

bool same_server_settings(const config::AgentConfig& a, const config::AgentConfig& b) {
  return a.listen.host == b.listen.host && a.listen.port == b.listen.port &&
         a.tls.cert_file == b.tls.cert_file && a.tls.key_file == b.tls.key_file &&
         a.auth.basic_user == b.auth.basic_user && a.auth.basic_password == b.auth.basic_password &&
         a.auth.bearer_token == b.auth.bearer_token &&
         a.auth.protect_health == b.auth.protect_health && a.workers == b.workers;
}

// The next signal, or 0 when `timeout` passes first (never, without one).
int next_signal(const sigset_t& set, std::optional<Clock::duration> timeout) {
  if (!timeout) {
    int sig = 0;
    return sigwait(&set, &sig) == 0 ? sig : 0;
  }
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(*timeout).count();
  const timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  const int sig = sigtimedwait(&set, nullptr, &ts);
  return sig > 0 ? sig : 0;
}

// systemd restarts an agent whose pings stop: one is sent only while every scheduler
// thread makes progress (the /livez rule), so a hung loop is restarted, not just reported.
void ping_watchdog(const SystemdNotifier& notifier, const telemetry::Telemetry& tel,
                   Clock::time_point& next_ping) {
  const auto every = notifier.watchdog_every();
  const Clock::time_point now = Clock::now();
  if (!every || now < next_ping) return;
  next_ping = now + *every;
  if (tel.state.liveness().alive(now)) notifier.notify("WATCHDOG=1");
}

std::string monotonic_usec() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::to_string(static_cast<long long>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000);
}

void reload(const config::FlagOverrides& flags, config::AgentConfig& current,
            telemetry::Telemetry& tel, scheduler::Scheduler& scheduler,
            IncidentRecorder& recorder) {
  logging::log(LogLevel::info, "reloading configuration");
  config::AgentConfig next;
  try {
    next = config::load_config(flags, config::current_environment());
    logging::set_log_secrets(all_secrets(next));
    scheduler.apply(next);
  } catch (const config::ConfigError& e) {
    logging::set_log_secrets(all_secrets(current));
    logging::log(LogLevel::error, "reload rejected, keeping the running configuration",
                 {{"error", e.what()}});
    return;
  }
  if (!same_server_settings(current, next)) {
    logging::log(LogLevel::warn,
                 "listen, tls, auth and workers changes take effect at the next restart");
  }
  try {
    logging::init_logging(next.log_format, next.log_level);
  } catch (const config::ConfigError& e) {
    // load_config already checked format and level, so this cannot happen with a config
    // that got here; if it ever does, the old logger keeps writing, and says so.
    logging::log(LogLevel::error, "log settings not applied, keeping the running ones",
                 {{"error", e.what()}});
  }
  tel.failures.set_capacity(next.failure_ring);
  recorder.reload(next);
  // Keep serving with the settings the server was started with.
  next.listen = current.listen;
  next.tls = current.tls;
  next.auth = current.auth;
  next.workers = current.workers;
  current = std::move(next);
  logging::log(LogLevel::info, "configuration reloaded",
               {{"targets", static_cast<long long>(current.targets.size())}});
}

}  // namespace

void block_agent_signals() {
  sigset_t set = agent_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // A client that hangs up mid-response must not kill the agent.
  signal(SIGPIPE, SIG_IGN);
}

int run_agent(const config::FlagOverrides& flags, bool check_config_only) {
  config::AgentConfig config;
  try {
    config = config::load_config(flags, config::current_environment());
    logging::init_logging(config.log_format, config.log_level);
  } catch (const config::ConfigError& e) {
    std::fprintf(stderr, "pgvitals: %s\n", e.what());
    return 2;
  }
  if (check_config_only) {
    try {
      // libpq's own parser has the last word on a DSN.
      for (const auto& t : config.targets) scheduler::target_params(t);
    } catch (const config::ConfigError& e) {
      std::fprintf(stderr, "pgvitals: %s\n", e.what());
      return 2;
    }
    std::printf("pgvitals: configuration ok: %zu target(s)", config.targets.size());
    if (config.shard.count > 1) {
      std::printf(" of shard %d (count %d, index from %s)", config.shard.index, config.shard.count,
                  config.shard.index_from.c_str());
    }
    std::printf("\n");
    for (const auto& t : config.targets)
      std::printf("  %s  %s\n", t.name.c_str(), t.dsn.redacted.c_str());
    return 0;
  }
  logging::set_log_secrets(all_secrets(config));

  telemetry::Telemetry tel;
  tel.failures.set_capacity(config.failure_ring);
  // Before any database is touched: an unwritable incidents.dir is bad configuration.
  std::unique_ptr<IncidentRecorder> recorder;
  try {
    recorder = std::make_unique<IncidentRecorder>(config, tel);
  } catch (const config::ConfigError& e) {
    std::fprintf(stderr, "pgvitals: %s\n", e.what());
    return 2;
  }
  // Targets are registered before HTTP answers: an empty snapshot would pass /healthz.
  scheduler::Scheduler scheduler(tel, config.workers);
  try {
    scheduler.apply(config);
  } catch (const config::ConfigError& e) {
    std::fprintf(stderr, "pgvitals: %s\n", e.what());
    return 2;
  }
  recorder->start();
  http::HttpServer server(config, tel, &recorder->log());
  try {
    server.start();
  } catch (const std::exception& e) {
    logging::log(LogLevel::error, "cannot start the HTTP server", {{"error", e.what()}});
    return 1;
  }
  const std::string scheme = server.tls() ? "https" : "http";
  const std::string host = config.listen.host == "0.0.0.0" ? "127.0.0.1" : config.listen.host;
  logging::log(LogLevel::info, "pgvitals started",
               {{"version", kVersion},
                {"targets", static_cast<long long>(config.targets.size())},
                {"shard_index", config.shard.index},
                {"shard_count", config.shard.count},
                {"workers", static_cast<long long>(scheduler.worker_count())},
                {"url", scheme + "://" + host + ":" + std::to_string(server.port()) + "/"}});

  // Ready: the listener is bound and every target's schedule has started.
  const SystemdNotifier notifier;
  notifier.notify("READY=1\nSTATUS=watching " + std::to_string(config.targets.size()) +
                  " target(s)");
  Clock::time_point next_ping{};
  ping_watchdog(notifier, tel, next_ping);

  const sigset_t set = agent_signals();
  for (;;) {
    std::optional<Clock::duration> until_ping;
    if (notifier.watchdog_every()) {
      until_ping =
          std::max<Clock::duration>(next_ping - Clock::now(), std::chrono::milliseconds(1));
    }
    const int sig = next_signal(set, until_ping);
    ping_watchdog(notifier, tel, next_ping);
    if (sig == 0) continue;
    if (sig == SIGHUP) {
      notifier.notify("RELOADING=1\nMONOTONIC_USEC=" + monotonic_usec());
      reload(flags, config, tel, scheduler, *recorder);
      notifier.notify("READY=1");
      continue;
    }
    logging::log(LogLevel::info, "stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    break;
  }
  notifier.notify("STOPPING=1");
  // Databases first: every connection is closed before the health endpoints go away.
  scheduler.stop();
  recorder->stop();
  server.stop();
  logging::log(LogLevel::info, "stopped");
  return 0;
}

}  // namespace pgv::app
