#pragma once

#include <string>
#include <vector>

#include "config/applications.hpp"
#include "probes/probe.hpp"
#include "probes/server_versions.hpp"

namespace pgv::probes {

// Who holds the server's connections and what is stuck: one query per cycle over
// pg_stat_activity (plus pg_blocking_pids for lock waiters), aggregated on the server
// into a single row so its cost does not grow with the rows it would otherwise ship.
class ActivityProbe final : public Probe {
 public:
  explicit ActivityProbe(std::vector<config::ApplicationBudget> budgets = {})
      : Probe(config::ProbeId::activity), budgets_(std::move(budgets)) {}

  // The statement for a given top-N, query-text setting, server version and application
  // budgets (each session counted by the first that matches); public for the cost bench.
  static std::string sql(int top_n, bool expose_query_text, ServerVersion server,
                         const std::vector<config::ApplicationBudget>& budgets = {});
  // A budget's match as an SQL condition over the columns app and usesysid.
  static std::string budget_condition(const config::ApplicationBudget& budget);

 protected:
  async::Task<void> execute(ProbeContext& ctx, ProbeResult& result) override;

 private:
  std::vector<config::ApplicationBudget> budgets_;
};

// Reads the probe's single row; separate for tests.
ActivityDigest parse_activity_row(const pg::Result& row);

}  // namespace pgv::probes
