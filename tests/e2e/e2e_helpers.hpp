// Shared by the end-to-end tests: what a Prometheus answer holds, picking a row's queries, and
// waiting (by polling, with a deadline) until every dashboard query returns data.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "artefacts.hpp"
#include "helpers.hpp"
#include "prometheus_process.hpp"

namespace pgv::testing {

inline bool has_samples(const nlohmann::json& data) {
  return data.is_object() && data.contains("result") && data["result"].is_array() &&
         !data["result"].empty();
}

inline std::size_t series_count(const nlohmann::json& data) {
  return has_samples(data) ? data["result"].size() : 0;
}

// The row whose queries need a primary with a standby and a slot, and a standby:
// replication_e2e_test.cpp checks it; the single-server tests leave it out.
inline const std::string kReplicationRow = "Replication";
// The row whose queries need a PgBouncer target (kind: pgbouncer) and a target reached through
// it (via:); the single-server tests leave it out.
inline const std::string kPgbouncerRow = "PgBouncer";
// The row whose queries need applications declared under `applications:` in the agent config
// (connection budgets); the single-server tests declare none and leave it out.
inline const std::string kApplicationsRow = "Applications";

// The queries of panels under the row titled `row` (`inside`), or of every other panel.
inline std::vector<DashboardQuery> queries_of_row(const std::vector<DashboardQuery>& queries,
                                                  const std::string& row, bool inside = true) {
  std::vector<DashboardQuery> out;
  for (const auto& q : queries)
    if ((q.row == row) == inside) out.push_back(q);
  return out;
}

// The queries that return no data yet; polls until there are none or `timeout` passes (the
// rate() windows need a few scrapes, the histograms a few probes), then returns the rest.
inline std::vector<DashboardQuery> wait_for_dashboard_data(
    const PrometheusProcess& prom, const std::vector<DashboardQuery>& queries,
    std::chrono::milliseconds timeout) {
  std::vector<DashboardQuery> empty;
  eventually(
      [&] {
        empty.clear();
        for (const auto& q : queries)
          if (!has_samples(prom.query(q.expr))) empty.push_back(q);
        return empty.empty();
      },
      timeout);
  return empty;
}

// An alert's state in Prometheus' /api/v1/alerts: firing, pending, inactive when absent, or
// "no answer".
inline std::string alert_state(const PrometheusProcess& prom, const std::string& name) {
  const auto body = prom.api("alerts");
  if (!body.is_object()) return "no answer";
  std::string state = "inactive";
  for (const auto& alert : body["data"]["alerts"]) {
    if (alert["labels"].value("alertname", "") == name) state = alert.value("state", "?");
  }
  return state;
}

}  // namespace pgv::testing
