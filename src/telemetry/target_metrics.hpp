#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "telemetry/metrics.hpp"

namespace pgv::telemetry {

// One target's series. Created when the target is added; the destructor removes every
// series it created, so a removed target leaves nothing stale behind. Also the pool's
// observer: connection events become counters and histograms as they happen.
class TargetMetrics final : public pool::PoolObserver {
 public:
  // `required` is exported on pgvitals_target_info; every probe in `probes` gets its
  // failure counters for kCommonFailureReasons at 0.
  // A target reached through a pooler (`via`, its name) labels its failures with the hop
  // as well (its connectivity counters exist at 0 for each hop), and pgvitals_target_info
  // names the pooler.
  TargetMetrics(Metrics& metrics, std::string target,
                const std::map<std::string, std::string>& labels, bool required = true,
                const std::vector<std::string>& probes = {}, const std::string& via = "");
  ~TargetMetrics() override;
  TargetMetrics(const TargetMetrics&) = delete;
  TargetMetrics& operator=(const TargetMetrics&) = delete;
  TargetMetrics(TargetMetrics&&) = delete;
  TargetMetrics& operator=(TargetMetrics&&) = delete;

  prometheus::Gauge& up() { return up_; }
  Histogram& probe_duration(const std::string& probe);
  // `hop` (pooler, server, unknown) only for a target reached through a pooler.
  prometheus::Counter& probe_failures(const std::string& probe, const std::string& reason,
                                      const std::string& hop = "");
  prometheus::Gauge& probe_last_success(const std::string& probe);
  prometheus::Gauge& connect_phase(const std::string& phase);
  Histogram& connect_duration() { return connect_duration_; }
  void set_pool(const pool::PoolStats& stats);
  void set_server(int max_connections, int reserved, bool in_recovery, int version_num);
  void set_in_recovery(bool in_recovery);
  // The activity-derived gauges (connections by state and application, saturation, ages,
  // blocked, waiting, lock wait) describe one moment: they are shown from a successful
  // activity probe until `valid_until`, and removed by clear_activity() or at the first
  // rendering after that, so a stale value is never exported. The next set brings them back.
  void set_activity(const probes::ActivityDigest& activity,
                    Clock::time_point valid_until = Clock::time_point::max());
  void clear_activity();
  void expire(Clock::time_point now);
  bool has_activity();
  prometheus::Gauge& last_cycle() { return last_cycle_; }
  Histogram& schedule_lag() { return schedule_lag_; }

  // pool::PoolObserver
  void on_connect(const pg::ConnectTiming& timing) override;
  void on_acquire(double seconds) override;
  void on_timeout() override;
  void on_close(pool::CloseReason reason) override;

 private:
  template <class T, class... Args>
  T& add(Family<T>& family, prometheus::Labels labels, Args&&... args);
  // A family whose label values come and go (states, applications, wait types): each
  // update replaces the whole set, so a name that left the top N leaves no series behind.
  struct GaugeSet {
    Family<prometheus::Gauge>* family;
    std::string label;
    std::map<std::string, prometheus::Gauge*> series;
  };
  void replace(GaugeSet& set, const std::map<std::string, double>& values);  // mutex_ held
  void clear_activity_locked();
  prometheus::Gauge& activity_gauge(prometheus::Gauge*& slot,
                                    Family<prometheus::Gauge>& family);  // mutex_ held

  prometheus::Gauge& lazy_gauge(prometheus::Gauge*& slot, Family<prometheus::Gauge>& family);
  // add() for a series made at its first use, under mutex_. No map remembers it: the family
  // finds it by its labels, and a map per kind of series cost ~4 KiB a target.
  template <class T, class... Args>
  T& lazy(Family<T>& family, prometheus::Labels labels, Args&&... args);

  Metrics& metrics_;
  const std::string target_;
  std::mutex mutex_;  // guards families_ and the activity series
  // The families this target has series in: the destructor removes its series from each.
  std::vector<FamilyBase*> families_;

  prometheus::Gauge& up_;
  Histogram& connect_duration_;
  prometheus::Gauge& pool_idle_;
  prometheus::Gauge& pool_in_use_;
  prometheus::Gauge& pool_max_;
  prometheus::Gauge& pool_waiting_;
  prometheus::Gauge& pool_saturation_;
  Histogram& pool_acquire_;
  prometheus::Counter& pool_timeouts_;
  prometheus::Counter& pool_opened_;
  std::map<pool::CloseReason, prometheus::Counter*> pool_closed_;
  // Server series appear once a probe has read them, never as a misleading 0 before.
  // Settings-derived ones stay once read: they change only with a server restart, and
  // connectivity keeps in_recovery current.
  prometheus::Gauge* server_max_connections_ = nullptr;
  prometheus::Gauge* server_reserved_ = nullptr;
  prometheus::Gauge* server_in_recovery_ = nullptr;
  prometheus::Gauge* server_version_ = nullptr;
  // Activity-derived ones: present only while the activity result is valid; set_activity()
  // makes them and clear_activity_locked() removes them, not through add().
  prometheus::Gauge* server_saturation_ = nullptr;
  prometheus::Gauge* oldest_transaction_ = nullptr;
  prometheus::Gauge* oldest_idle_in_transaction_ = nullptr;
  prometheus::Gauge* longest_query_ = nullptr;
  prometheus::Gauge* blocked_sessions_ = nullptr;
  prometheus::Gauge* longest_lock_wait_ = nullptr;
  Clock::time_point activity_valid_until_{};
  prometheus::Gauge& last_cycle_;
  Histogram& schedule_lag_;
  GaugeSet by_state_;
  GaugeSet by_application_;
  GaugeSet waiting_;
};

}  // namespace pgv::telemetry
