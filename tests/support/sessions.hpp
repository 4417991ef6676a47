#pragma once

#include <string>
#include <vector>

#include "helpers.hpp"
#include "pg_cluster.hpp"

namespace pgv::testing {

// Opens `n` sessions over the Unix socket as `user` (trusted there) with the given
// application_name; stops early at the first refusal (e.g. slots full). Closing the
// vector closes them.
inline std::vector<pg::Connection> open_sessions(const PgCluster& cluster, int n,
                                                 const std::string& user,
                                                 const std::string& application) {
  std::vector<pg::Connection> out;
  for (int i = 0; i < n; ++i) {
    const std::string dsn = "host=" + cluster.data_dir() +
                            " port=" + std::to_string(cluster.port()) + " user=" + user +
                            " dbname=postgres application_name=" + application;
    try {
      out.push_back(connect_blocking(params_for(dsn)));
    } catch (const pg::Error&) {
      break;
    }
  }
  return out;
}

inline int server_client_backends(PgCluster& cluster) {
  return std::stoi(std::string(
      cluster.admin("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
          .get(0, 0)));
}

// Terminates every session of the agent's (application_name pgvitals); how many it ended.
inline int terminate_agent_sessions(PgCluster& cluster) {
  const auto r = cluster.admin(
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
      "WHERE application_name = 'pgvitals' AND pid <> pg_backend_pid()");
  return std::stoi(std::string(r.get(0, 0)));
}

}  // namespace pgv::testing
