#include "app/applications_report.hpp"

#include <cstdio>

#include "telemetry/application_metrics.hpp"

namespace pgv::app {

void render_applications(std::string& out, const telemetry::TargetState& st) {
  if (!st.activity || st.applications.empty()) return;
  const auto rows = telemetry::ApplicationMetrics::rows(*st.activity, st.applications);
  out += "    applications:\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    std::string line = "      " + row.application +
                       (row.user.empty() ? "" : " (user " + row.user + ")") + " " +
                       std::to_string(row.sessions);
    if (row.budget > 0) {
      line += "/" + std::to_string(row.budget);
      if (row.sessions > row.budget) {
        line += " (over budget)";
      } else if (row.sessions == row.budget) {
        line += " (pool full)";
      }
    } else {
      line += " sessions";
    }
    if (i < st.applications.size() && st.applications[i].idle_in_transaction_max &&
        row.oldest_idle_in_transaction_seconds) {
      const double limit =
          std::chrono::duration<double>(*st.applications[i].idle_in_transaction_max).count();
      if (*row.oldest_idle_in_transaction_seconds > limit) {
        char buf[96];
        std::snprintf(buf, sizeof buf, " (idle in transaction %.0f s, limit %.0f s)",
                      *row.oldest_idle_in_transaction_seconds, limit);
        line += buf;
      }
    }
    if (!row.owner.empty()) line += " \u00b7 owner " + row.owner;
    out += line + "\n";
  }
}

}  // namespace pgv::app
