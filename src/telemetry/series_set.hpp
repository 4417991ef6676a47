#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "telemetry/metrics.hpp"

namespace pgv::telemetry {

// The series of one family for one target whose label sets come and go (standbys, slots,
// pools): each update replaces the whole set, so a standby or pool that went leaves
// nothing behind.
class SeriesSet {
 public:
  SeriesSet(Family<prometheus::Gauge>& family, std::string target)
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
  Family<prometheus::Gauge>* family_;
  std::string target_;
  std::map<prometheus::Labels, prometheus::Gauge*> series_;
};

// The gauge sets of one target's group of families (replication, pooler, applications),
// made and cleared together.
class SeriesGroup {
 public:
  SeriesSet& add(Family<prometheus::Gauge>& family, const std::string& target) {
    sets_.push_back(std::make_unique<SeriesSet>(family, target));
    return *sets_.back();
  }
  void clear() {
    for (auto& set : sets_) set->clear();
  }

 private:
  std::vector<std::unique_ptr<SeriesSet>> sets_;
};

// Counters that mirror totals kept elsewhere (PgBouncer's SHOW STATS): each update gives
// the totals; a total that went down (the pooler restarted) starts its series again from
// 0, which Prometheus' rate() reads as the counter reset it is.
class CounterSet {
 public:
  CounterSet(Family<prometheus::Counter>& family, std::string target)
      : family_(&family), target_(std::move(target)) {}
  ~CounterSet() { clear(); }
  CounterSet(const CounterSet&) = delete;
  CounterSet& operator=(const CounterSet&) = delete;
  CounterSet(CounterSet&&) = delete;
  CounterSet& operator=(CounterSet&&) = delete;

  void replace(const std::map<prometheus::Labels, double>& totals);
  void clear();

 private:
  struct Series {
    prometheus::Counter* counter;
    double total;
  };
  Family<prometheus::Counter>* family_;
  std::string target_;
  std::map<prometheus::Labels, Series> series_;
};

}  // namespace pgv::telemetry
