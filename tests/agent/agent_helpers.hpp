#pragma once

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "agent_process.hpp"
#include "pg_cluster.hpp"

namespace pgv::testing {

// Fast cadence so state changes show within a couple of seconds.
inline const std::vector<std::string> kFastArgs = {"--interval", "1s", "--timeout", "500ms"};

inline Env env_for(const PgCluster& cluster) {
  return {{"DATABASE_URL", cluster.dsn()}};
}

// The value of the first sample of `metric` whose labels contain `labels`, or NaN.
inline double metric_value(const std::string& exposition, const std::string& metric,
                           const std::string& labels = "") {
  std::size_t pos = 0;
  while ((pos = exposition.find(metric, pos)) != std::string::npos) {
    const std::size_t eol = exposition.find('\n', pos);
    const bool line_start = pos == 0 || exposition[pos - 1] == '\n';  // not a # HELP line
    const std::string line = exposition.substr(pos, eol - pos);
    pos = eol;
    if (!line_start) continue;
    if (line.size() <= metric.size() ||
        (line[metric.size()] != '{' && line[metric.size()] != ' ')) {
      continue;
    }
    if (!labels.empty() && line.find(labels) == std::string::npos) continue;
    return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return std::numeric_limits<double>::quiet_NaN();
}

// How many samples of `metric` (with labels) the exposition holds.
inline int series_count(const std::string& exposition, const std::string& metric) {
  int n = 0;
  for (std::size_t pos = 0; (pos = exposition.find("\n" + metric + "{", pos)) != std::string::npos;
       ++pos) {
    ++n;
  }
  return n;
}

inline int agent_sessions(PgCluster& cluster) {
  return std::stoi(std::string(
      cluster.admin("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgvitals'")
          .get(0, 0)));
}

}  // namespace pgv::testing
