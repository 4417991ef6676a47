#pragma once

#include <memory>
#include <string>
#include <vector>

#include "probes/pooler_digest.hpp"
#include "telemetry/metrics.hpp"
#include "telemetry/series_set.hpp"

namespace pgv::telemetry {

// One PgBouncer target's pool, client and total series. Shown from a successful pooler
// probe until clear(). Used by the target's recorder thread only.
class PoolerMetrics {
 public:
  PoolerMetrics(Metrics& metrics, const std::string& target);

  void set(const probes::PoolerDigest& digest);
  void clear();

 private:
  SeriesGroup gauges_;
  std::vector<std::unique_ptr<CounterSet>> counters_;
  SeriesSet& clients_;
  SeriesSet& clients_waiting_;
  SeriesSet& max_wait_;
  SeriesSet& servers_;
  SeriesSet& pool_size_;
  SeriesSet& saturation_;
  SeriesSet& client_connections_;
  SeriesSet& max_client_connections_;
  SeriesSet& client_ratio_;
  CounterSet& transactions_;
  CounterSet& queries_;
  CounterSet& transaction_seconds_;
  CounterSet& query_seconds_;
  CounterSet& wait_seconds_;

  CounterSet& counter(Family<prometheus::Counter>& family, const std::string& target);
};

}  // namespace pgv::telemetry
