#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/applications.hpp"
#include "probes/result.hpp"
#include "telemetry/metrics.hpp"
#include "telemetry/plateau.hpp"
#include "telemetry/series_set.hpp"

namespace pgv::telemetry {

// One target's per-application series: the declared budgets (sessions by state, budget,
// ratio, oldest idle in transaction, waiters; the undeclared summed as "other"), and the
// plateau flag of undeclared applications in the top N. From a successful activity probe
// until clear(). Used by the target's recorder thread only.
class ApplicationMetrics {
 public:
  ApplicationMetrics(Metrics& metrics, const std::string& target,
                     std::vector<config::ApplicationBudget> budgets, Clock::duration plateau_for);

  void set(const probes::ActivityDigest& activity, Clock::time_point now);
  void clear();

  // The per-application rows `check` and /debug/activity show: each declared application
  // (those without sessions too), then "other".
  struct Row {
    std::string application;
    std::string user;  // the budget's, when it names one
    std::string owner;
    int sessions = 0;
    std::map<std::string, int> by_state;
    int budget = 0;  // 0: undeclared
    std::optional<double> oldest_idle_in_transaction_seconds;
    int waiting = 0;
  };
  static std::vector<Row> rows(const probes::ActivityDigest& activity,
                               const std::vector<config::ApplicationBudget>& budgets);

 private:
  std::vector<config::ApplicationBudget> budgets_;
  PlateauTracker plateau_;
  SeriesGroup sets_;
  SeriesSet& connections_;
  SeriesSet& budget_;
  SeriesSet& ratio_;
  SeriesSet& idle_in_transaction_;
  SeriesSet& idle_in_transaction_max_;
  SeriesSet& waiting_;
  SeriesSet& at_plateau_;
};

}  // namespace pgv::telemetry
