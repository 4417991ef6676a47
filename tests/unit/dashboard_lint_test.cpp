// The Grafana dashboard-linter rules pgvitals' dashboards follow, plus the ones that keep them
// usable for a fleet: aggregation by (job, instance, target) so sidecars' `default` targets do
// not collapse into one series, per-target topk, a Fleet row that stays a few series at 1,000
// targets, colour thresholds equal to the alert thresholds, alert annotations, a runbook link,
// data links to the agent's /debug/activity, a layout without overlaps, and a Replication row
// that shows every metric of the replication probe.
#include <algorithm>
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

TEST_CASE("panels fit the 24-column grid and do not overlap", "[dashboards]") {
  struct Box {
    std::string title;
    int x, y, w, h;
  };
  const auto overlaps = [](const Box& a, const Box& b) {
    return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  };
  const auto box = [](const json& panel) {
    const json& g = panel.at("gridPos");
    return Box{panel.value("title", "?"), g.value("x", 0), g.value("y", 0), g.value("w", 0),
               g.value("h", 0)};
  };
  // The top level (rows included), then each collapsed row's panels among themselves.
  const auto check = [&](const std::string& where, const json& panels) {
    std::vector<Box> boxes;
    for (const auto& panel : panels) {
      const Box b = box(panel);
      INFO(where << ": " << b.title);
      CHECK(b.w > 0);
      CHECK(b.h > 0);
      CHECK(b.x >= 0);
      CHECK(b.x + b.w <= 24);
      for (const auto& other : boxes) {
        INFO("overlaps " << other.title);
        CHECK_FALSE(overlaps(b, other));
      }
      boxes.push_back(b);
    }
  };
  for (const auto& d : load_dashboards()) {
    check(d.file, d.doc.at("panels"));
    for (const auto& panel : d.doc.at("panels")) {
      if (panel.value("collapsed", false))
        check(d.file + " / " + panel.value("title", "?"), panel.at("panels"));
    }
  }
}

namespace {

// The replication probe's families (the replication contract of issue 11). The Replication
// row shows each of them, for the picked target like every drill-down row.
const std::vector<std::string> kReplicationMetrics = {
    "pgvitals_replica_wal_receiver_up",
    "pgvitals_replica_replay_lag_bytes",
    "pgvitals_replica_replay_lag_seconds",
    "pgvitals_replica_replay_paused",
    "pgvitals_replication_standby_lag_bytes",
    "pgvitals_replication_standby_lag_seconds",
    "pgvitals_replication_standbys",
    "pgvitals_replication_slot_retained_bytes",
    "pgvitals_replication_slot_active",
    "pgvitals_replication_slot_safe_wal_bytes",
    "pgvitals_replication_slot_wal_status",
    "pgvitals_server_xid_age",
    "pgvitals_server_mxid_age",
    "pgvitals_server_autovacuum_freeze_max_age",
    "pgvitals_server_autovacuum_multixact_freeze_max_age",
};

}  // namespace

TEST_CASE("the Replication row shows every replication, slot and wraparound metric",
          "[dashboards]") {
  bool found = false;
  for (const auto& d : load_dashboards()) {
    if (d.file != "pgvitals-overview.json") continue;
    found = true;
    std::vector<std::string> exprs;
    for (const auto& e : all_exprs(d)) {
      if (e.row == "Replication") exprs.push_back(e.expr);
    }
    REQUIRE_FALSE(exprs.empty());
    const auto queried = [&](const std::string& pattern) {
      const std::regex re(pattern);
      return std::any_of(exprs.begin(), exprs.end(),
                         [&](const std::string& e) { return std::regex_search(e, re); });
    };
    for (const auto& metric : kReplicationMetrics) {
      INFO(metric);
      CHECK(queried("\\b" + metric + "\\{"));
    }
    // Wraparound as a share of 2^31 and of the setting that forces anti-wraparound vacuums.
    CHECK(queried(R"(pgvitals_server_xid_age\{[^}]*\}\) / 2147483648$)"));
    CHECK(queried(R"(pgvitals_server_mxid_age\{[^}]*\}\) / 2147483648$)"));
    CHECK(queried(R"(pgvitals_server_xid_age\{.*/ .*pgvitals_server_autovacuum_freeze_max_age\{)"));
    CHECK(queried(
        R"(pgvitals_server_mxid_age\{.*/ .*pgvitals_server_autovacuum_multixact_freeze_max_age\{)"));
  }
  CHECK(found);
}
