#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace pgv::testing {

struct DashboardQuery {
  std::string dashboard;
  std::string panel;
  std::string expr;  // variables substituted
  std::string row;   // the title of the row the panel sits under ("" above the first row)
};

// Every PromQL expression of every dashboards/*.json panel (rows included), with Grafana
// variables replaced by concrete values for one agent and one target.
std::vector<DashboardQuery> dashboard_queries(const std::string& source_dir, const std::string& job,
                                              const std::string& instance,
                                              const std::string& target);

// Writes a copy of the alert rules with every `for:` shortened, so a test sees alerts move
// from pending to firing in seconds; returns its path.
std::string rules_with_short_for(const std::string& rules_file, const std::string& out_dir,
                                 const std::string& short_for);

// The alert whose expression starts by testing pgvitals_up == 0.
std::string database_down_alert(const std::string& rules_file);

}  // namespace pgv::testing
