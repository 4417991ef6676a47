#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "async/clock.hpp"
#include "pg/error.hpp"
#include "probes/pooler_digest.hpp"
#include "probes/replication_digest.hpp"

namespace pgv::probes {

// What the settings probe reads; refreshed every few cycles.
struct ServerSettings {
  int version_num = 0;
  std::string version;
  int max_connections = 0;
  int superuser_reserved_connections = 0;
  int reserved_connections = 0;  // PostgreSQL 16+, else 0
  bool in_recovery = false;
};

// One session worth showing on-call: the oldest transactions.
struct SessionInfo {
  int pid = 0;
  std::string application;
  std::string user;
  std::string state;
  double transaction_seconds = 0;
  std::string query;  // only with expose_query_text, at most 256 characters
};

// A session waiting on a lock, and the sessions holding it up.
struct BlockedSession {
  int pid = 0;
  std::vector<int> blocked_by;
};

// The sessions of one declared application (a budget), or of all undeclared ones.
struct ApplicationUsage {
  int budget = -1;  // index into the target's applications; -1: every undeclared one
  int sessions = 0;
  std::map<std::string, int> by_state;
  std::optional<double> oldest_idle_in_transaction_seconds;
  int waiting = 0;  // active sessions with a wait event
};

// What the activity probe reads from pg_stat_activity, about client backends only.
struct ActivityDigest {
  int client_backends = 0;
  std::map<std::string, int> by_state;  // "unknown" when the role may not see a state
  std::vector<std::pair<std::string, int>> top_applications;  // most sessions first
  std::vector<int> top_application_busy;                      // of each, the sessions not idle
  // Per declared application (budget order) with sessions, then the undeclared (-1).
  std::vector<ApplicationUsage> applications;
  int other_application_sessions = 0;  // sessions of applications outside the top N
  int distinct_applications = 0;
  std::map<std::string, int> waiting_by_event_type;  // active sessions that wait
  std::optional<double> oldest_transaction_seconds;
  std::optional<double> oldest_idle_in_transaction_seconds;
  std::optional<double> longest_query_seconds;
  // now() - state_change of the longest-waiting active session with wait_event_type Lock:
  // its wait began at or after state_change, so this bounds the wait from above.
  std::optional<double> longest_lock_wait_seconds;
  std::vector<BlockedSession> blocked;
  std::vector<SessionInfo> oldest_transactions;  // a few, oldest first
  int max_connections = 0;
  int reserved_connections = 0;  // superuser_reserved + reserved (16+)
  bool privileged = true;        // pg_monitor (or superuser): other roles' details are visible

  // Client backends / slots open to ordinary roles.
  double saturation() const noexcept {
    const int usable = max_connections - reserved_connections;
    return usable > 0 ? static_cast<double>(client_backends) / usable : 0;
  }
};

// The outcome of one probe run: everything telemetry needs, nothing that talks to the
// database. Immutable once the probe returns.
struct ProbeResult {
  std::string probe;
  bool ok = false;
  Clock::time_point started{};
  double seconds = 0;
  // Time per step (acquire, query, tcp, tls, auth, ...), in the order they ran.
  std::vector<std::pair<std::string, double>> phases;
  std::optional<pg::Error::Details> error;
  std::string error_message;  // redacted

  std::optional<bool> in_recovery;  // connectivity reads the role every cycle
  std::optional<ServerSettings> settings;
  std::shared_ptr<const ActivityDigest> activity;
  std::shared_ptr<const ReplicationDigest> replication;
  std::shared_ptr<const PoolerDigest> pooler;

  void add_phase(std::string name, double secs) { phases.emplace_back(std::move(name), secs); }
  // SQLSTATE 57P03: the server is starting up (or shutting down), not broken.
  bool server_starting() const noexcept { return error && error->sqlstate == "57P03"; }
};

}  // namespace pgv::probes
