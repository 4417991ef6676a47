#pragma once

#include <map>
#include <string>
#include <vector>

#include "probes/replication_digest.hpp"
#include "telemetry/metrics.hpp"

namespace pgv::telemetry {

// The series of one family for one target whose label sets come and go (standbys, slots):
// each update replaces the whole set, so a standby or slot that went leaves nothing behind.
class SeriesSet {
 public:
  SeriesSet(prometheus::Family<prometheus::Gauge>& family, std::string target)
      : family_(&family), target_(std::move(target)) {}
  ~SeriesSet() { clear(); }
  SeriesSet(const SeriesSet&) = delete;
  SeriesSet& operator=(const SeriesSet&) = delete;
  SeriesSet(SeriesSet&&) = delete;
  SeriesSet& operator=(SeriesSet&&) = delete;

  // `values` by their labels, without `target`.
  void replace(const std::map<prometheus::Labels, double>& values);
  void clear();

 private:
  prometheus::Family<prometheus::Gauge>* family_;
  std::string target_;
  std::map<prometheus::Labels, prometheus::Gauge*> series_;
};

// One target's replication, WAL retention and wraparound series. Shown from a successful
// replication probe until clear(); a value the digest lacks has no series, never a 0.
// Used by the target's recorder thread only.
class ReplicationMetrics {
 public:
  ReplicationMetrics(Metrics& metrics, const std::string& target);

  void set(const probes::ReplicationDigest& digest);
  void clear();

 private:
  std::vector<std::unique_ptr<SeriesSet>> sets_;
  SeriesSet& receiver_up_;
  SeriesSet& lag_bytes_;
  SeriesSet& lag_seconds_;
  SeriesSet& paused_;
  SeriesSet& standby_lag_bytes_;
  SeriesSet& standby_lag_seconds_;
  SeriesSet& standbys_;
  SeriesSet& slot_retained_;
  SeriesSet& slot_active_;
  SeriesSet& slot_safe_;
  SeriesSet& slot_status_;
  SeriesSet& xid_age_;
  SeriesSet& mxid_age_;
  SeriesSet& freeze_max_age_;
  SeriesSet& multixact_freeze_max_age_;

  SeriesSet& make(prometheus::Family<prometheus::Gauge>& family, const std::string& target);
};

}  // namespace pgv::telemetry
