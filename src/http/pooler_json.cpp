#include "http/pooler_json.hpp"

namespace pgv::http {

nlohmann::json pooler_to_json(const probes::PoolerDigest& d) {
  nlohmann::json j;
  j["client_connections"] = d.client_connections;
  j["max_client_conn"] = d.max_client_conn ? nlohmann::json(*d.max_client_conn) : nullptr;
  j["pools"] = nlohmann::json::array();
  for (const probes::PoolerPool& p : d.pools) {
    const std::optional<double> saturation = p.saturation();
    j["pools"].push_back({{"database", p.database},
                          {"user", p.user},
                          {"clients_active", p.clients_active},
                          {"clients_waiting", p.clients_waiting},
                          {"max_wait_seconds", p.max_wait_seconds},
                          {"servers_active", p.servers_active},
                          {"servers_idle", p.servers_idle},
                          {"servers_used", p.servers_used},
                          {"servers_tested", p.servers_tested},
                          {"servers_login", p.servers_login},
                          {"pool_size", p.pool_size ? nlohmann::json(*p.pool_size) : nullptr},
                          {"saturation", saturation ? nlohmann::json(*saturation) : nullptr}});
  }
  j["databases"] = nlohmann::json::array();
  for (const probes::PoolerDatabase& db : d.databases) {
    j["databases"].push_back({{"name", db.name},
                              {"host", db.host},
                              {"port", db.port},
                              {"database", db.database},
                              {"pool_size", db.pool_size}});
  }
  return j;
}

}  // namespace pgv::http
