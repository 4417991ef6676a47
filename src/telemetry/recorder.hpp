#pragma once

#include <map>
#include <string>

#include "config/agent_config.hpp"
#include "probes/result.hpp"
#include "telemetry/application_metrics.hpp"
#include "telemetry/path.hpp"
#include "telemetry/pooler_metrics.hpp"
#include "telemetry/replication_metrics.hpp"
#include "telemetry/telemetry.hpp"

namespace pgv::telemetry {

// Turns one target's probe results into metrics, published state, failure records and
// log lines. Used by one thread at a time (the target's scheduler loop). Removing the
// target (destroying this) removes its series and its state.
class TargetRecorder {
 public:
  // `endpoint`: where the target's DSN points, to find a direct target of the same server
  // for a target reached through a pooler.
  // `plateau_for`: how long an undeclared application must sit at its ceiling to be flagged.
  TargetRecorder(Telemetry& hub, const config::TargetConfig& target, pg::Endpoint endpoint = {},
                 Clock::duration plateau_for = std::chrono::seconds(60));
  ~TargetRecorder();
  TargetRecorder(const TargetRecorder&) = delete;
  TargetRecorder& operator=(const TargetRecorder&) = delete;
  TargetRecorder(TargetRecorder&&) = delete;
  TargetRecorder& operator=(TargetRecorder&&) = delete;

  pool::PoolObserver& pool_observer() noexcept { return metrics_; }
  void record(const probes::ProbeResult& result);
  // After a cycle: how late it started, and the pool as it stands.
  void record_cycle(double lag_seconds, const pool::PoolStats& pool);
  const TargetState& state() const noexcept { return view(); }

 private:
  // record() in its three parts: the probe's own check (state, duration, failure trace),
  // what its row of the probe table makes it (up/down, activity gauges, connect phases),
  // and the server facts any result may carry (role, settings, activity digest).
  void record_check(const probes::ProbeResult& result);
  void record_by_role(const probes::ProbeResult& result, const config::ProbeSpec& spec);
  void record_server_facts(const probes::ProbeResult& result);
  void record_replication(std::shared_ptr<const probes::ReplicationDigest> digest);
  void record_pooler(std::shared_ptr<const probes::PoolerDigest> digest);
  void clear_pooler();
  // A target reached through a pooler: the pooler target and a direct one, as they stand.
  PathTargets path_targets();
  void record_path();
  void record_failure(const probes::ProbeResult& result, CheckState& check);
  void warn_unprivileged();
  void log_transition(const probes::ProbeResult& result, bool was_up);
  // The state is kept once between cycles: publish() moves it into the copy it hands to the
  // state store, and the next change copies it back (a fleet's targets spend most of their
  // time between cycles, and a state is ~2 KiB).
  void publish();
  TargetState& edit();
  const TargetState& view() const noexcept;

  // Repeated identical failures are logged once, then at most once a minute with the
  // number of lines held back.
  struct LogLimit {
    std::string last_reason;
    Clock::time_point last_logged{};
    long long suppressed = 0;
  };

  Telemetry& hub_;
  TargetMetrics metrics_;
  // Made by the first replication digest: a target that has none (most of a fleet)
  // carries no empty series sets.
  std::unique_ptr<ReplicationMetrics> replication_metrics_;
  ApplicationMetrics application_metrics_;
  std::unique_ptr<PoolerMetrics> pooler_metrics_;  // kind pgbouncer only
  // `via` targets only: pgvitals_path_hop_up and pgvitals_path_added_latency_seconds.
  std::unique_ptr<SeriesSet> hop_up_;
  std::unique_ptr<SeriesSet> added_latency_;
  std::string direct_;  // the direct target last found for this path ("" if none)
  // With none found: when to look again, and the server the pooler named then (a change
  // of it is looked up at once).
  Clock::time_point next_search_{};
  std::string searched_for_;
  TargetState state_;  // moved from while lent_
  std::shared_ptr<const TargetState> published_;
  bool lent_ = false;
  std::map<std::string, LogLimit> limits_;
  std::optional<bool> up_;
  bool warned_unprivileged_ = false;
  bool activity_this_cycle_ = false;
  bool replication_this_cycle_ = false;
  bool pooler_this_cycle_ = false;
  Clock::time_point down_since_{};
};

}  // namespace pgv::telemetry
