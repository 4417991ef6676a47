#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgv::probes {

// One PgBouncer pool (a database and user pair), from SHOW POOLS. Pools beyond the top N
// are summed into one named database "other", user "other".
struct PoolerPool {
  std::string database;
  std::string user;
  int clients_active = 0;
  int clients_waiting = 0;
  // Cancel requests in flight (PgBouncer 1.18+); empty where the pooler does not say.
  std::optional<int> clients_active_cancel;
  std::optional<int> clients_waiting_cancel;
  int servers_active = 0;
  int servers_idle = 0;
  int servers_used = 0;
  int servers_tested = 0;
  int servers_login = 0;
  double max_wait_seconds = 0;  // how long the oldest waiting client has waited
  // The database's pool_size (SHOW DATABASES); empty for "other" or an unknown database.
  std::optional<int> pool_size;

  // Server connections in use over the pool size; empty without a pool size.
  std::optional<double> saturation() const noexcept {
    if (!pool_size || *pool_size <= 0) return std::nullopt;
    return static_cast<double>(servers_active) / *pool_size;
  }
};

// Totals since the pooler started, per database (SHOW STATS); they reset when it restarts.
struct PoolerStats {
  std::string database;
  double transactions = 0;
  double queries = 0;
  double transaction_seconds = 0;
  double query_seconds = 0;
  double wait_seconds = 0;
};

// A database as the pooler is configured to reach it (SHOW DATABASES).
struct PoolerDatabase {
  std::string name;
  std::string host;  // empty: the Unix socket
  int port = 0;
  std::string database;  // the server-side name
  int pool_size = 0;
};

// What the pooler probe reads from the admin console in one cycle.
struct PoolerDigest {
  std::vector<PoolerPool> pools;  // most clients first, at most top N plus "other"
  std::vector<PoolerStats> stats;
  std::vector<PoolerDatabase> databases;
  int client_connections = 0;          // SHOW LISTS used_clients
  std::optional<int> max_client_conn;  // SHOW CONFIG, read every few cycles

  std::optional<double> client_connections_ratio() const noexcept {
    if (!max_client_conn || *max_client_conn <= 0) return std::nullopt;
    return static_cast<double>(client_connections) / *max_client_conn;
  }
  // The entry for a client-side database name, or nullptr.
  const PoolerDatabase* database(std::string_view name) const noexcept {
    for (const PoolerDatabase& d : databases) {
      if (d.name == name) return &d;
    }
    return nullptr;
  }
};

}  // namespace pgv::probes
