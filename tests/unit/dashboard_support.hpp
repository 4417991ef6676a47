// Loading the Grafana dashboards of dashboards/ for the dashboard tests: every panel (rows'
// nested panels included) and every PromQL expression with where it comes from.
#pragma once

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace pgv::testing::dashboards {

namespace fs = std::filesystem;
using nlohmann::json;

inline const fs::path kSourceDir{PGVITALS_SOURCE_DIR};

inline std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline std::vector<fs::path> dashboard_files() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(kSourceDir / "dashboards")) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

struct Dashboard {
  std::string file;
  json doc;
};

inline std::vector<Dashboard> load_dashboards() {
  std::vector<Dashboard> out;
  for (const auto& path : dashboard_files()) {
    out.push_back({path.filename().string(), json::parse(read_file(path))});
  }
  return out;
}

// Every panel, row panels' nested `panels` included.
inline void collect_panels(const json& list, std::vector<json>& out) {
  if (!list.is_array()) return;
  for (const auto& panel : list) {
    out.push_back(panel);
    if (panel.contains("panels")) collect_panels(panel.at("panels"), out);
  }
}

inline std::vector<json> all_panels(const json& doc) {
  std::vector<json> out;
  if (doc.contains("panels")) collect_panels(doc.at("panels"), out);
  return out;
}

// The row a top-level panel sits under: the title of the last row panel before it (or of the
// row it is nested in, for a collapsed row); "" above the first row. The Fleet row's panels
// span every target.
inline bool is_fleet_row_title(const std::string& title) {
  return title.rfind("Fleet", 0) == 0;
}

inline std::vector<std::pair<json, std::string>> panels_with_row(const json& doc) {
  std::vector<std::pair<json, std::string>> out;
  std::string row;
  if (!doc.contains("panels")) return out;
  for (const auto& panel : doc.at("panels")) {
    if (panel.value("type", "") == "row") row = panel.value("title", "");
    out.emplace_back(panel, row);
    if (panel.contains("panels")) {
      for (const auto& nested : panel.at("panels")) out.emplace_back(nested, row);
    }
  }
  return out;
}

struct Expr {
  std::string where;  // "file: panel title [refId]" for failure messages
  std::string expr;
  bool fleet = false;  // in the Fleet row: not filtered by $target, aggregated with topk/count
  std::string row;     // the title of the row the panel sits under
};

inline std::vector<Expr> all_exprs(const Dashboard& d) {
  std::vector<Expr> out;
  for (const auto& [panel, row] : panels_with_row(d.doc)) {
    if (!panel.contains("targets")) continue;
    for (const auto& t : panel.at("targets")) {
      out.push_back({d.file + ": " + panel.value("title", "?") + " [" + t.value("refId", "?") + "]",
                     t.value("expr", ""), is_fleet_row_title(row), row});
    }
  }
  return out;
}

}  // namespace pgv::testing::dashboards
