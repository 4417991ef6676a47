#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "async/clock.hpp"
#include "config/applications.hpp"
#include "config/lag_limit.hpp"
#include "config/probe_catalog.hpp"
#include "pg/conninfo.hpp"
#include "pool/observer.hpp"
#include "probes/result.hpp"

namespace pgv::telemetry {

// The last known outcome of one probe on one target.
struct CheckState {
  bool ran = false;
  bool ok = false;
  double last_run_unix = 0;
  double last_success_unix = 0;
  Clock::time_point last_success{};  // monotonic, for freshness
  double seconds = 0;                // duration of the last run
  std::string reason;                // of the last failure, if the last run failed
  std::string phase;
  std::string sqlstate;
  std::string message;  // redacted
  // A target reached through a pooler: the hop its last failure is placed on (pooler,
  // server, unknown) and why, in words.
  std::string hop;
  std::string hop_detail;
};

// Everything HTTP may show about a target. Published as an immutable copy after each
// probe, so readers never lock against the scheduler.
struct TargetState {
  std::string name;
  config::TargetKind kind = config::TargetKind::postgres;
  std::string via;        // the pooler target in front of this database, if any
  pg::Endpoint endpoint;  // where its DSN points (for finding targets of the same server)
  std::map<std::string, std::string> labels;
  std::vector<config::ApplicationBudget> applications;  // declared budgets, match order
  bool required = true;
  double interval_seconds = 5;
  double timeout_seconds = 2;
  std::vector<std::string> probes;  // enabled, in run order
  std::map<std::string, CheckState> checks;
  std::optional<bool> in_recovery;
  std::optional<probes::ServerSettings> settings;
  bool starting = false;  // last connection attempt met SQLSTATE 57P03
  pool::PoolStats pool;
  // The phases of the last new connection that succeeded (tcp, tls, auth, ...).
  std::vector<std::pair<std::string, double>> connect_phases;
  double last_cycle_unix = 0;
  std::shared_ptr<const probes::ActivityDigest> activity;
  double activity_unix = 0;
  std::shared_ptr<const probes::ReplicationDigest> replication;  // from this cycle, or none
  config::LagLimit max_replication_lag;                // /readyz's replication check, when set
  std::shared_ptr<const probes::PoolerDigest> pooler;  // kind pgbouncer: from this cycle, or none

  // The one freshness rule, read by the health answers, `check`, the landing page and the
  // activity gauges' expiry: a probe's last success counts while it is at most two of the
  // probe's periods plus one timeout old (one late cycle, then a probe that ran to its
  // deadline).
  double max_age_seconds(std::string_view probe) const;
  bool fresh(std::string_view probe, const CheckState& c, Clock::time_point now) const;
};

using Snapshot = std::map<std::string, std::shared_ptr<const TargetState>>;

// Liveness of the agent itself: when each scheduler thread last made progress.
struct Liveness {
  std::vector<Clock::time_point> heartbeats;
  Clock::duration max_age{};

  // /livez's rule, also what the systemd watchdog ping requires: every thread beat within
  // max_age.
  bool alive(Clock::time_point now) const;
};

// Store of target states. Writers replace one entry in place (O(log targets): with a
// thousand targets, copying the map on every probe result was the agent's largest CPU
// cost); a reader gets an immutable copy, made by the first reader after a change and
// shared by the readers after it, so readers never lock against each other for long.
class StateStore {
 public:
  std::shared_ptr<const Snapshot> snapshot() const;
  // One target's latest state (nullptr when there is none), without copying the map.
  std::shared_ptr<const TargetState> get(const std::string& name) const;
  void publish(std::shared_ptr<const TargetState> state);
  void remove(const std::string& name);

  void reset_liveness(std::size_t workers, Clock::duration max_age);
  void heartbeat(std::size_t worker, Clock::time_point now);
  Liveness liveness() const;

 private:
  mutable std::mutex mutex_;
  Snapshot current_;
  mutable std::shared_ptr<const Snapshot> snapshot_;  // null: rebuild from current_
  Liveness liveness_;
};

double unix_now();

}  // namespace pgv::telemetry
