// The Grafana dashboard-linter rules pgvitals' dashboards follow, plus the ones that keep them
// usable for a fleet: aggregation by (job, instance, target) so sidecars' `default` targets do
// not collapse into one series, per-target topk, a Fleet row that stays a few series at 1,000
// targets, colour thresholds equal to the alert thresholds, alert annotations, a runbook link
// and data links to the agent's /debug/activity.
#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "dashboard_support.hpp"

using namespace pgv::testing::dashboards;

namespace {

// Every label list of `by (...)`, `without (...)`, `on(...)` and `ignoring(...)`.
std::vector<std::string> grouping_lists(const std::string& expr) {
  std::vector<std::string> out;
  const std::regex list(R"(\b(by|on|without|ignoring)\s*\(([^)]*)\))");
  for (auto it = std::sregex_iterator(expr.begin(), expr.end(), list); it != std::sregex_iterator();
       ++it) {
    out.push_back((*it)[2].str());
  }
  return out;
}

std::set<std::string> labels_of(const std::string& list) {
  std::set<std::string> out;
  const std::regex label(R"([A-Za-z_][A-Za-z0-9_]*)");
  for (auto it = std::sregex_iterator(list.begin(), list.end(), label);
       it != std::sregex_iterator(); ++it) {
    out.insert(it->str());
  }
  return out;
}

// A grouping that keeps `target` must keep job and instance too.
std::vector<std::string> aggregation_problems(const std::string& expr) {
  std::vector<std::string> out;
  for (const auto& list : grouping_lists(expr)) {
    const auto labels = labels_of(list);
    if (labels.count("target") != 0 && (labels.count("job") == 0 || labels.count("instance") == 0))
      out.push_back("(" + list + ") keeps target without job and instance");
  }
  return out;
}

// Outside the Fleet row a topk/bottomk ranks within each target.
std::vector<std::string> topk_problems(const std::string& expr, bool fleet) {
  std::vector<std::string> out;
  const std::regex call(R"(\b(topk|bottomk)\s*(by\s*\(([^)]*)\))?\s*\()");
  for (auto it = std::sregex_iterator(expr.begin(), expr.end(), call); it != std::sregex_iterator();
       ++it) {
    if (fleet) continue;
    const auto labels = labels_of((*it)[3].str());
    if (labels.count("job") == 0 || labels.count("instance") == 0 || labels.count("target") == 0)
      out.push_back((*it)[1].str() + " is not by (job, instance, target)");
  }
  return out;
}

// `<metric> > <number>` comparisons in the alert rules: the thresholds a panel must show.
std::map<std::string, std::set<double>> alert_thresholds() {
  const std::string rules = read_file(kSourceDir / "alerts/pgvitals.rules.yml");
  std::map<std::string, std::set<double>> out;
  const std::regex cmp(R"((pgvitals_[a-z_]+)\s*>\s*([0-9]+(\.[0-9]+)?)\b)");
  for (auto it = std::sregex_iterator(rules.begin(), rules.end(), cmp);
       it != std::sregex_iterator(); ++it) {
    out[(*it)[1].str()].insert(std::stod((*it)[2].str()));
  }
  return out;
}

std::set<double> panel_thresholds(const json& panel) {
  std::set<double> out;
  const auto ptr = "/fieldConfig/defaults/thresholds/steps"_json_pointer;
  if (!panel.contains(ptr)) return out;
  for (const auto& step : panel.at(ptr)) {
    if (step.contains("value") && step.at("value").is_number())
      out.insert(step.at("value").get<double>());
  }
  return out;
}

std::string exprs_of(const json& panel) {
  std::string all;
  if (panel.contains("targets"))
    for (const auto& t : panel.at("targets")) all += t.value("expr", "") + "\n";
  return all;
}

}  // namespace

TEST_CASE("the aggregation check wants job and instance beside target", "[dashboards]") {
  CHECK_FALSE(aggregation_problems("max by (target) (x)").empty());
  CHECK_FALSE(aggregation_problems("a or on(target) b").empty());
  CHECK_FALSE(aggregation_problems("sum by (le, instance, target) (x)").empty());
  CHECK(aggregation_problems("sum by (le, job, instance, target) (x)").empty());
  CHECK(aggregation_problems("sum by (le) (x)").empty());
  CHECK_FALSE(topk_problems("topk(10, x)", false).empty());
  CHECK_FALSE(topk_problems("topk by (target) (10, x)", false).empty());
  CHECK(topk_problems("topk by (job, instance, target) (10, x)", false).empty());
  CHECK(topk_problems("bottomk(10, x)", true).empty());
}

TEST_CASE("dashboards follow the dashboard-linter rules", "[dashboards]") {
  for (const auto& d : load_dashboards()) {
    INFO(d.file);
    CHECK(d.doc.value("editable", true) == false);
    for (const auto& v : d.doc.at("templating").at("list")) {
      INFO(v.value("name", "?"));
      if (v.value("includeAll", false)) CHECK(v.value("allValue", "") == ".+");
      if (v.value("name", "") == "instance") CHECK(v.value("label", "") == "Instance");
    }
  }
}

TEST_CASE("queries aggregate by (job, instance, target) and rank within each target",
          "[dashboards]") {
  for (const auto& d : load_dashboards()) {
    for (const auto& e : all_exprs(d)) {
      INFO(e.where << "\n  " << e.expr);
      CHECK(aggregation_problems(e.expr) == std::vector<std::string>{});
      CHECK(topk_problems(e.expr, e.fleet) == std::vector<std::string>{});
    }
  }
}

TEST_CASE("the Fleet row counts down targets and ranks the worst with topk and bottomk",
          "[dashboards]") {
  for (const auto& d : load_dashboards()) {
    INFO(d.file);
    bool down = false, latency = false, saturation = false, failures = false, bottom = false;
    for (const auto& e : all_exprs(d)) {
      if (!e.fleet) continue;
      INFO(e.where << "\n  " << e.expr);
      // Ranked or counted: a handful of series however many targets there are.
      CHECK(std::regex_search(e.expr, std::regex(R"(^\s*(topk|bottomk|count)\b)")));
      CHECK(e.expr.find("$target") == std::string::npos);
      down = down || (e.expr.find("count(pgvitals_up{") != std::string::npos &&
                      e.expr.find("== 0") != std::string::npos);
      const bool top = e.expr.find("topk(") != std::string::npos;
      latency =
          latency || (top && e.expr.find("pgvitals_probe_duration_seconds") != std::string::npos);
      saturation =
          saturation || (top && e.expr.find("connection_saturation_ratio") != std::string::npos);
      failures =
          failures || (top && e.expr.find("pgvitals_probe_failures_total") != std::string::npos);
      bottom = bottom || e.expr.find("bottomk(") != std::string::npos;
    }
    CHECK(down);
    CHECK(latency);
    CHECK(saturation);
    CHECK(failures);
    CHECK(bottom);
  }
}

TEST_CASE("panels of an alerted gauge colour at the alert's thresholds", "[dashboards]") {
  const auto alerted = alert_thresholds();
  REQUIRE(alerted.count("pgvitals_server_connection_saturation_ratio") == 1);
  CHECK(alerted.at("pgvitals_server_connection_saturation_ratio") == std::set<double>{0.8, 0.95});
  REQUIRE(alerted.count("pgvitals_server_longest_lock_wait_seconds") == 1);
  for (const auto& d : load_dashboards()) {
    int checked = 0;
    for (const auto& panel : all_panels(d.doc)) {
      const std::string exprs = exprs_of(panel);
      for (const auto& [metric, values] : alerted) {
        if (!std::regex_search(exprs, std::regex("\\b" + metric + "\\b"))) continue;
        INFO(d.file << ": " << panel.value("title", "?") << " shows " << metric);
        CHECK(panel_thresholds(panel) == values);
        ++checked;
      }
    }
    CHECK(checked >= 6);
  }
}

TEST_CASE("dashboards show pgvitals alerts, link the runbook and the agent's activity page",
          "[dashboards]") {
  for (const auto& d : load_dashboards()) {
    INFO(d.file);
    bool alerts = false;
    for (const auto& a : d.doc.at("/annotations/list"_json_pointer)) {
      alerts = alerts ||
               a.value("expr", "").find("ALERTS{alertname=~\"Pgvitals.*\"") != std::string::npos;
    }
    CHECK(alerts);
    bool runbook = false;
    for (const auto& l : d.doc.value("links", json::array()))
      runbook = runbook || l.value("url", "").find("docs/runbook.md") != std::string::npos;
    CHECK(runbook);
    int activity_links = 0;
    for (const auto& panel : all_panels(d.doc)) {
      const auto ptr = "/fieldConfig/defaults/links"_json_pointer;
      if (!panel.contains(ptr)) continue;
      for (const auto& l : panel.at(ptr)) {
        if (l.value("url", "").find("/debug/activity?target=${__field.labels.target}") !=
            std::string::npos)
          ++activity_links;
      }
    }
    CHECK(activity_links >= 3);
  }
}
