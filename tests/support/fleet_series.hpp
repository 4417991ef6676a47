#pragma once

// A fleet's series without a fleet: N targets' metrics, created as the agent creates them
// (TargetMetrics) and filled with what a healthy target has after a few cycles. For the
// rendering benchmark and the tests that need a large /metrics without databases.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "telemetry/metrics.hpp"
#include "telemetry/target_metrics.hpp"

namespace pgv::testing {

inline const std::vector<std::string> kFleetProbes = {"connectivity", "new_connection", "lifecycle",
                                                      "settings", "activity"};

// One target's series with values a healthy target has after a few cycles.
inline void fill_target(telemetry::TargetMetrics& t, int i) {
  t.up().Set(1);
  for (const auto& probe : kFleetProbes) {
    for (int k = 0; k < 20; ++k) t.probe_duration(probe).Observe(0.0003 * (k + 1) + i * 1e-7);
    t.probe_last_success(probe).Set(1.7e9 + i);
  }
  for (const char* phase : {"dns", "tcp", "tls", "startup", "auth"}) {
    t.connect_phase(phase).Set(0.0001 * (i % 7 + 1));
  }
  for (int k = 0; k < 5; ++k) t.connect_duration().Observe(0.002 + k * 1e-4);
  pool::PoolStats pool;
  pool.idle = 1;
  pool.in_use = 1;
  pool.max = 2;
  pool.opened_total = 3;
  t.set_pool(pool);
  t.set_server(100, 3, false, 150000);
  probes::ActivityDigest activity;
  activity.client_backends = 12 + i % 5;
  activity.by_state = {{"active", 2}, {"idle", 9}, {"idle in transaction", 1}};
  activity.top_applications = {{"billing-worker", 6}, {"api", 5}, {"psql", 1}};
  activity.waiting_by_event_type = {{"Client", 3}, {"Lock", 1}};
  activity.oldest_transaction_seconds = 3.5;
  activity.oldest_idle_in_transaction_seconds = 1.25;
  activity.longest_query_seconds = 0.5;
  activity.max_connections = 100;
  activity.reserved_connections = 3;
  t.set_activity(activity);
  for (int k = 0; k < 5; ++k) t.schedule_lag().Observe(0.0001 * k);
  t.last_cycle().Set(1.7e9 + i);
}

// `count` targets named target-0.., their series registered in `metrics`.
inline std::vector<std::unique_ptr<telemetry::TargetMetrics>> make_fleet(
    telemetry::Metrics& metrics, int count) {
  std::vector<std::unique_ptr<telemetry::TargetMetrics>> all;
  for (int i = 0; i < count; ++i) {
    all.push_back(std::make_unique<telemetry::TargetMetrics>(
        metrics, "target-" + std::to_string(i),
        std::map<std::string, std::string>{{"env", "bench"}}, true, kFleetProbes));
    fill_target(*all.back(), i);
  }
  return all;
}

}  // namespace pgv::testing
