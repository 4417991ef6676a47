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
  // Wraparound ages are read every `ages_every` cycles (the settings probe's spacing).
  explicit ReplicationProbe(int ages_every) noexcept
      : Probe(config::ProbeId::replication), ages_every_(ages_every < 1 ? 1 : ages_every) {}

  // The statement for a given bound on standbys and slots, with or without the wraparound
  // ages (NULLs in their place); public for tests and the bench.
  static std::string sql(int top_n, bool with_ages, ServerVersion server);

 protected:
  async::Task<void> execute(ProbeContext& ctx, ProbeResult& result) override;

 private:
  struct Ages {
    std::optional<double> xid_age;
    std::string xid_database;
    std::optional<double> mxid_age;
    std::string mxid_database;
    std::optional<double> freeze_max_age;
    std::optional<double> multixact_freeze_max_age;
  };
  int ages_every_;
  std::optional<Ages> ages_;  // the last read, shown until the next
};

// Reads the probe's single row; separate for tests.
ReplicationDigest parse_replication_row(const pg::Result& row);

}  // namespace pgv::probes
