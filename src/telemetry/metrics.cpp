#include "telemetry/metrics.hpp"

#include <malloc.h>
#include <prometheus/text_serializer.h>

#include <memory>
#include <sstream>

#include "telemetry/process_metrics.hpp"
#include "version.hpp"

namespace pgv::telemetry {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

}  // namespace

const prometheus::Histogram::BucketBoundaries& latency_buckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,    0.1,    0.25,    0.5,    1,     2.5,    5,     10};
  return kBuckets;
}

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      up(BuildGauge()
             .Name("pgvitals_up")
             .Help("1 if the target's last connectivity probe succeeded, else 0.")
             .Register(*registry_)),
      probe_duration(BuildHistogram()
                         .Name("pgvitals_probe_duration_seconds")
                         .Help("Duration of successful probe runs.")
                         .Register(*registry_)),
      probe_failures(BuildCounter()
                         .Name("pgvitals_probe_failures_total")
                         .Help("Failed probe runs by reason (timeout, refused, auth, "
                               "too_many_connections, shutdown, dns, tls, sqlstate_<class>, "
                               "other).")
                         .Register(*registry_)),
      probe_last_success(BuildGauge()
                             .Name("pgvitals_probe_last_success_timestamp_seconds")
                             .Help("Unix time of the probe's last success.")
                             .Register(*registry_)),
      connect_duration(BuildHistogram()
                           .Name("pgvitals_connect_duration_seconds")
                           .Help("Time to open a new connection (TCP, TLS, authentication).")
                           .Register(*registry_)),
      connect_phase(BuildGauge()
                        .Name("pgvitals_connect_phase_seconds")
                        .Help("Phases of the last new_connection probe: tcp, tls, auth.")
                        .Register(*registry_)),
      pool_connections(BuildGauge()
                           .Name("pgvitals_pool_connections")
                           .Help("Connections in the agent's pool by state (idle, in_use).")
                           .Register(*registry_)),
      pool_max(BuildGauge()
                   .Name("pgvitals_pool_max_connections")
                   .Help("Pool capacity: size + max_overflow.")
                   .Register(*registry_)),
      pool_waiting(BuildGauge()
                       .Name("pgvitals_pool_waiting")
                       .Help("Acquirers queued for a pool slot.")
                       .Register(*registry_)),
      pool_saturation(BuildGauge()
                          .Name("pgvitals_pool_saturation_ratio")
                          .Help("Pool connections in use / pool capacity (0-1).")
                          .Register(*registry_)),
      pool_acquire(BuildHistogram()
                       .Name("pgvitals_pool_acquire_duration_seconds")
                       .Help("Time to check a connection out of the pool, pre-ping included.")
                       .Register(*registry_)),
      pool_timeouts(BuildCounter()
                        .Name("pgvitals_pool_timeouts_total")
                        .Help("Acquires that gave up because every pool slot stayed taken.")
                        .Register(*registry_)),
      pool_opened(BuildCounter()
                      .Name("pgvitals_pool_connections_opened_total")
                      .Help("Connections the pool opened.")
                      .Register(*registry_)),
      pool_closed(BuildCounter()
                      .Name("pgvitals_pool_connections_closed_total")
                      .Help("Connections the pool closed, by reason (recycled, invalidated, "
                            "overflow, error, shutdown).")
                      .Register(*registry_)),
      server_max_connections(BuildGauge()
                                 .Name("pgvitals_server_max_connections")
                                 .Help("The server's max_connections setting.")
                                 .Register(*registry_)),
      server_reserved_connections(
          BuildGauge()
              .Name("pgvitals_server_reserved_connections")
              .Help("Slots reserved for superusers (and pg_use_reserved_connections on 16+).")
              .Register(*registry_)),
      server_in_recovery(BuildGauge()
                             .Name("pgvitals_server_in_recovery")
                             .Help("1 if the server is a replica (pg_is_in_recovery()), else 0.")
                             .Register(*registry_)),
      server_version(BuildGauge()
                         .Name("pgvitals_server_version_num")
                         .Help("The server's server_version_num.")
                         .Register(*registry_)),
      server_connections(BuildGauge()
                             .Name("pgvitals_server_connections")
                             .Help("Client backends by state, from pg_stat_activity.")
                             .Register(*registry_)),
      server_connections_by_application(
          BuildGauge()
              .Name("pgvitals_server_connections_by_application")
              .Help("Client backends by application_name: the top N, the rest as 'other'.")
              .Register(*registry_)),
      server_saturation(BuildGauge()
                            .Name("pgvitals_server_connection_saturation_ratio")
                            .Help("Client backends / (max_connections - reserved slots), 0-1.")
                            .Register(*registry_)),
      server_oldest_transaction(BuildGauge()
                                    .Name("pgvitals_server_oldest_transaction_seconds")
                                    .Help("Age of the oldest open transaction.")
                                    .Register(*registry_)),
      server_oldest_idle_in_transaction(
          BuildGauge()
              .Name("pgvitals_server_oldest_idle_in_transaction_seconds")
              .Help("How long the longest idle-in-transaction session has been idle.")
              .Register(*registry_)),
      server_longest_query(BuildGauge()
                               .Name("pgvitals_server_longest_query_seconds")
                               .Help("Run time of the longest running query.")
                               .Register(*registry_)),
      server_blocked_sessions(BuildGauge()
                                  .Name("pgvitals_server_blocked_sessions")
                                  .Help("Sessions waiting on a lock another session holds.")
                                  .Register(*registry_)),
      server_longest_lock_wait(
          BuildGauge()
              .Name("pgvitals_server_longest_lock_wait_seconds")
              .Help("Longest current lock wait: now() - state_change of active sessions whose "
                    "wait_event_type is Lock (the wait began at or after state_change, so an "
                    "upper bound); 0 when none waits.")
              .Register(*registry_)),
      server_waiting_sessions(BuildGauge()
                                  .Name("pgvitals_server_waiting_sessions")
                                  .Help("Active sessions waiting, by wait_event_type.")
                                  .Register(*registry_)),
      last_cycle(BuildGauge()
                     .Name("pgvitals_scheduler_last_cycle_timestamp_seconds")
                     .Help("Unix time the target's last probe cycle finished.")
                     .Register(*registry_)),
      schedule_lag(BuildHistogram()
                       .Name("pgvitals_scheduler_lag_seconds")
                       .Help("How late probe cycles started compared with their schedule.")
                       .Register(*registry_)),
      target_info(BuildGauge()
                      .Name("pgvitals_target_info")
                      .Help("Always 1; carries the target's configured labels.")
                      .Register(*registry_)),
      build_info(BuildGauge()
                     .Name("pgvitals_build_info")
                     .Help("Always 1; carries the agent's version.")
                     .Register(*registry_)) {
  build_info.Add({{"version", kVersion}}).Set(1);
  // Registration order, which is the order Registry::Collect() would give.
  families_ = {&up,
               &probe_duration,
               &probe_failures,
               &probe_last_success,
               &connect_duration,
               &connect_phase,
               &pool_connections,
               &pool_max,
               &pool_waiting,
               &pool_saturation,
               &pool_acquire,
               &pool_timeouts,
               &pool_opened,
               &pool_closed,
               &server_max_connections,
               &server_reserved_connections,
               &server_in_recovery,
               &server_version,
               &server_connections,
               &server_connections_by_application,
               &server_saturation,
               &server_oldest_transaction,
               &server_oldest_idle_in_transaction,
               &server_longest_query,
               &server_blocked_sessions,
               &server_longest_lock_wait,
               &server_waiting_sessions,
               &last_cycle,
               &schedule_lag,
               &target_info,
               &build_info};
}

void Metrics::watch_expiry(TargetMetrics* target) {
  std::lock_guard lock(expiry_mutex_);
  expiring_.insert(target);
}

void Metrics::unwatch_expiry(TargetMetrics* target) {
  std::lock_guard lock(expiry_mutex_);
  expiring_.erase(target);
}

void Metrics::expire_stale() const {
  const Clock::time_point now = Clock::now();
  std::lock_guard lock(expiry_mutex_);
  for (TargetMetrics* target : expiring_) target->expire(now);
}

std::string Metrics::serialize() const {
  expire_stale();
  // One family at a time into one buffer sized from the last rendering: with a thousand
  // targets the whole registry collected at once, its text in a growing stream and the
  // final copy out of it cost several times the text's own size at every scrape.
  const prometheus::TextSerializer serializer;
  std::string out;
  out.reserve(size_hint_.load(std::memory_order_relaxed));
  std::ostringstream chunk;
  auto append = [&](const std::vector<prometheus::MetricFamily>& families) {
    chunk.str(std::string());
    serializer.Serialize(chunk, families);
    out += chunk.view();
  };
  for (const prometheus::Collectable* family : families_) append(family->Collect());
  std::vector<prometheus::MetricFamily> process;
  collect_process_metrics(process);
  append(process);
  size_hint_.store(out.size() + out.size() / 16 + 4096, std::memory_order_relaxed);
  return out;
}

std::string Metrics::serialize_registry() const {
  expire_stale();
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  collect_process_metrics(families);
  return prometheus::TextSerializer().Serialize(families);
}

std::shared_ptr<const std::string> Metrics::exposition() const {
  // One renderer at a time: scrapes arriving meanwhile wait for its result rather than
  // all rendering the same text at once.
  std::lock_guard lock(render_mutex_);
  const auto now = std::chrono::steady_clock::now();
  const bool fresh = now - rendered_at_ < kRenderEvery;
  if (auto recent = recent_.lock(); recent && fresh) return recent;
  auto text = std::make_shared<const std::string>(serialize());
  rendered_at_ = now;
  recent_ = text;
  // A small text is kept for the next scrapes; a fleet's megabytes only while a response
  // still holds them, so they are not resident between scrapes.
  kept_ = text->size() <= kKeepBytes ? text : nullptr;
  // Collecting a large registry leaves megabytes of small freed blocks scattered over
  // the heap, which glibc keeps resident; hand their pages back (a few ms, and only when
  // there are many targets).
  if (text->size() > kKeepBytes) ::malloc_trim(0);
  return text;
}

}  // namespace pgv::telemetry
