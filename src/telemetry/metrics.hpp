#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "async/clock.hpp"
#include "pg/error.hpp"
#include "pool/observer.hpp"
#include "probes/result.hpp"

namespace pgv::telemetry {

class TargetMetrics;

// Failure reasons whose counters exist at 0 from a target's start, for every enabled probe:
// increase() sees the first failure only when the series existed before it. Rarer reasons
// (tls, sqlstate_<class>) appear at their first failure, which keeps the series bounded.
inline constexpr std::array<pg::Reason, 7> kCommonFailureReasons = {
    pg::Reason::timeout,  pg::Reason::refused, pg::Reason::auth, pg::Reason::too_many_connections,
    pg::Reason::shutdown, pg::Reason::dns,     pg::Reason::other};

// Every metric family the agent exports (names are the contract in DESIGN.md), in one
// registry that /metrics serialises. Thread-safe.
class Metrics {
 public:
  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;
  Metrics(Metrics&&) = delete;
  Metrics& operator=(Metrics&&) = delete;
  ~Metrics() = default;

  // Declared first: every family below registers with the registry, and is listed in
  // families_ in that order, during construction.
 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::vector<const prometheus::Collectable*> families_;
  template <class T>
  prometheus::Family<T>& family(const char* name, const char* help);

 public:
  // The Prometheus text exposition (0.0.4) of everything, process metrics included.
  std::string serialize() const;
  // The same text through Registry::Collect(), the slow way; tests compare the two.
  std::string serialize_registry() const;
  // The same text, rendered at most once per kRenderEvery and shared by the scrapes in
  // between: probes change the values once per interval, so rendering for every one of
  // many concurrent scrapers (several Prometheus replicas, a dashboard, a load test)
  // only burns CPU the probes need.
  static constexpr std::chrono::milliseconds kRenderEvery{100};
  // gzip: the text compressed family by family as it is rendered (what Prometheus asks
  // for), never whole beside its compressed copy; cached like the plain text.
  enum class Encoding { identity = 0, gzip = 1 };
  std::shared_ptr<const std::string> exposition(Encoding encoding = Encoding::identity) const;
  // Texts up to this size are kept between scrapes; larger ones (a fleet's megabytes) only
  // while a response still holds them, and their rendering ends with malloc_trim().
  static constexpr std::size_t kKeepBytes = 1 << 20;
  prometheus::Registry& registry() noexcept { return *registry_; }

  prometheus::Family<prometheus::Gauge>& up;
  prometheus::Family<prometheus::Histogram>& probe_duration;
  prometheus::Family<prometheus::Counter>& probe_failures;
  prometheus::Family<prometheus::Gauge>& probe_last_success;
  prometheus::Family<prometheus::Histogram>& connect_duration;
  prometheus::Family<prometheus::Gauge>& connect_phase;
  prometheus::Family<prometheus::Gauge>& pool_connections;
  prometheus::Family<prometheus::Gauge>& pool_max;
  prometheus::Family<prometheus::Gauge>& pool_waiting;
  prometheus::Family<prometheus::Gauge>& pool_saturation;
  prometheus::Family<prometheus::Histogram>& pool_acquire;
  prometheus::Family<prometheus::Counter>& pool_timeouts;
  prometheus::Family<prometheus::Counter>& pool_opened;
  prometheus::Family<prometheus::Counter>& pool_closed;
  prometheus::Family<prometheus::Gauge>& server_max_connections;
  prometheus::Family<prometheus::Gauge>& server_reserved_connections;
  prometheus::Family<prometheus::Gauge>& server_in_recovery;
  prometheus::Family<prometheus::Gauge>& server_version;
  prometheus::Family<prometheus::Gauge>& server_connections;
  prometheus::Family<prometheus::Gauge>& server_connections_by_application;
  prometheus::Family<prometheus::Gauge>& server_saturation;
  prometheus::Family<prometheus::Gauge>& server_oldest_transaction;
  prometheus::Family<prometheus::Gauge>& server_oldest_idle_in_transaction;
  prometheus::Family<prometheus::Gauge>& server_longest_query;
  prometheus::Family<prometheus::Gauge>& server_blocked_sessions;
  prometheus::Family<prometheus::Gauge>& server_longest_lock_wait;
  prometheus::Family<prometheus::Gauge>& server_waiting_sessions;
  // Replication, WAL retention, wraparound (the replication probe).
  prometheus::Family<prometheus::Gauge>& replica_receiver_up;
  prometheus::Family<prometheus::Gauge>& replica_lag_bytes;
  prometheus::Family<prometheus::Gauge>& replica_lag_seconds;
  prometheus::Family<prometheus::Gauge>& replica_paused;
  prometheus::Family<prometheus::Gauge>& standby_lag_bytes;
  prometheus::Family<prometheus::Gauge>& standby_lag_seconds;
  prometheus::Family<prometheus::Gauge>& standbys;
  prometheus::Family<prometheus::Gauge>& slot_retained_bytes;
  prometheus::Family<prometheus::Gauge>& slot_active;
  prometheus::Family<prometheus::Gauge>& slot_safe_wal_bytes;
  prometheus::Family<prometheus::Gauge>& slot_wal_status;
  prometheus::Family<prometheus::Gauge>& xid_age;
  prometheus::Family<prometheus::Gauge>& mxid_age;
  prometheus::Family<prometheus::Gauge>& freeze_max_age;
  prometheus::Family<prometheus::Gauge>& multixact_freeze_max_age;
  // Application budgets and plateaus (the activity probe).
  prometheus::Family<prometheus::Gauge>& application_connections;
  prometheus::Family<prometheus::Gauge>& application_budget;
  prometheus::Family<prometheus::Gauge>& application_budget_ratio;
  prometheus::Family<prometheus::Gauge>& application_idle_in_transaction;
  prometheus::Family<prometheus::Gauge>& application_idle_in_transaction_max;
  prometheus::Family<prometheus::Gauge>& application_waiting;
  prometheus::Family<prometheus::Gauge>& application_at_plateau;
  // PgBouncer admin consoles (the pooler probe), and paths through a pooler.
  prometheus::Family<prometheus::Gauge>& pgbouncer_clients;
  prometheus::Family<prometheus::Gauge>& pgbouncer_clients_waiting;
  prometheus::Family<prometheus::Gauge>& pgbouncer_max_wait;
  prometheus::Family<prometheus::Gauge>& pgbouncer_server_connections;
  prometheus::Family<prometheus::Gauge>& pgbouncer_pool_size;
  prometheus::Family<prometheus::Gauge>& pgbouncer_pool_saturation;
  prometheus::Family<prometheus::Gauge>& pgbouncer_client_connections;
  prometheus::Family<prometheus::Gauge>& pgbouncer_max_client_connections;
  prometheus::Family<prometheus::Gauge>& pgbouncer_client_connections_ratio;
  prometheus::Family<prometheus::Counter>& pgbouncer_transactions;
  prometheus::Family<prometheus::Counter>& pgbouncer_queries;
  prometheus::Family<prometheus::Counter>& pgbouncer_transaction_seconds;
  prometheus::Family<prometheus::Counter>& pgbouncer_query_seconds;
  prometheus::Family<prometheus::Counter>& pgbouncer_wait_seconds;
  prometheus::Family<prometheus::Gauge>& path_hop_up;
  prometheus::Family<prometheus::Gauge>& path_added_latency;
  prometheus::Family<prometheus::Counter>& incidents;
  prometheus::Family<prometheus::Gauge>& incident_open;
  prometheus::Family<prometheus::Counter>& incident_write_failures;
  prometheus::Family<prometheus::Gauge>& last_cycle;
  prometheus::Family<prometheus::Histogram>& schedule_lag;
  prometheus::Family<prometheus::Gauge>& target_info;
  prometheus::Family<prometheus::Gauge>& build_info;

  // Targets whose activity series expire. Every rendering first drops the series whose
  // result went stale, so they vanish even when the target's own loop is stuck and cannot
  // drop them itself.
  void watch_expiry(TargetMetrics* target);
  void unwatch_expiry(TargetMetrics* target);

 private:
  void expire_stale() const;
  // Every family's text in order, one family at a time, to `sink`.
  void render(const std::function<void(std::string_view)>& sink) const;

  struct RenderCache {
    std::shared_ptr<const std::string> kept;
    std::weak_ptr<const std::string> recent;
    std::chrono::steady_clock::time_point at;
  };

  mutable std::mutex expiry_mutex_;  // held while expiring, so an unwatched target is never touched
  std::set<TargetMetrics*> expiring_;
  mutable std::atomic<std::size_t> size_hint_{64 * 1024};
  mutable std::mutex render_mutex_;
  mutable std::array<RenderCache, 2> caches_;  // by Encoding
};

// Latency buckets from 50 µs (a loopback round trip) to 10 s (past any sane timeout).
const prometheus::Histogram::BucketBoundaries& latency_buckets();

}  // namespace pgv::telemetry
