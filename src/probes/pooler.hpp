#pragma once

#include <optional>
#include <vector>

#include "probes/pooler_digest.hpp"
#include "probes/probe.hpp"

namespace pgv::probes {

// A PgBouncer admin console (`kind: pgbouncer`): its pools, totals, databases and client
// count, one SHOW per round trip (the console speaks only the simple protocol, one command
// per query), and max_client_conn every few cycles. A stats_users role is enough.
class PoolerProbe final : public Probe {
 public:
  // max_client_conn (SHOW CONFIG) is read every `config_every` cycles.
  explicit PoolerProbe(int config_every) noexcept
      : Probe(config::ProbeId::pooler), config_every_(config_every < 1 ? 1 : config_every) {}

 protected:
  async::Task<void> execute(ProbeContext& ctx, ProbeResult& result) override;

 private:
  int config_every_;
  std::optional<int> max_client_conn_;  // the last read, shown until the next
};

// Readers of each SHOW, by column name (columns come and go between PgBouncer versions);
// separate for tests. The admin console's own pseudo-database "pgbouncer" is left out.
std::vector<PoolerPool> parse_pools(const pg::Result& rows);
std::vector<PoolerStats> parse_stats(const pg::Result& rows);
std::vector<PoolerDatabase> parse_databases(const pg::Result& rows);
int parse_used_clients(const pg::Result& rows);                    // SHOW LISTS
std::optional<int> parse_max_client_conn(const pg::Result& rows);  // SHOW CONFIG

// The pools with the most clients and servers, at most `top_n`, and the rest summed into
// one "other" pool; each kept pool gets its database's pool size. Stats keep the databases
// of the kept pools and sum the rest into "other".
void bound_digest(PoolerDigest& digest, int top_n);

}  // namespace pgv::probes
