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

prometheus::Histogram::BucketBoundaries pool_acquire_buckets() {
  // Acquire from a warm pool costs well under a microsecond; with pre-ping it is a round trip.
  return {0.000001, 0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
          0.025,    0.05,    0.1,     0.25,   0.5,     1,      2.5,   5,      10};
}

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
                               "too_many_connections, shutdown, sqlstate_<class>, other).")
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
               &server_waiting_sessions,
               &last_cycle,
               &schedule_lag,
               &target_info,
               &build_info};
}

std::string Metrics::serialize() const {
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

template <class T, class... Args>
T& TargetMetrics::add(prometheus::Family<T>& family, prometheus::Labels labels, Args&&... args) {
  labels.emplace("target", target_);
  T& metric = family.Add(labels, std::forward<Args>(args)...);
  removers_.push_back([&family, &metric] { family.Remove(&metric); });
  return metric;
}

template <class T, class... Args>
T& TargetMetrics::lazy(std::map<std::string, T*>& cache, const std::string& key,
                       prometheus::Family<T>& family, prometheus::Labels labels, Args&&... args) {
  std::lock_guard lock(mutex_);
  auto it = cache.find(key);
  if (it != cache.end()) return *it->second;
  T& metric = add(family, std::move(labels), std::forward<Args>(args)...);
  cache.emplace(key, &metric);
  return metric;
}

TargetMetrics::TargetMetrics(Metrics& metrics, std::string target,
                             const std::map<std::string, std::string>& labels)
    : metrics_(metrics),
      target_(std::move(target)),
      up_(add(metrics.up, {})),
      connect_duration_(add(metrics.connect_duration, {}, latency_buckets())),
      pool_idle_(add(metrics.pool_connections, {{"state", "idle"}})),
      pool_in_use_(add(metrics.pool_connections, {{"state", "in_use"}})),
      pool_max_(add(metrics.pool_max, {})),
      pool_waiting_(add(metrics.pool_waiting, {})),
      pool_saturation_(add(metrics.pool_saturation, {})),
      pool_acquire_(add(metrics.pool_acquire, {}, pool_acquire_buckets())),
      pool_timeouts_(add(metrics.pool_timeouts, {})),
      pool_opened_(add(metrics.pool_opened, {})),
      last_cycle_(add(metrics.last_cycle, {})),
      schedule_lag_(add(metrics.schedule_lag, {}, latency_buckets())),
      by_state_{&metrics.server_connections, "state", {}},
      by_application_{&metrics.server_connections_by_application, "application", {}},
      waiting_{&metrics.server_waiting_sessions, "wait_event_type", {}} {
  prometheus::Labels info(labels.begin(), labels.end());
  add(metrics.target_info, info).Set(1);
  for (pool::CloseReason r : pool::kCloseReasons) {
    pool_closed_[r] = &add(metrics.pool_closed, {{"reason", std::string(pool::to_string(r))}});
  }
}

TargetMetrics::~TargetMetrics() {
  std::lock_guard lock(mutex_);
  for (auto& remove : removers_) remove();
  for (GaugeSet* set : {&by_state_, &by_application_, &waiting_}) {
    for (auto& [value, gauge] : set->series) set->family->Remove(gauge);
  }
}

void TargetMetrics::replace(GaugeSet& set, const std::map<std::string, double>& values) {
  std::lock_guard lock(mutex_);
  for (auto it = set.series.begin(); it != set.series.end();) {
    if (values.contains(it->first)) {
      ++it;
      continue;
    }
    set.family->Remove(it->second);
    it = set.series.erase(it);
  }
  for (const auto& [value, v] : values) {
    auto it = set.series.find(value);
    if (it == set.series.end()) {
      it = set.series.emplace(value, &set.family->Add({{"target", target_}, {set.label, value}}))
               .first;
    }
    it->second->Set(v);
  }
}

void TargetMetrics::set_activity(const probes::ActivityDigest& a) {
  std::map<std::string, double> states;
  for (const auto& [state, n] : a.by_state) states[state] = n;
  replace(by_state_, states);
  std::map<std::string, double> apps;
  for (const auto& [app, n] : a.top_applications) apps[app] += n;
  if (a.other_application_sessions > 0) apps["other"] += a.other_application_sessions;
  replace(by_application_, apps);
  std::map<std::string, double> waits;
  for (const auto& [type, n] : a.waiting_by_event_type) waits[type] = n;
  replace(waiting_, waits);
  lazy_gauge(server_saturation_, metrics_.server_saturation).Set(a.saturation());
  lazy_gauge(oldest_transaction_, metrics_.server_oldest_transaction)
      .Set(a.oldest_transaction_seconds.value_or(0));
  lazy_gauge(oldest_idle_in_transaction_, metrics_.server_oldest_idle_in_transaction)
      .Set(a.oldest_idle_in_transaction_seconds.value_or(0));
  lazy_gauge(longest_query_, metrics_.server_longest_query)
      .Set(a.longest_query_seconds.value_or(0));
  lazy_gauge(blocked_sessions_, metrics_.server_blocked_sessions)
      .Set(static_cast<double>(a.blocked.size()));
}

prometheus::Histogram& TargetMetrics::probe_duration(const std::string& probe) {
  return lazy(durations_, probe, metrics_.probe_duration, {{"probe", probe}}, latency_buckets());
}

prometheus::Counter& TargetMetrics::probe_failures(const std::string& probe,
                                                   const std::string& reason) {
  return lazy(failures_, probe + "\n" + reason, metrics_.probe_failures,
              {{"probe", probe}, {"reason", reason}});
}

prometheus::Gauge& TargetMetrics::probe_last_success(const std::string& probe) {
  return lazy(last_success_, probe, metrics_.probe_last_success, {{"probe", probe}});
}

prometheus::Gauge& TargetMetrics::connect_phase(const std::string& phase) {
  return lazy(connect_phases_, phase, metrics_.connect_phase, {{"phase", phase}});
}

void TargetMetrics::set_pool(const pool::PoolStats& stats) {
  pool_idle_.Set(stats.idle);
  pool_in_use_.Set(stats.in_use);
  pool_max_.Set(stats.max);
  pool_waiting_.Set(stats.waiting);
  pool_saturation_.Set(stats.max > 0 ? static_cast<double>(stats.in_use) / stats.max : 0);
}

prometheus::Gauge& TargetMetrics::lazy_gauge(prometheus::Gauge*& slot,
                                             prometheus::Family<prometheus::Gauge>& family) {
  std::lock_guard lock(mutex_);
  if (slot == nullptr) slot = &add(family, {});
  return *slot;
}

void TargetMetrics::set_server(int max_connections, int reserved, bool in_recovery,
                               int version_num) {
  lazy_gauge(server_max_connections_, metrics_.server_max_connections).Set(max_connections);
  lazy_gauge(server_reserved_, metrics_.server_reserved_connections).Set(reserved);
  lazy_gauge(server_version_, metrics_.server_version).Set(version_num);
  set_in_recovery(in_recovery);
}

void TargetMetrics::set_in_recovery(bool in_recovery) {
  lazy_gauge(server_in_recovery_, metrics_.server_in_recovery).Set(in_recovery ? 1 : 0);
}

void TargetMetrics::on_connect(const pg::ConnectTiming& timing) {
  pool_opened_.Increment();
  connect_duration_.Observe(timing.total);
}

void TargetMetrics::on_acquire(double seconds) {
  pool_acquire_.Observe(seconds);
}

void TargetMetrics::on_timeout() {
  pool_timeouts_.Increment();
}

void TargetMetrics::on_close(pool::CloseReason reason) {
  pool_closed_.at(reason)->Increment();
}

}  // namespace pgv::telemetry
