#include "app/pooler_report.hpp"

#include <cstdio>

namespace pgv::app {

void render_pooler(std::string& out, const telemetry::TargetState& st) {
  if (!st.pooler) return;
  const probes::PoolerDigest& d = *st.pooler;
  char line[256];
  if (d.max_client_conn) {
    std::snprintf(line, sizeof line, "    pgbouncer: %d client connections of max_client_conn %d\n",
                  d.client_connections, *d.max_client_conn);
  } else {
    std::snprintf(line, sizeof line, "    pgbouncer: %d client connections\n",
                  d.client_connections);
  }
  out += line;
  for (const probes::PoolerPool& p : d.pools) {
    const std::string size = p.pool_size ? std::to_string(*p.pool_size) : "?";
    std::snprintf(line, sizeof line,
                  "      pool %s/%s: %d active, %d waiting (longest %.1f s); servers %d active of "
                  "pool_size %s, %d idle\n",
                  p.database.c_str(), p.user.c_str(), p.clients_active, p.clients_waiting,
                  p.max_wait_seconds, p.servers_active, size.c_str(), p.servers_idle);
    out += line;
  }
}

}  // namespace pgv::app
