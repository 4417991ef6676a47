// The family table: every family the agent exports, its name (the contract in DESIGN.md)
// and help, in the order /metrics renders them.
#include "telemetry/metrics.hpp"

#include "telemetry/gzip_pipeline.hpp"
#include "version.hpp"

namespace pgv::telemetry {

const Histogram::BucketBoundaries& latency_buckets() {
  static const Histogram::BucketBoundaries kBuckets = {
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,    0.1,    0.25,    0.5,    1,     2.5,    5,     10};
  return kBuckets;
}

template <class T>
Family<T>& Metrics::family(const char* name, const char* help) {
  auto family = std::make_unique<Family<T>>(name, help);
  Family<T>& ref = *family;
  families_.push_back(std::move(family));
  return ref;
}

Metrics::Metrics()
    : up(family<prometheus::Gauge>("pgvitals_up",
                                   "1 if the target's last connectivity probe succeeded, else 0.")),
      probe_duration(family<Histogram>("pgvitals_probe_duration_seconds",
                                       "Duration of successful probe runs.")),
      probe_failures(
          family<prometheus::Counter>("pgvitals_probe_failures_total",
                                      "Failed probe runs by reason (timeout, refused, auth, "
                                      "too_many_connections, shutdown, dns, tls, sqlstate_<class>, "
                                      "other).")),
      probe_last_success(family<prometheus::Gauge>("pgvitals_probe_last_success_timestamp_seconds",
                                                   "Unix time of the probe's last success.")),
      connect_duration(
          family<Histogram>("pgvitals_connect_duration_seconds",
                            "Time to open a new connection (TCP, TLS, authentication).")),
      connect_phase(
          family<prometheus::Gauge>("pgvitals_connect_phase_seconds",
                                    "Phases of the last new_connection probe: tcp, tls, auth.")),
      pool_connections(family<prometheus::Gauge>(
          "pgvitals_pool_connections", "Connections in the agent's pool by state (idle, in_use).")),
      pool_max(family<prometheus::Gauge>("pgvitals_pool_max_connections",
                                         "Pool capacity: size + max_overflow.")),
      pool_waiting(
          family<prometheus::Gauge>("pgvitals_pool_waiting", "Acquirers queued for a pool slot.")),
      pool_saturation(family<prometheus::Gauge>("pgvitals_pool_saturation_ratio",
                                                "Pool connections in use / pool capacity (0-1).")),
      pool_acquire(
          family<Histogram>("pgvitals_pool_acquire_duration_seconds",
                            "Time to check a connection out of the pool, pre-ping included.")),
      pool_timeouts(family<prometheus::Counter>(
          "pgvitals_pool_timeouts_total",
          "Acquires that gave up because every pool slot stayed taken.")),
      pool_opened(family<prometheus::Counter>("pgvitals_pool_connections_opened_total",
                                              "Connections the pool opened.")),
      pool_closed(family<prometheus::Counter>(
          "pgvitals_pool_connections_closed_total",
          "Connections the pool closed, by reason (recycled, invalidated, "
          "overflow, error, shutdown).")),
      server_max_connections(family<prometheus::Gauge>("pgvitals_server_max_connections",
                                                       "The server's max_connections setting.")),
      server_reserved_connections(family<prometheus::Gauge>(
          "pgvitals_server_reserved_connections",
          "Slots reserved for superusers (and pg_use_reserved_connections on 16+).")),
      server_in_recovery(
          family<prometheus::Gauge>("pgvitals_server_in_recovery",
                                    "1 if the server is a replica (pg_is_in_recovery()), else 0.")),
      server_version(family<prometheus::Gauge>("pgvitals_server_version_num",
                                               "The server's server_version_num.")),
      server_connections(family<prometheus::Gauge>(
          "pgvitals_server_connections", "Client backends by state, from pg_stat_activity.")),
      server_connections_by_application(family<prometheus::Gauge>(
          "pgvitals_server_connections_by_application",
          "Client backends by application_name: the top N, the rest as 'other'.")),
      server_saturation(
          family<prometheus::Gauge>("pgvitals_server_connection_saturation_ratio",
                                    "Client backends / (max_connections - reserved slots), 0-1.")),
      server_oldest_transaction(family<prometheus::Gauge>(
          "pgvitals_server_oldest_transaction_seconds", "Age of the oldest open transaction.")),
      server_oldest_idle_in_transaction(family<prometheus::Gauge>(
          "pgvitals_server_oldest_idle_in_transaction_seconds",
          "How long the longest idle-in-transaction session has been idle.")),
      server_longest_query(family<prometheus::Gauge>("pgvitals_server_longest_query_seconds",
                                                     "Run time of the longest running query.")),
      server_blocked_sessions(family<prometheus::Gauge>(
          "pgvitals_server_blocked_sessions", "Sessions waiting on a lock another session holds.")),
      server_longest_lock_wait(family<prometheus::Gauge>(
          "pgvitals_server_longest_lock_wait_seconds",
          "Longest current lock wait: now() - state_change of active sessions whose "
          "wait_event_type is Lock (the wait began at or after state_change, so an "
          "upper bound); 0 when none waits.")),
      server_waiting_sessions(family<prometheus::Gauge>(
          "pgvitals_server_waiting_sessions", "Active sessions waiting, by wait_event_type.")),
      replica_receiver_up(
          family<prometheus::Gauge>("pgvitals_replica_wal_receiver_up",
                                    "On a standby: 1 while the WAL receiver streams, else 0.")),
      replica_lag_bytes(family<prometheus::Gauge>("pgvitals_replica_replay_lag_bytes",
                                                  "On a standby: WAL received but not replayed.")),
      replica_lag_seconds(family<prometheus::Gauge>(
          "pgvitals_replica_replay_lag_seconds",
          "On a standby: 0 when all received WAL is replayed, else the age of the last replayed "
          "transaction (does not grow on an idle primary).")),
      replica_paused(family<prometheus::Gauge>("pgvitals_replica_replay_paused",
                                               "On a standby: 1 while WAL replay is paused.")),
      standby_lag_bytes(family<prometheus::Gauge>(
          "pgvitals_replication_standby_lag_bytes",
          "Per standby (application_name, top N): WAL position minus the standby's replay_lsn.")),
      standby_lag_seconds(family<prometheus::Gauge>(
          "pgvitals_replication_standby_lag_seconds",
          "Per standby (top N): pg_stat_replication.replay_lag, 0 when caught up.")),
      standbys(family<prometheus::Gauge>("pgvitals_replication_standbys",
                                         "Standbys streaming from this server, by state and "
                                         "sync_state (all of them).")),
      slot_retained_bytes(family<prometheus::Gauge>(
          "pgvitals_replication_slot_retained_bytes",
          "Per replication slot (top N): WAL held back, WAL position minus restart_lsn.")),
      slot_active(family<prometheus::Gauge>("pgvitals_replication_slot_active",
                                            "Per replication slot: 1 if a consumer is connected.")),
      slot_safe_wal_bytes(family<prometheus::Gauge>(
          "pgvitals_replication_slot_safe_wal_bytes",
          "Per replication slot: WAL that can still be written before the slot is lost "
          "(safe_wal_size; only where max_slot_wal_keep_size is set).")),
      slot_wal_status(family<prometheus::Gauge>(
          "pgvitals_replication_slot_wal_status",
          "Per replication slot: always 1, labelled with wal_status (reserved, extended, "
          "unreserved, lost).")),
      xid_age(family<prometheus::Gauge>("pgvitals_server_xid_age",
                                        "Oldest age(datfrozenxid) over all databases.")),
      mxid_age(family<prometheus::Gauge>("pgvitals_server_mxid_age",
                                         "Oldest mxid_age(datminmxid) over all databases.")),
      freeze_max_age(family<prometheus::Gauge>("pgvitals_server_autovacuum_freeze_max_age",
                                               "The autovacuum_freeze_max_age setting.")),
      multixact_freeze_max_age(
          family<prometheus::Gauge>("pgvitals_server_autovacuum_multixact_freeze_max_age",
                                    "The autovacuum_multixact_freeze_max_age setting.")),
      application_connections(family<prometheus::Gauge>(
          "pgvitals_application_connections",
          "Sessions of a declared application (applications:) by state; the undeclared summed "
          "as application=\"other\".")),
      application_budget(family<prometheus::Gauge>(
          "pgvitals_application_budget_connections",
          "A declared application's connection budget (its pools' total ceiling).")),
      application_budget_ratio(family<prometheus::Gauge>(
          "pgvitals_application_budget_ratio",
          "A declared application's sessions over its budget; 1 is a full client pool.")),
      application_idle_in_transaction(family<prometheus::Gauge>(
          "pgvitals_application_idle_in_transaction_seconds",
          "The oldest idle-in-transaction session of an application (0 when none).")),
      application_idle_in_transaction_max(
          family<prometheus::Gauge>("pgvitals_application_idle_in_transaction_max_seconds",
                                    "A declared application's idle_in_transaction_max.")),
      application_waiting(family<prometheus::Gauge>(
          "pgvitals_application_waiting_sessions",
          "Active sessions of an application that wait on an event (a lock, I/O, ...).")),
      application_at_plateau(family<prometheus::Gauge>(
          "pgvitals_application_at_plateau",
          "For an undeclared application in the top N: 1 while its session count sits flat at "
          "the highest of the last 10 minutes, busy, for activity.plateau_for, with the server "
          "not full (a full client pool).")),
      pgbouncer_clients(family<prometheus::Gauge>(
          "pgvitals_pgbouncer_clients",
          "PgBouncer client connections per pool, by state (active, waiting, *_cancel_req).")),
      pgbouncer_clients_waiting(family<prometheus::Gauge>(
          "pgvitals_pgbouncer_clients_waiting",
          "PgBouncer clients waiting for a server connection, per pool.")),
      pgbouncer_max_wait(family<prometheus::Gauge>(
          "pgvitals_pgbouncer_max_wait_seconds",
          "How long the oldest waiting PgBouncer client has waited, per pool.")),
      pgbouncer_server_connections(family<prometheus::Gauge>(
          "pgvitals_pgbouncer_server_connections",
          "PgBouncer server connections per pool, by state (active, idle, used, tested, login).")),
      pgbouncer_pool_size(family<prometheus::Gauge>(
          "pgvitals_pgbouncer_pool_size", "PgBouncer pool_size per database (SHOW DATABASES).")),
      pgbouncer_pool_saturation(family<prometheus::Gauge>(
          "pgvitals_pgbouncer_pool_saturation_ratio",
          "PgBouncer server connections in use over the database's pool_size, per pool.")),
      pgbouncer_client_connections(family<prometheus::Gauge>(
          "pgvitals_pgbouncer_client_connections", "PgBouncer client connections in use.")),
      pgbouncer_max_client_connections(family<prometheus::Gauge>(
          "pgvitals_pgbouncer_max_client_connections", "PgBouncer's max_client_conn.")),
      pgbouncer_client_connections_ratio(
          family<prometheus::Gauge>("pgvitals_pgbouncer_client_connections_ratio",
                                    "PgBouncer client connections over max_client_conn.")),
      pgbouncer_transactions(family<prometheus::Counter>(
          "pgvitals_pgbouncer_transactions_total",
          "Transactions PgBouncer pooled, per database (SHOW STATS; resets with PgBouncer).")),
      pgbouncer_queries(family<prometheus::Counter>(
          "pgvitals_pgbouncer_queries_total",
          "Queries PgBouncer pooled, per database (SHOW STATS; resets with PgBouncer).")),
      pgbouncer_transaction_seconds(family<prometheus::Counter>(
          "pgvitals_pgbouncer_transaction_seconds_total",
          "Time spent in transactions through PgBouncer, per database.")),
      pgbouncer_query_seconds(
          family<prometheus::Counter>("pgvitals_pgbouncer_query_seconds_total",
                                      "Time spent in queries through PgBouncer, per database.")),
      pgbouncer_wait_seconds(family<prometheus::Counter>(
          "pgvitals_pgbouncer_wait_seconds_total",
          "Time PgBouncer clients spent waiting for a server connection, per database.")),
      path_hop_up(family<prometheus::Gauge>(
          "pgvitals_path_hop_up",
          "For a database reached through a pooler (via): 1 while the hop (pooler, server) "
          "works, 0 when it fails; no series while its state is unknown.")),
      path_added_latency(family<prometheus::Gauge>(
          "pgvitals_path_added_latency_seconds",
          "Connectivity latency through the pooler minus that of a direct target to the same "
          "server.")),
      incidents(family<prometheus::Counter>(
          "pgvitals_incidents_total",
          "Incidents opened, by target and by what opened them (down, not_ready, saturation, "
          "blocked_sessions, oldest_transaction).")),
      incident_open(
          family<prometheus::Gauge>("pgvitals_incident_open",
                                    "1 while an incident of the target is open (or in its after "
                                    "window), else 0.")),
      incident_write_failures(family<prometheus::Counter>(
          "pgvitals_incident_write_failures_total",
          "Incident records that could not be written to incidents.dir (disk full, I/O error).")),
      last_cycle(family<prometheus::Gauge>("pgvitals_scheduler_last_cycle_timestamp_seconds",
                                           "Unix time the target's last probe cycle finished.")),
      schedule_lag(
          family<Histogram>("pgvitals_scheduler_lag_seconds",
                            "How late probe cycles started compared with their schedule.")),
      target_info(family<prometheus::Gauge>("pgvitals_target_info",
                                            "Always 1; carries the target's configured labels.")),
      build_info(family<prometheus::Gauge>("pgvitals_build_info",
                                           "Always 1; carries the agent's version.")) {
  build_info.Add({{"version", kVersion}}).Set(1);
}

void Metrics::watch_expiry(TargetMetrics* target) {
  generation_.fetch_add(1, std::memory_order_acq_rel);
  std::lock_guard lock(expiry_mutex_);
  expiring_.insert(target);
}

void Metrics::unwatch_expiry(TargetMetrics* target) {
  generation_.fetch_add(1, std::memory_order_acq_rel);
  std::lock_guard lock(expiry_mutex_);
  expiring_.erase(target);
}

}  // namespace pgv::telemetry
