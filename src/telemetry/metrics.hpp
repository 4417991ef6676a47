#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
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
#include "telemetry/family.hpp"

namespace pgv::telemetry {

class GzipPipeline;
class TargetMetrics;

// Failure reasons whose counters exist at 0 from a target's start, for every enabled probe:
// increase() sees the first failure only when the series existed before it. Rarer reasons
// (tls, sqlstate_<class>) appear at their first failure, which keeps the series bounded.
inline constexpr std::array<pg::Reason, 7> kCommonFailureReasons = {
    pg::Reason::timeout,  pg::Reason::refused, pg::Reason::auth, pg::Reason::too_many_connections,
    pg::Reason::shutdown, pg::Reason::dns,     pg::Reason::other};

// Every metric family the agent exports (names are the contract in DESIGN.md), owned here
// and serialised by /metrics in order. Thread-safe.
class Metrics {
 public:
  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;
  Metrics(Metrics&&) = delete;
  Metrics& operator=(Metrics&&) = delete;
  ~Metrics();  // where GzipPipeline is complete

  // Declared first: every family below is made, owned and listed in families_ in that
  // order, during construction.
 private:
  std::vector<std::unique_ptr<FamilyBase>> families_;
  template <class T>
  Family<T>& family(const char* name, const char* help);

 public:
  // The Prometheus text exposition (0.0.4) of everything, process metrics included.
  std::string serialize() const;
  // The same text, rendered at most once per kRenderEvery and shared by the scrapes in
  // between: probes change the values once per interval, so rendering for every one of
  // many concurrent scrapers (several Prometheus replicas, a dashboard, a load test)
  // only burns CPU the probes need.
  static constexpr std::chrono::milliseconds kRenderEvery{100};
  // gzip: the text compressed family by family as it is rendered (what Prometheus asks
  // for), never whole beside its compressed copy; cached like the plain text.
  enum class Encoding { identity = 0, gzip = 1 };
  std::shared_ptr<const std::string> exposition(Encoding encoding = Encoding::identity) const;
  // Without waiting, so an event loop may call it: the shared rendering if it is fresh,
  // else a new one if renderings are cheap here (the last one of this encoding took under
  // kQuickRender and no target came or went since: one target's takes some 50 us, less
  // than handing it to another thread). Null when neither, or while a rendering runs.
  std::shared_ptr<const std::string> quick(Encoding encoding) const;
  static constexpr std::chrono::microseconds kQuickRender{1000};
  // What the last rendering of `encoding` took (an hour before the first one).
  std::chrono::steady_clock::duration last_render(Encoding encoding) const;
  // Texts up to this size are kept between scrapes; larger ones (a fleet's megabytes) only
  // while a response still holds them, and their rendering ends with malloc_trim().
  static constexpr std::size_t kKeepBytes = 1 << 20;
  // Whether the text is larger than that (by the last rendering's size): a fleet's.
  bool large() const noexcept { return size_hint_.load(std::memory_order_relaxed) > kKeepBytes; }

  Family<prometheus::Gauge>& up;
  Family<Histogram>& probe_duration;
  Family<prometheus::Counter>& probe_failures;
  Family<prometheus::Gauge>& probe_last_success;
  Family<Histogram>& connect_duration;
  Family<prometheus::Gauge>& connect_phase;
  Family<prometheus::Gauge>& pool_connections;
  Family<prometheus::Gauge>& pool_max;
  Family<prometheus::Gauge>& pool_waiting;
  Family<prometheus::Gauge>& pool_saturation;
  Family<Histogram>& pool_acquire;
  Family<prometheus::Counter>& pool_timeouts;
  Family<prometheus::Counter>& pool_opened;
  Family<prometheus::Counter>& pool_closed;
  Family<prometheus::Gauge>& server_max_connections;
  Family<prometheus::Gauge>& server_reserved_connections;
  Family<prometheus::Gauge>& server_in_recovery;
  Family<prometheus::Gauge>& server_version;
  Family<prometheus::Gauge>& server_connections;
  Family<prometheus::Gauge>& server_connections_by_application;
  Family<prometheus::Gauge>& server_saturation;
  Family<prometheus::Gauge>& server_oldest_transaction;
  Family<prometheus::Gauge>& server_oldest_idle_in_transaction;
  Family<prometheus::Gauge>& server_longest_query;
  Family<prometheus::Gauge>& server_blocked_sessions;
  Family<prometheus::Gauge>& server_longest_lock_wait;
  Family<prometheus::Gauge>& server_waiting_sessions;
  // Replication, WAL retention, wraparound (the replication probe).
  Family<prometheus::Gauge>& replica_receiver_up;
  Family<prometheus::Gauge>& replica_lag_bytes;
  Family<prometheus::Gauge>& replica_lag_seconds;
  Family<prometheus::Gauge>& replica_paused;
  Family<prometheus::Gauge>& standby_lag_bytes;
  Family<prometheus::Gauge>& standby_lag_seconds;
  Family<prometheus::Gauge>& standbys;
  Family<prometheus::Gauge>& slot_retained_bytes;
  Family<prometheus::Gauge>& slot_active;
  Family<prometheus::Gauge>& slot_safe_wal_bytes;
  Family<prometheus::Gauge>& slot_wal_status;
  Family<prometheus::Gauge>& xid_age;
  Family<prometheus::Gauge>& mxid_age;
  Family<prometheus::Gauge>& freeze_max_age;
  Family<prometheus::Gauge>& multixact_freeze_max_age;
  // Application budgets and plateaus (the activity probe).
  Family<prometheus::Gauge>& application_connections;
  Family<prometheus::Gauge>& application_budget;
  Family<prometheus::Gauge>& application_budget_ratio;
  Family<prometheus::Gauge>& application_idle_in_transaction;
  Family<prometheus::Gauge>& application_idle_in_transaction_max;
  Family<prometheus::Gauge>& application_waiting;
  Family<prometheus::Gauge>& application_at_plateau;
  // PgBouncer admin consoles (the pooler probe), and paths through a pooler.
  Family<prometheus::Gauge>& pgbouncer_clients;
  Family<prometheus::Gauge>& pgbouncer_clients_waiting;
  Family<prometheus::Gauge>& pgbouncer_max_wait;
  Family<prometheus::Gauge>& pgbouncer_server_connections;
  Family<prometheus::Gauge>& pgbouncer_pool_size;
  Family<prometheus::Gauge>& pgbouncer_pool_saturation;
  Family<prometheus::Gauge>& pgbouncer_client_connections;
  Family<prometheus::Gauge>& pgbouncer_max_client_connections;
  Family<prometheus::Gauge>& pgbouncer_client_connections_ratio;
  Family<prometheus::Counter>& pgbouncer_transactions;
  Family<prometheus::Counter>& pgbouncer_queries;
  Family<prometheus::Counter>& pgbouncer_transaction_seconds;
  Family<prometheus::Counter>& pgbouncer_query_seconds;
  Family<prometheus::Counter>& pgbouncer_wait_seconds;
  Family<prometheus::Gauge>& path_hop_up;
  Family<prometheus::Gauge>& path_added_latency;
  Family<prometheus::Counter>& incidents;
  Family<prometheus::Gauge>& incident_open;
  Family<prometheus::Counter>& incident_write_failures;
  Family<prometheus::Gauge>& last_cycle;
  Family<Histogram>& schedule_lag;
  Family<prometheus::Gauge>& target_info;
  Family<prometheus::Gauge>& build_info;

  // Targets whose activity series expire. Every rendering first drops the series whose
  // result went stale, so they vanish even when the target's own loop is stuck and cannot
  // drop them itself.
  // Called as each target's series are made and removed; also what tells quick() that a
  // rendering may cost more than the last one did.
  void watch_expiry(TargetMetrics* target);
  void unwatch_expiry(TargetMetrics* target);

 private:
  void expire_stale() const;
  // Every family's text in order, to `sink` in chunks of about 64 KiB.
  void render(const TextWriter::Sink& sink) const;

  struct RenderCache {
    std::shared_ptr<const std::string> kept;
    std::weak_ptr<const std::string> recent;
    std::chrono::steady_clock::time_point at;
    // What the last rendering took, and the target generation it saw; a first rendering
    // counts as expensive.
    std::chrono::steady_clock::duration took = std::chrono::hours(1);
    std::uint64_t generation = 0;
  };
  std::shared_ptr<const std::string> render_locked(Encoding encoding, RenderCache& cache,
                                                   std::chrono::steady_clock::time_point now) const;

  mutable std::mutex expiry_mutex_;  // held while expiring, so an unwatched target is never touched
  std::set<TargetMetrics*> expiring_;
  mutable std::atomic<std::size_t> size_hint_{64 * 1024};
  std::atomic<std::uint64_t> generation_{0};  // bumped as targets come and go
  mutable std::mutex render_mutex_;
  mutable std::array<RenderCache, 2> caches_;  // by Encoding
  // Made by the first large gzip rendering; used under render_mutex_.
  mutable std::unique_ptr<GzipPipeline> pipeline_;
};

// Latency buckets from 50 µs (a loopback round trip) to 10 s (past any sane timeout).
const Histogram::BucketBoundaries& latency_buckets();

}  // namespace pgv::telemetry
