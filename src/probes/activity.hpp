#pragma once

#include <string>

#include "probes/probe.hpp"
#include "probes/server_versions.hpp"

namespace pgv::probes {

// Who holds the server's connections and what is stuck: one query per cycle over
// pg_stat_activity (plus pg_blocking_pids for lock waiters), aggregated on the server
// into a single row so its cost does not grow with the rows it would otherwise ship.
class ActivityProbe final : public Probe {
 public:
  ActivityProbe() noexcept : Probe(config::ProbeId::activity) {}

  // The statement for a given top-N, query-text setting and server version; public for
  // the cost bench.
  static std::string sql(int top_n, bool expose_query_text, ServerVersion server);

 protected:
  async::Task<void> execute(ProbeContext& ctx, ProbeResult& result) override;
};

// Reads the probe's single row; separate for tests.
ActivityDigest parse_activity_row(const pg::Result& row);

}  // namespace pgv::probes
