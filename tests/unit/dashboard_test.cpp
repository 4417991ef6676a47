// The Grafana dashboards in dashboards/ are checked against the metrics the agent really
// exports (docs/metrics-sample.prom, a scrape of a running agent) and against the rules
// that keep them correct: every panel described and with a unit, counters only through
// rate()/increase()/irate() over $__rate_interval, every selector filtered by the template
// variables.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "dashboard_support.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using namespace pgv::testing::dashboards;

// The exported metric families from the live scrape, and whether each carries `target`.
struct Exported {
  std::set<std::string> names;
  std::set<std::string> with_target;
};

Exported exported_metrics(const std::string& exposition) {
  Exported e;
  std::istringstream in(exposition);
  std::string line;
  const std::regex sample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s)");
  while (std::getline(in, line)) {
    std::smatch m;
    if (line.empty() || line[0] == '#' || !std::regex_search(line, m, sample)) continue;
    e.names.insert(m[1]);
    if (m[2].matched && m[2].str().find("target=") != std::string::npos) e.with_target.insert(m[1]);
  }
  return e;
}

// Series the agent creates on first use, so a scrape of a healthy agent lacks them: each must
// still be registered by name in the agent's metrics code. The value: it has a target label.
const std::map<std::string, bool> kLazySeries = {
    {"pgvitals_probe_failures_total", true},  // one series per (target, probe, reason)
};

struct MetricUse {
  std::string name;
  std::size_t pos;  // offset of the name in the expression
};

std::vector<MetricUse> metric_uses(const std::string& expr) {
  std::vector<MetricUse> out;
  const std::regex name(R"(\b(pgvitals|process)_[a-z0-9_]*[a-z0-9])");
  for (auto it = std::sregex_iterator(expr.begin(), expr.end(), name); it != std::sregex_iterator();
       ++it) {
    out.push_back({it->str(), static_cast<std::size_t>(it->position())});
  }
  return out;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A histogram's series name back to its family name.
std::string family_of(const std::string& series) {
  for (const char* suffix : {"_bucket", "_count", "_sum"}) {
    if (ends_with(series, suffix)) return series.substr(0, series.size() - std::strlen(suffix));
  }
  return series;
}

bool is_counter_like(const std::string& series) {
  return ends_with(series, "_total") || ends_with(series, "_bucket") ||
         ends_with(series, "_count") || ends_with(series, "_sum");
}

// The function names whose parentheses enclose `pos` (innermost last).
std::vector<std::string> enclosing_calls(const std::string& expr, std::size_t pos) {
  std::vector<std::string> stack;
  for (std::size_t i = 0; i < pos && i < expr.size(); ++i) {
    if (expr[i] == '(') {
      std::size_t end = i;
      while (end > 0 && expr[end - 1] == ' ') --end;
      std::size_t begin = end;
      while (begin > 0 && (std::isalnum(static_cast<unsigned char>(expr[begin - 1])) != 0 ||
                           expr[begin - 1] == '_')) {
        --begin;
      }
      stack.push_back(expr.substr(begin, end - begin));
    } else if (expr[i] == ')' && !stack.empty()) {
      stack.pop_back();
    }
  }
  return stack;
}

bool inside_rate(const std::string& expr, std::size_t pos) {
  for (const auto& call : enclosing_calls(expr, pos)) {
    if (call == "rate" || call == "increase" || call == "irate") return true;
  }
  return false;
}

// The label matchers right after the metric name at `use`, or "" when it has none.
std::string selector_of(const std::string& expr, const MetricUse& use) {
  const std::size_t after = use.pos + use.name.size();
  if (after >= expr.size() || expr[after] != '{') return "";
  const std::size_t close = expr.find('}', after);
  return close == std::string::npos ? "" : expr.substr(after, close - after + 1);
}

bool has_matcher(const std::string& selector, const std::string& label, const std::string& var) {
  return selector.find(label + "=~\"" + var + "\"") != std::string::npos;
}

// Problems with one expression; empty when it follows every rule.
std::vector<std::string> counter_problems(const std::string& expr) {
  std::vector<std::string> out;
  for (const auto& use : metric_uses(expr)) {
    if (is_counter_like(use.name) && !inside_rate(expr, use.pos)) {
      out.push_back(use.name + " is a counter used outside rate()/increase()/irate()");
    }
  }
  return out;
}

std::vector<std::string> range_problems(const std::string& expr) {
  std::vector<std::string> out;
  const std::regex call(R"(\b(rate|irate|increase)\s*\()");
  for (auto it = std::sregex_iterator(expr.begin(), expr.end(), call); it != std::sregex_iterator();
       ++it) {
    // The call's argument: up to its matching ')'.
    const std::size_t open = static_cast<std::size_t>(it->position() + it->length() - 1);
    int depth = 0;
    std::size_t close = open;
    for (; close < expr.size(); ++close) {
      if (expr[close] == '(') ++depth;
      if (expr[close] == ')' && --depth == 0) break;
    }
    const std::string arg = expr.substr(open, close - open);
    if (arg.find("[$__rate_interval]") == std::string::npos) {
      out.push_back((*it)[1].str() + "() without [$__rate_interval]");
    }
  }
  return out;
}

// `fleet`: a Fleet-row query, which spans every target of the selected jobs and agents.
std::vector<std::string> filter_problems(const std::string& expr, const Exported& exported,
                                         bool fleet = false) {
  std::vector<std::string> out;
  for (const auto& use : metric_uses(expr)) {
    const std::string family = family_of(use.name);
    const bool has_target = exported.with_target.count(use.name) != 0 ||
                            exported.with_target.count(family) != 0 ||
                            (kLazySeries.count(use.name) != 0 && kLazySeries.at(use.name));
    const std::string selector = selector_of(expr, use);
    if (!has_matcher(selector, "job", "$job") || !has_matcher(selector, "instance", "$instance")) {
      out.push_back(use.name + " is not filtered by job=~\"$job\", instance=~\"$instance\"");
    }
    if (has_target && !fleet && !has_matcher(selector, "target", "$target")) {
      out.push_back(use.name + " has a target label but is not filtered by target=~\"$target\"");
    }
  }
  return out;
}

std::vector<std::string> unknown_metrics(const std::string& expr, const Exported& exported) {
  std::vector<std::string> out;
  for (const auto& use : metric_uses(expr)) {
    if (exported.names.count(use.name) == 0 && kLazySeries.count(use.name) == 0) {
      out.push_back(use.name + " is not in docs/metrics-sample.prom");
    }
  }
  return out;
}

const Exported& live_metrics() {
  static const Exported e = exported_metrics(read_file(kSourceDir / "docs/metrics-sample.prom"));
  return e;
}

std::string datasource_uid(const json& j) {
  return j.value("/datasource/uid"_json_pointer, std::string());
}

bool is_layout_only(const json& panel) {
  const std::string type = panel.value("type", "");
  return type == "row" || type == "text";
}

}  // namespace

// ---------------------------------------------------------------- the checkers themselves

TEST_CASE("the counter check rejects a bare counter and accepts one inside rate()",
          "[dashboards]") {
  CHECK_FALSE(counter_problems(R"(pgvitals_pool_timeouts_total{target=~"$target"})").empty());
  CHECK_FALSE(counter_problems(R"(sum(pgvitals_probe_duration_seconds_count))").empty());
  CHECK_FALSE(
      counter_problems(R"(rate(pgvitals_up[1m]) + pgvitals_probe_duration_seconds_sum)").empty());
  CHECK(counter_problems(R"(sum by (target) (rate(pgvitals_pool_timeouts_total[5m])))").empty());
  CHECK(
      counter_problems(
          R"(histogram_quantile(0.9, sum by (le) (irate(pgvitals_scheduler_lag_seconds_bucket[1m]))))")
          .empty());
  CHECK(counter_problems(R"(pgvitals_up)").empty());
}

TEST_CASE("the range check rejects rate() over a fixed window", "[dashboards]") {
  CHECK_FALSE(range_problems("rate(process_cpu_seconds_total[5m])").empty());
  CHECK_FALSE(range_problems("increase(x[$__rate_interval]) + irate(y[1m])").empty());
  CHECK(range_problems("rate(process_cpu_seconds_total[$__rate_interval])").empty());
}

TEST_CASE("the filter check rejects selectors missing job, instance or target", "[dashboards]") {
  const Exported& e = live_metrics();
  CHECK_FALSE(filter_problems(R"(pgvitals_up{job=~"$job", instance=~"$instance"})", e).empty());
  CHECK_FALSE(filter_problems(R"(pgvitals_up{target=~"$target"})", e).empty());
  CHECK_FALSE(filter_problems("process_open_fds", e).empty());
  CHECK(filter_problems(R"(process_open_fds{job=~"$job", instance=~"$instance"})", e).empty());
  CHECK(filter_problems(R"(pgvitals_up{job=~"$job", instance=~"$instance", target=~"$target"})", e)
            .empty());
}

TEST_CASE("the metric-name check rejects names the agent does not export", "[dashboards]") {
  const Exported& e = live_metrics();
  CHECK_FALSE(unknown_metrics("pgvitals_server_replication_lag_seconds", e).empty());
  CHECK_FALSE(unknown_metrics("process_heap_bytes", e).empty());
  CHECK(unknown_metrics("rate(pgvitals_connect_duration_seconds_bucket[1m])", e).empty());
}

// ---------------------------------------------------------------- the dashboards

TEST_CASE("the live metrics sample is a real scrape with per-target series", "[dashboards]") {
  const Exported& e = live_metrics();
  CHECK(e.names.count("pgvitals_up") == 1);
  CHECK(e.with_target.count("pgvitals_up") == 1);
  CHECK(e.names.count("process_resident_memory_bytes") == 1);
  CHECK(e.with_target.count("pgvitals_build_info") == 0);
}

TEST_CASE("series missing from the sample until first use are registered by the agent",
          "[dashboards]") {
  const std::string code = read_file(kSourceDir / "src/telemetry/metrics.cpp");
  // The family table names each family as a string literal: family<T>("name", "help").
  for (const auto& [name, has_target] : kLazySeries) {
    INFO(name);
    // The family table names each family once, as a string literal.
    CHECK(code.find("(\"" + name + "\"") != std::string::npos);
  }
}

TEST_CASE("dashboards exist and every file is valid JSON with a uid and title", "[dashboards]") {
  const auto files = dashboard_files();
  REQUIRE_FALSE(files.empty());
  std::set<std::string> uids;
  for (const auto& path : files) {
    INFO(path.string());
    json doc;
    REQUIRE_NOTHROW(doc = json::parse(read_file(path)));
    REQUIRE(doc.is_object());
    CHECK_FALSE(doc.value("uid", "").empty());
    CHECK(doc.value("uid", "").size() <= 40);  // Grafana's limit
    CHECK_FALSE(doc.value("title", "").empty());
    CHECK(uids.insert(doc.value("uid", "")).second);  // unique across files
    CHECK_FALSE(doc.contains("__inputs"));            // provisioned as a file, not imported
    CHECK(doc.value("schemaVersion", 0) >= 36);
    CHECK(doc.contains("panels"));
  }
  CHECK(uids.count("pgvitals-overview") == 1);
}

TEST_CASE("every dashboard has the datasource, job, instance and target variables",
          "[dashboards]") {
  for (const auto& d : load_dashboards()) {
    INFO(d.file);
    std::map<std::string, json> vars;
    for (const auto& v : d.doc.at("templating").at("list")) vars[v.value("name", "")] = v;
    REQUIRE(vars.count("datasource") == 1);
    CHECK(vars["datasource"].value("type", "") == "datasource");
    CHECK(vars["datasource"].value("query", "") == "prometheus");
    for (const std::string name : {"job", "instance", "target"}) {
      INFO(name);
      REQUIRE(vars.count(name) == 1);
      const json& v = vars[name];
      CHECK(v.value("type", "") == "query");
      // The drill-down rows show one target: "All" at 1,000 targets is 1,000 tiles.
      const bool single = name == "target";
      CHECK(v.value("multi", false) == !single);
      CHECK(v.value("includeAll", false) == !single);
      CHECK(datasource_uid(v) == "${datasource}");
      REQUIRE(v.contains("query"));
      const json& q = v.at("query");
      const std::string query = q.is_object() ? q.value("query", "") : q.get<std::string>();
      CHECK(query.rfind("label_values(", 0) == 0);
      CHECK(query.find(", " + name + ")") != std::string::npos);
    }
  }
}

TEST_CASE("every panel has a description, a unit and Prometheus targets with refId and legend",
          "[dashboards]") {
  for (const auto& d : load_dashboards()) {
    std::set<int> ids;
    for (const auto& panel : all_panels(d.doc)) {
      INFO(d.file << ": " << panel.value("title", "(untitled)"));
      CHECK_FALSE(panel.value("title", "").empty());
      CHECK_FALSE(panel.value("description", "").empty());
      CHECK(panel.contains("gridPos"));
      CHECK(ids.insert(panel.value("id", -1)).second);
      if (is_layout_only(panel)) continue;
      CHECK_FALSE(panel.value("/fieldConfig/defaults/unit"_json_pointer, std::string()).empty());
      REQUIRE(panel.contains("targets"));
      REQUIRE_FALSE(panel.at("targets").empty());
      CHECK(datasource_uid(panel) == "${datasource}");
      std::set<std::string> refs;
      for (const auto& t : panel.at("targets")) {
        CHECK_FALSE(t.value("expr", "").empty());
        CHECK_FALSE(t.value("legendFormat", "").empty());
        CHECK(refs.insert(t.value("refId", "")).second);  // present and unique in the panel
        CHECK_FALSE(t.value("refId", "").empty());
        CHECK(datasource_uid(t) == "${datasource}");
      }
    }
  }
}

TEST_CASE("rate, increase and irate always use $__rate_interval", "[dashboards]") {
  for (const auto& d : load_dashboards()) {
    for (const auto& e : all_exprs(d)) {
      INFO(e.where << "\n  " << e.expr);
      CHECK(range_problems(e.expr) == std::vector<std::string>{});
    }
  }
}

TEST_CASE("counters and histogram series appear only inside rate, increase or irate",
          "[dashboards]") {
  for (const auto& d : load_dashboards()) {
    for (const auto& e : all_exprs(d)) {
      INFO(e.where << "\n  " << e.expr);
      CHECK(counter_problems(e.expr) == std::vector<std::string>{});
    }
  }
}

TEST_CASE("every metric a dashboard queries is one the agent exports", "[dashboards]") {
  for (const auto& d : load_dashboards()) {
    for (const auto& e : all_exprs(d)) {
      INFO(e.where << "\n  " << e.expr);
      CHECK_FALSE(metric_uses(e.expr).empty());
      CHECK(unknown_metrics(e.expr, live_metrics()) == std::vector<std::string>{});
    }
  }
}

TEST_CASE("every selector filters by job and instance, and by target when it has one",
          "[dashboards]") {
  for (const auto& d : load_dashboards()) {
    for (const auto& e : all_exprs(d)) {
      INFO(e.where << "\n  " << e.expr);
      CHECK(filter_problems(e.expr, live_metrics(), e.fleet) == std::vector<std::string>{});
    }
  }
}
