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

// Bytes received but not yet read on the TCP sockets bound to local `port`, plus
// connections waiting to be accepted there (/proc/net/tcp{,6}). Against a frozen server:
// what a client sent that nobody will read until the thaw.
inline long unread_at_port(int port) {
  long total = 0;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues;  // queues: tx_queue:rx_queue, hex
      if (!(fields >> slot >> local >> remote >> state >> queues)) continue;
      const auto colon = local.rfind(':');
      const auto sep = queues.find(':');
      if (colon == std::string::npos || sep == std::string::npos) continue;
      if (std::stoi(local.substr(colon + 1), nullptr, 16) != port) continue;
      total += std::stol(queues.substr(sep + 1), nullptr, 16);
    }
  }
  return total;
}

inline int agent_sessions(PgCluster& cluster) {
  return std::stoi(std::string(
      cluster.admin("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgvitals'")
          .get(0, 0)));
}

}  // namespace pgv::testing
