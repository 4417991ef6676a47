#include "probes/pooler.hpp"

#include <algorithm>
#include <charconv>
#include <set>

namespace pgv::probes {
namespace {

// The console's own pseudo-database: our probe's session, never a pool of servers.
constexpr std::string_view kAdminDatabase = "pgbouncer";
constexpr std::string_view kOther = "other";

// A column's value in one row, by name; empty when the column or the number is missing.
std::optional<double> number(const pg::Result& r, int row, std::string_view column) {
  const int col = r.column(column);
  if (col < 0 || r.is_null(row, col)) return std::nullopt;
  const std::string_view text = r.get(row, col);
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

int count(const pg::Result& r, int row, std::string_view column) {
  return static_cast<int>(number(r, row, column).value_or(0));
}

std::optional<int> optional_count(const pg::Result& r, int row, std::string_view column) {
  const std::optional<double> v = number(r, row, column);
  if (!v) return std::nullopt;
  return static_cast<int>(*v);
}

std::string text(const pg::Result& r, int row, std::string_view column) {
  const int col = r.column(column);
  return col < 0 ? std::string() : std::string(r.get(row, col));
}

int weight(const PoolerPool& p) {
  return p.clients_active + p.clients_waiting + p.servers_active + p.servers_idle;
}

void add_optional(std::optional<int>& sum, const std::optional<int>& value) {
  if (value) sum = sum.value_or(0) + *value;
}

constexpr double kMicros = 1e-6;

}  // namespace

std::vector<PoolerPool> parse_pools(const pg::Result& r) {
  std::vector<PoolerPool> out;
  for (int i = 0; i < r.rows(); ++i) {
    PoolerPool p;
    p.database = text(r, i, "database");
    if (p.database == kAdminDatabase) continue;
    p.user = text(r, i, "user");
    p.clients_active = count(r, i, "cl_active");
    p.clients_waiting = count(r, i, "cl_waiting");
    p.clients_active_cancel = optional_count(r, i, "cl_active_cancel_req");
    p.clients_waiting_cancel = optional_count(r, i, "cl_waiting_cancel_req");
    p.servers_active = count(r, i, "sv_active");
    p.servers_idle = count(r, i, "sv_idle");
    p.servers_used = count(r, i, "sv_used");
    p.servers_tested = count(r, i, "sv_tested");
    p.servers_login = count(r, i, "sv_login");
    p.max_wait_seconds =
        number(r, i, "maxwait").value_or(0) + number(r, i, "maxwait_us").value_or(0) * kMicros;
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<PoolerStats> parse_stats(const pg::Result& r) {
  std::vector<PoolerStats> out;
  for (int i = 0; i < r.rows(); ++i) {
    PoolerStats s;
    s.database = text(r, i, "database");
    if (s.database == kAdminDatabase) continue;
    s.transactions = number(r, i, "total_xact_count").value_or(0);
    s.queries = number(r, i, "total_query_count").value_or(0);
    // PgBouncer counts these in microseconds.
    s.transaction_seconds = number(r, i, "total_xact_time").value_or(0) * kMicros;
    s.query_seconds = number(r, i, "total_query_time").value_or(0) * kMicros;
    s.wait_seconds = number(r, i, "total_wait_time").value_or(0) * kMicros;
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<PoolerDatabase> parse_databases(const pg::Result& r) {
  std::vector<PoolerDatabase> out;
  for (int i = 0; i < r.rows(); ++i) {
    PoolerDatabase d;
    d.name = text(r, i, "name");
    if (d.name == kAdminDatabase) continue;
    d.host = text(r, i, "host");
    d.port = count(r, i, "port");
    d.database = text(r, i, "database");
    d.pool_size = count(r, i, "pool_size");
    out.push_back(std::move(d));
  }
  return out;
}

int parse_used_clients(const pg::Result& r) {
  for (int i = 0; i < r.rows(); ++i) {
    if (text(r, i, "list") == "used_clients") return count(r, i, "items");
  }
  return 0;
}

std::optional<int> parse_max_client_conn(const pg::Result& r) {
  for (int i = 0; i < r.rows(); ++i) {
    if (text(r, i, "key") == "max_client_conn") return optional_count(r, i, "value");
  }
  return std::nullopt;
}

void bound_digest(PoolerDigest& digest, int top_n) {
  std::vector<PoolerPool>& pools = digest.pools;
  std::stable_sort(pools.begin(), pools.end(), [](const PoolerPool& a, const PoolerPool& b) {
    if (weight(a) != weight(b)) return weight(a) > weight(b);
    return std::tie(a.database, a.user) < std::tie(b.database, b.user);
  });
  const auto keep = static_cast<std::size_t>(std::max(top_n, 1));
  if (pools.size() > keep) {
    PoolerPool other;
    other.database = other.user = std::string(kOther);
    for (std::size_t i = keep; i < pools.size(); ++i) {
      const PoolerPool& p = pools[i];
      other.clients_active += p.clients_active;
      other.clients_waiting += p.clients_waiting;
      add_optional(other.clients_active_cancel, p.clients_active_cancel);
      add_optional(other.clients_waiting_cancel, p.clients_waiting_cancel);
      other.servers_active += p.servers_active;
      other.servers_idle += p.servers_idle;
      other.servers_used += p.servers_used;
      other.servers_tested += p.servers_tested;
      other.servers_login += p.servers_login;
      other.max_wait_seconds = std::max(other.max_wait_seconds, p.max_wait_seconds);
    }
    pools.resize(keep);
    pools.push_back(std::move(other));
  }
  std::set<std::string, std::less<>> kept;
  for (PoolerPool& p : pools) {
    if (p.database == kOther) continue;
    kept.insert(p.database);
    if (const PoolerDatabase* d = digest.database(p.database)) p.pool_size = d->pool_size;
  }
  std::vector<PoolerStats> stats;
  PoolerStats other;
  other.database = std::string(kOther);
  bool any_other = false;
  for (PoolerStats& s : digest.stats) {
    if (kept.contains(s.database)) {
      stats.push_back(std::move(s));
      continue;
    }
    any_other = true;
    other.transactions += s.transactions;
    other.queries += s.queries;
    other.transaction_seconds += s.transaction_seconds;
    other.query_seconds += s.query_seconds;
    other.wait_seconds += s.wait_seconds;
  }
  if (any_other) stats.push_back(std::move(other));
  digest.stats = std::move(stats);
}

async::Task<void> PoolerProbe::execute(ProbeContext& ctx, ProbeResult& result) {
  pool::Lease lease = co_await acquire(ctx, result);
  pg::Connection& conn = lease.connection();
  auto digest = std::make_shared<PoolerDigest>();
  const pg::Result pools = co_await query(ctx, result, conn, "SHOW POOLS", "pools");
  const pg::Result stats = co_await query(ctx, result, conn, "SHOW STATS", "stats");
  const pg::Result databases = co_await query(ctx, result, conn, "SHOW DATABASES", "databases");
  const pg::Result lists = co_await query(ctx, result, conn, "SHOW LISTS", "lists");
  digest->pools = parse_pools(pools);
  digest->stats = parse_stats(stats);
  digest->databases = parse_databases(databases);
  digest->client_connections = parse_used_clients(lists);
  if (!max_client_conn_ || ctx.cycle % config_every_ == 0) {
    const pg::Result config = co_await query(ctx, result, conn, "SHOW CONFIG", "config");
    max_client_conn_ = parse_max_client_conn(config);
  }
  digest->max_client_conn = max_client_conn_;
  bound_digest(*digest, ctx.activity_top_n);
  result.pooler = std::move(digest);
}

}  // namespace pgv::probes
