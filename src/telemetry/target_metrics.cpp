// TargetMetrics: one target's series, and which of them may be shown.
#include "telemetry/target_metrics.hpp"

#include <algorithm>
#include <utility>

#include "config/probe_catalog.hpp"

namespace pgv::telemetry {
namespace {

Histogram::BucketBoundaries pool_acquire_buckets() {
  // Acquire from a warm pool costs well under a microsecond; with pre-ping it is a round trip.
  return {0.000001, 0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
          0.025,    0.05,    0.1,     0.25,   0.5,     1,      2.5,   5,      10};
}

}  // namespace

template <class T, class... Args>
T& TargetMetrics::add(Family<T>& family, prometheus::Labels labels, Args&&... args) {
  labels.emplace("target", target_);
  auto [metric, created] = family.Ensure(labels, std::forward<Args>(args)...);
  if (created && std::find(families_.begin(), families_.end(), &family) == families_.end()) {
    families_.push_back(&family);
  }
  return metric;
}

template <class T, class... Args>
T& TargetMetrics::lazy(Family<T>& family, prometheus::Labels labels, Args&&... args) {
  std::lock_guard lock(mutex_);
  return add(family, std::move(labels), std::forward<Args>(args)...);
}

TargetMetrics::TargetMetrics(Metrics& metrics, std::string target,
                             const std::map<std::string, std::string>& labels, bool required,
                             const std::vector<std::string>& probes, const std::string& via)
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
  // `required` lets alerts page only for targets that fail /healthz (config rejects a
  // user label of that name).
  prometheus::Labels info(labels.begin(), labels.end());
  info["required"] = required ? "true" : "false";
  // Alerts that count servers (PgvitalsSplitBrain) leave out paths through a pooler: the
  // server behind is watched directly too.
  if (!via.empty()) info["via"] = via;
  add(metrics.target_info, info).Set(1);
  for (pool::CloseReason r : pool::kCloseReasons) {
    pool_closed_[r] = &add(metrics.pool_closed, {{"reason", std::string(pool::to_string(r))}});
  }
  for (const std::string& probe : probes) {
    // Through a pooler, three hops per reason: only the up/down probe's, which alerts
    // read, exist from the start; the other probes' appear at their first failure.
    if (!via.empty() && probe != config::up_probe().name) continue;
    for (pg::Reason reason : kCommonFailureReasons) {
      if (via.empty()) {
        probe_failures(probe, std::string(pg::to_string(reason)));
        continue;
      }
      for (const char* hop : {"pooler", "server", "unknown"}) {
        probe_failures(probe, std::string(pg::to_string(reason)), hop);
      }
    }
  }
  metrics_.watch_expiry(this);
}

TargetMetrics::~TargetMetrics() {
  metrics_.unwatch_expiry(this);
  std::lock_guard lock(mutex_);
  for (FamilyBase* family : families_) family->remove_target(target_);
  clear_activity_locked();
}

void TargetMetrics::replace(GaugeSet& set, const std::map<std::string, double>& values) {
  for (auto it = set.series.begin(); it != set.series.end();) {
    if (values.contains(it->first)) {
      ++it;
      continue;
    }
    set.family->Remove(target_, it->second);
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

prometheus::Gauge& TargetMetrics::activity_gauge(prometheus::Gauge*& slot,
                                                 Family<prometheus::Gauge>& family) {
  if (slot == nullptr) slot = &family.Add({{"target", target_}});
  return *slot;
}

void TargetMetrics::set_activity(const probes::ActivityDigest& a, Clock::time_point valid_until) {
  std::lock_guard lock(mutex_);
  activity_valid_until_ = valid_until;
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
  activity_gauge(server_saturation_, metrics_.server_saturation).Set(a.saturation());
  activity_gauge(oldest_transaction_, metrics_.server_oldest_transaction)
      .Set(a.oldest_transaction_seconds.value_or(0));
  activity_gauge(oldest_idle_in_transaction_, metrics_.server_oldest_idle_in_transaction)
      .Set(a.oldest_idle_in_transaction_seconds.value_or(0));
  activity_gauge(longest_query_, metrics_.server_longest_query)
      .Set(a.longest_query_seconds.value_or(0));
  activity_gauge(blocked_sessions_, metrics_.server_blocked_sessions)
      .Set(static_cast<double>(a.blocked.size()));
  activity_gauge(longest_lock_wait_, metrics_.server_longest_lock_wait)
      .Set(a.longest_lock_wait_seconds.value_or(0));
}

void TargetMetrics::clear_activity() {
  std::lock_guard lock(mutex_);
  clear_activity_locked();
}

void TargetMetrics::clear_activity_locked() {
  for (GaugeSet* set : {&by_state_, &by_application_, &waiting_}) {
    for (auto& [value, gauge] : set->series) set->family->Remove(target_, gauge);
    set->series.clear();
  }
  const std::pair<prometheus::Gauge**, Family<prometheus::Gauge>*> single[] = {
      {&server_saturation_, &metrics_.server_saturation},
      {&oldest_transaction_, &metrics_.server_oldest_transaction},
      {&oldest_idle_in_transaction_, &metrics_.server_oldest_idle_in_transaction},
      {&longest_query_, &metrics_.server_longest_query},
      {&blocked_sessions_, &metrics_.server_blocked_sessions},
      {&longest_lock_wait_, &metrics_.server_longest_lock_wait}};
  for (const auto& [slot, family] : single) {
    if (*slot != nullptr) family->Remove(target_, *slot);
    *slot = nullptr;
  }
  activity_valid_until_ = {};
}

void TargetMetrics::expire(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (blocked_sessions_ != nullptr && now > activity_valid_until_) clear_activity_locked();
}

bool TargetMetrics::has_activity() {
  std::lock_guard lock(mutex_);
  return blocked_sessions_ != nullptr;
}

Histogram& TargetMetrics::probe_duration(const std::string& probe) {
  return lazy(metrics_.probe_duration, {{"probe", probe}}, latency_buckets());
}

prometheus::Counter& TargetMetrics::probe_failures(const std::string& probe,
                                                   const std::string& reason,
                                                   const std::string& hop) {
  prometheus::Labels labels{{"probe", probe}, {"reason", reason}};
  if (!hop.empty()) labels.emplace("hop", hop);
  return lazy(metrics_.probe_failures, std::move(labels));
}

prometheus::Gauge& TargetMetrics::probe_last_success(const std::string& probe) {
  return lazy(metrics_.probe_last_success, {{"probe", probe}});
}

prometheus::Gauge& TargetMetrics::connect_phase(const std::string& phase) {
  return lazy(metrics_.connect_phase, {{"phase", phase}});
}

void TargetMetrics::set_pool(const pool::PoolStats& stats) {
  pool_idle_.Set(stats.idle);
  pool_in_use_.Set(stats.in_use);
  pool_max_.Set(stats.max);
  pool_waiting_.Set(stats.waiting);
  pool_saturation_.Set(stats.max > 0 ? static_cast<double>(stats.in_use) / stats.max : 0);
}

prometheus::Gauge& TargetMetrics::lazy_gauge(prometheus::Gauge*& slot,
                                             Family<prometheus::Gauge>& family) {
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
