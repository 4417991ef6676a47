#include "telemetry/pooler_metrics.hpp"

#include <optional>

namespace pgv::telemetry {
namespace {

using Values = std::map<prometheus::Labels, double>;

prometheus::Labels pool_labels(const probes::PoolerPool& p) {
  return {{"database", p.database}, {"user", p.user}};
}

prometheus::Labels with_state(prometheus::Labels labels, const char* state) {
  labels.emplace("state", state);
  return labels;
}

Values one(const std::optional<double>& value) {
  if (!value) return {};
  return {{prometheus::Labels{}, *value}};
}

}  // namespace

CounterSet& PoolerMetrics::counter(Family<prometheus::Counter>& family, const std::string& target) {
  counters_.push_back(std::make_unique<CounterSet>(family, target));
  return *counters_.back();
}

PoolerMetrics::PoolerMetrics(Metrics& m, const std::string& t)
    : clients_(gauges_.add(m.pgbouncer_clients, t)),
      clients_waiting_(gauges_.add(m.pgbouncer_clients_waiting, t)),
      max_wait_(gauges_.add(m.pgbouncer_max_wait, t)),
      servers_(gauges_.add(m.pgbouncer_server_connections, t)),
      pool_size_(gauges_.add(m.pgbouncer_pool_size, t)),
      saturation_(gauges_.add(m.pgbouncer_pool_saturation, t)),
      client_connections_(gauges_.add(m.pgbouncer_client_connections, t)),
      max_client_connections_(gauges_.add(m.pgbouncer_max_client_connections, t)),
      client_ratio_(gauges_.add(m.pgbouncer_client_connections_ratio, t)),
      transactions_(counter(m.pgbouncer_transactions, t)),
      queries_(counter(m.pgbouncer_queries, t)),
      transaction_seconds_(counter(m.pgbouncer_transaction_seconds, t)),
      query_seconds_(counter(m.pgbouncer_query_seconds, t)),
      wait_seconds_(counter(m.pgbouncer_wait_seconds, t)) {}

void PoolerMetrics::set(const probes::PoolerDigest& d) {
  Values clients, waiting, max_wait, servers, pool_size, saturation;
  for (const probes::PoolerPool& p : d.pools) {
    const prometheus::Labels labels = pool_labels(p);
    clients[with_state(labels, "active")] = p.clients_active;
    clients[with_state(labels, "waiting")] = p.clients_waiting;
    if (p.clients_active_cancel) {
      clients[with_state(labels, "active_cancel_req")] = *p.clients_active_cancel;
    }
    if (p.clients_waiting_cancel) {
      clients[with_state(labels, "waiting_cancel_req")] = *p.clients_waiting_cancel;
    }
    waiting[labels] = p.clients_waiting;
    max_wait[labels] = p.max_wait_seconds;
    servers[with_state(labels, "active")] = p.servers_active;
    servers[with_state(labels, "idle")] = p.servers_idle;
    servers[with_state(labels, "used")] = p.servers_used;
    servers[with_state(labels, "tested")] = p.servers_tested;
    servers[with_state(labels, "login")] = p.servers_login;
    if (p.pool_size) pool_size[{{"database", p.database}}] = *p.pool_size;
    if (const std::optional<double> ratio = p.saturation()) saturation[labels] = *ratio;
  }
  clients_.replace(clients);
  clients_waiting_.replace(waiting);
  max_wait_.replace(max_wait);
  servers_.replace(servers);
  pool_size_.replace(pool_size);
  saturation_.replace(saturation);
  client_connections_.replace(one(static_cast<double>(d.client_connections)));
  max_client_connections_.replace(
      one(d.max_client_conn ? std::optional<double>(*d.max_client_conn) : std::nullopt));
  client_ratio_.replace(one(d.client_connections_ratio()));

  Values transactions, queries, transaction_seconds, query_seconds, wait_seconds;
  for (const probes::PoolerStats& s : d.stats) {
    const prometheus::Labels labels{{"database", s.database}};
    transactions[labels] = s.transactions;
    queries[labels] = s.queries;
    transaction_seconds[labels] = s.transaction_seconds;
    query_seconds[labels] = s.query_seconds;
    wait_seconds[labels] = s.wait_seconds;
  }
  transactions_.replace(transactions);
  queries_.replace(queries);
  transaction_seconds_.replace(transaction_seconds);
  query_seconds_.replace(query_seconds);
  wait_seconds_.replace(wait_seconds);
}

void PoolerMetrics::clear() {
  gauges_.clear();
}

}  // namespace pgv::telemetry
