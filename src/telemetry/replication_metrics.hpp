#pragma once

#include <map>
#include <string>
#include <vector>

#include "probes/replication_digest.hpp"
#include "telemetry/metrics.hpp"
#include "telemetry/series_set.hpp"

namespace pgv::telemetry {

// One target's replication, WAL retention and wraparound series. Shown from a successful
// replication probe until clear(); a value the digest lacks has no series, never a 0.
// Used by the target's recorder thread only.
class ReplicationMetrics {
 public:
  ReplicationMetrics(Metrics& metrics, const std::string& target);

  void set(const probes::ReplicationDigest& digest);
  void clear();

 private:
  SeriesGroup sets_;
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
};

}  // namespace pgv::telemetry
