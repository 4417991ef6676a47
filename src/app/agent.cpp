#include "app/agent.hpp"

#include <signal.h>

#include <cstdio>

#include "config/error.hpp"
#include "config/loader.hpp"
#include "http/server.hpp"
#include "scheduler/scheduler.hpp"
#include "scheduler/target_runtime.hpp"
#include "telemetry/log.hpp"
#include "telemetry/telemetry.hpp"
#include "version.hpp"

namespace pgv::app {
namespace {

using telemetry::LogLevel;

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

void reload(const config::FlagOverrides& flags, config::AgentConfig& current,
            telemetry::Telemetry& tel, scheduler::Scheduler& scheduler) {
  telemetry::log(LogLevel::info, "reloading configuration");
  config::AgentConfig next;
  try {
    next = config::load_config(flags, config::current_environment());
    telemetry::set_log_secrets(all_secrets(next));
    scheduler.apply(next);
  } catch (const config::ConfigError& e) {
    telemetry::set_log_secrets(all_secrets(current));
    telemetry::log(LogLevel::error, "reload rejected, keeping the running configuration",
                   {{"error", e.what()}});
    return;
  }
  if (!same_server_settings(current, next)) {
    telemetry::log(LogLevel::warn,
                   "listen, tls, auth and workers changes take effect at the next restart");
  }
  try {
    telemetry::init_logging(next.log_format, next.log_level);
  } catch (const config::ConfigError&) {
  }
  tel.failures.set_capacity(next.failure_ring);
  // Keep serving with the settings the server was started with.
  next.listen = current.listen;
  next.tls = current.tls;
  next.auth = current.auth;
  next.workers = current.workers;
  current = std::move(next);
  telemetry::log(LogLevel::info, "configuration reloaded",
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
    telemetry::init_logging(config.log_format, config.log_level);
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
    std::printf("pgvitals: configuration ok: %zu target(s)\n", config.targets.size());
    for (const auto& t : config.targets)
      std::printf("  %s  %s\n", t.name.c_str(), t.dsn.redacted.c_str());
    return 0;
  }
  telemetry::set_log_secrets(all_secrets(config));

  telemetry::Telemetry tel;
  tel.failures.set_capacity(config.failure_ring);
  // Targets are registered before HTTP answers: an empty snapshot would pass /healthz.
  scheduler::Scheduler scheduler(tel, config.workers);
  try {
    scheduler.apply(config);
  } catch (const config::ConfigError& e) {
    std::fprintf(stderr, "pgvitals: %s\n", e.what());
    return 2;
  }
  http::HttpServer server(config, tel);
  try {
    server.start();
  } catch (const std::exception& e) {
    telemetry::log(LogLevel::error, "cannot start the HTTP server", {{"error", e.what()}});
    return 1;
  }
  const std::string scheme = server.tls() ? "https" : "http";
  const std::string host = config.listen.host == "0.0.0.0" ? "127.0.0.1" : config.listen.host;
  telemetry::log(LogLevel::info, "pgvitals started",
                 {{"version", kVersion},
                  {"targets", static_cast<long long>(config.targets.size())},
                  {"workers", static_cast<long long>(scheduler.worker_count())},
                  {"url", scheme + "://" + host + ":" + std::to_string(server.port()) + "/"}});

  const sigset_t set = agent_signals();
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGHUP) {
      reload(flags, config, tel, scheduler);
      continue;
    }
    telemetry::log(LogLevel::info, "stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    break;
  }
  // Databases first: every connection is closed before the health endpoints go away.
  scheduler.stop();
  server.stop();
  telemetry::log(LogLevel::info, "stopped");
  return 0;
}

}  // namespace pgv::app
