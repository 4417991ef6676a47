#pragma once

#include <string>

#include "probes/probe.hpp"
#include "probes/server_versions.hpp"

namespace pgv::probes {

// Replication, WAL retention and wraparound, in one query per cycle on every target: the
// standby side while the server is in recovery (receiver, replay lag, pause), the upstream
// side wherever standbys or slots exist (a primary, or a cascading standby), and the
// oldest XID and MXID ages over all databases. Needs only pg_monitor.
class ReplicationProbe final : public Probe {
 public:
  ReplicationProbe() noexcept : Probe(config::ProbeId::replication) {}

  // The statement for a given bound on standbys and slots; public for tests and the bench.
  static std::string sql(int top_n, ServerVersion server);

 protected:
  async::Task<void> execute(ProbeContext& ctx, ProbeResult& result) override;
};

// Reads the probe's single row; separate for tests.
ReplicationDigest parse_replication_row(const pg::Result& row);

}  // namespace pgv::probes
