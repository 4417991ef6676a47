#pragma once

#include <string>

#include "probes/probe.hpp"
#include "probes/server_versions.hpp"

namespace pgv::probes {

// Do sessions work the way applications use them? A transaction that rolls back and one
// that commits, each step checked against the session's transaction state, as an
// application's per-request session does.
class LifecycleProbe final : public Probe {
 public:
  LifecycleProbe() noexcept : Probe(config::ProbeId::lifecycle) {}

  // The statement of the first transaction: on a primary it takes a transaction ID, so a
  // server that stopped assigning them (wraparound protection) fails here (a standby
  // cannot assign one at all), and it sets a transaction-local marker. Public for the
  // cost bench.
  static std::string statement_sql(ServerVersion server);
  // The statement of the second: the marker must be gone. Through a transaction-mode
  // pooler the two transactions may run on different server sessions; either way nothing
  // of one transaction may be seen by the next.
  static constexpr const char* kLeakCheckSql = "SELECT current_setting('pgvitals.lifecycle', true)";

 protected:
  async::Task<void> execute(ProbeContext& ctx, ProbeResult& result) override;
};

}  // namespace pgv::probes
