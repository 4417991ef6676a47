#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "async/executor.hpp"
#include "config/agent_config.hpp"
#include "pg/conninfo.hpp"
#include "pool/pool.hpp"
#include "probes/probe.hpp"
#include "telemetry/recorder.hpp"
#include "telemetry/telemetry.hpp"

namespace pgv::scheduler {

// Connection parameters for a target, validated by libpq: the part of building a
// target that can fail on bad input, done before anything is torn down on a reload.
pg::ConnectParams target_params(const config::TargetConfig& target);

// The pool's options for a target's configured pool settings.
pool::PoolOptions pool_options(const config::PoolSettings& settings,
                               config::TargetKind kind = config::TargetKind::postgres);

// Everything one watched database needs at run time. Lives on one event-loop thread.
struct TargetRuntime {
  TargetRuntime(telemetry::Telemetry& telemetry, const config::TargetConfig& target,
                const config::AgentConfig& agent, pg::ConnectParams params);
  TargetRuntime(const TargetRuntime&) = delete;
  TargetRuntime& operator=(const TargetRuntime&) = delete;
  TargetRuntime(TargetRuntime&&) = delete;
  TargetRuntime& operator=(TargetRuntime&&) = delete;
  ~TargetRuntime() = default;

  const config::TargetConfig config;
  const pg::ConnectParams params;
  const bool echo_sql;
  const int activity_top_n;
  const bool expose_query_text;
  // Declared before the pool: the pool reports to it until the pool is gone.
  std::unique_ptr<telemetry::TargetRecorder> recorder;
  pool::Pool pool;
  std::vector<std::unique_ptr<probes::Probe>> probes;
  std::uint64_t cycle = 0;
};

// A string that changes whenever anything about the target's behaviour changes; a reload
// rebuilds a target only when it does.
std::string fingerprint(const config::TargetConfig& target, const config::AgentConfig& agent);

}  // namespace pgv::scheduler
