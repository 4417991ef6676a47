#include "scheduler/target_runtime.hpp"

#include <sstream>

#include "probes/registry.hpp"

namespace pgv::scheduler {

pg::ConnectParams target_params(const config::TargetConfig& target) {
  pg::SessionSettings session;
  // The server gives up on a statement when we would: a hung query never outlives its probe.
  session.statement_timeout = target.timeout;
  session.through_pooler = target.kind == config::TargetKind::pgbouncer || !target.via.empty();
  return pg::make_connect_params(target.dsn, session);
}

pool::PoolOptions pool_options(const config::PoolSettings& settings, config::TargetKind kind) {
  pool::PoolOptions options;
  options.size = settings.size;
  options.max_overflow = settings.max_overflow;
  options.timeout = settings.timeout;
  options.recycle = settings.recycle;
  options.pre_ping = settings.pre_ping;
  if (kind == config::TargetKind::pgbouncer) options.ping_sql = "SHOW VERSION";
  return options;
}

TargetRuntime::TargetRuntime(telemetry::Telemetry& telemetry, const config::TargetConfig& target,
                             const config::AgentConfig& agent, pg::ConnectParams connect_params)
    : config(target),
      params(std::move(connect_params)),
      echo_sql(agent.echo_sql),
      activity_top_n(agent.activity_top_n),
      expose_query_text(agent.expose_query_text),
      recorder(std::make_unique<telemetry::TargetRecorder>(telemetry, target, params.endpoint(),
                                                           agent.plateau_for)),
      pool(params, pool_options(target.pool, target.kind), &recorder->pool_observer()),
      probes(probes::make_probes(target, agent)) {}

std::string fingerprint(const config::TargetConfig& t, const config::AgentConfig& a) {
  std::ostringstream out;
  out << t.name << ' ' << config::to_string(t.kind) << ' ' << t.via << '\n'
      << t.dsn.conninfo << '\n'
      << t.required << ' ' << t.interval.count() << ' ' << t.timeout.count() << ' ' << t.pool.size
      << ' ' << t.pool.max_overflow << ' ' << t.pool.timeout.count() << ' '
      << t.pool.recycle.count() << ' ' << t.pool.pre_ping << '\n';
  for (const auto& [k, v] : t.labels) out << k << '=' << v << '\n';
  for (const auto& p : t.probes) out << p << ',';
  out << '\n' << t.max_replication_lag.describe();
  for (const auto& b : t.applications) {
    out << '\n'
        << b.name << '\t' << b.user << '\t' << b.max_connections << '\t' << b.owner << '\t'
        << (b.idle_in_transaction_max ? b.idle_in_transaction_max->count() : -1);
  }
  out << '\n'
      << a.settings_every << ' ' << a.echo_sql << ' ' << a.activity_top_n << ' '
      << a.expose_query_text << ' ' << a.plateau_for.count();
  return out.str();
}

}  // namespace pgv::scheduler
