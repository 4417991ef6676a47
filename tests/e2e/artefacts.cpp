#include "artefacts.hpp"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <regex>

namespace pgv::testing {
namespace {

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  std::size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
  return s;
}

// `row`: the row the panels sit under; a row panel starts a new one for the panels after it
// (expanded rows) and for its own nested panels (collapsed rows).
void collect(const nlohmann::json& panels, const std::string& dashboard,
             std::vector<DashboardQuery>& out,
             const std::vector<std::pair<std::string, std::string>>& vars, std::string row = "") {
  if (!panels.is_array()) return;
  for (const auto& panel : panels) {
    if (panel.value("type", "") == "row") row = panel.value("title", "");
    if (panel.contains("panels")) collect(panel["panels"], dashboard, out, vars, row);
    if (!panel.contains("targets")) continue;
    for (const auto& target : panel["targets"]) {
      if (!target.contains("expr") || !target["expr"].is_string()) continue;
      std::string expr = target["expr"].get<std::string>();
      // Longest names first: $__rate_interval before $__range is irrelevant, but $target
      // must not eat a prefix of another variable.
      for (const auto& [name, value] : vars) {
        expr = replace_all(expr, "${" + name + "}", value);
        expr = replace_all(expr, "$" + name, value);
      }
      out.push_back({dashboard, panel.value("title", "?"), expr, row});
    }
  }
}

}  // namespace

std::vector<DashboardQuery> dashboard_queries(const std::string& source_dir, const std::string& job,
                                              const std::string& instance,
                                              const std::string& target) {
  const std::vector<std::pair<std::string, std::string>> vars = {
      {"__rate_interval", "20s"}, {"__interval", "5s"}, {"__range", "5m"},
      {"instance", instance},     {"target", target},   {"job", job}};
  std::vector<DashboardQuery> out;
  for (const auto& entry : std::filesystem::directory_iterator(source_dir + "/dashboards")) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    const auto dashboard = nlohmann::json::parse(in);
    collect(dashboard["panels"], entry.path().filename().string(), out, vars);
  }
  return out;
}

std::string rules_with_short_for(const std::string& rules_file, const std::string& out_dir,
                                 const std::string& short_for) {
  YAML::Node rules = YAML::LoadFile(rules_file);
  for (auto group : rules["groups"]) {
    for (auto rule : group["rules"]) {
      if (rule["for"]) rule["for"] = short_for;
    }
  }
  const std::string path = out_dir + "/rules-short-for.yml";
  std::ofstream out(path);
  out << rules;
  return path;
}

std::string database_down_alert(const std::string& rules_file) {
  const YAML::Node rules = YAML::LoadFile(rules_file);
  // The expression starts with the test (joined with pgvitals_target_info for its labels);
  // other rules use it only in an `unless` clause.
  const std::regex up_is_zero(R"(^\s*\(?\s*pgvitals_up(\{[^}]*\})?\s*==\s*0\s*\)?)");
  for (const auto& group : rules["groups"]) {
    for (const auto& rule : group["rules"]) {
      if (rule["alert"] && std::regex_search(rule["expr"].as<std::string>(), up_is_zero)) {
        return rule["alert"].as<std::string>();
      }
    }
  }
  return {};
}

}  // namespace pgv::testing
