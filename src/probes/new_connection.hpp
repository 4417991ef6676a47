#pragma once

#include "probes/probe.hpp"

namespace pgv::probes {

// Can a new client get in? A pool hides a changed pg_hba.conf, an expired password or
// full connection slots; a fresh connection, opened and closed on its own, does not.
// Timed by phase (dns, tcp, tls, auth). Runs every cycle at intervals of its table row's
// min_spacing (5 s) or more, else every ceil(min_spacing / interval) cycles, so a short
// interval does not churn backends.
class NewConnectionProbe final : public Probe {
 public:
  explicit NewConnectionProbe(std::chrono::milliseconds interval);
  bool due(std::uint64_t cycle) const noexcept override { return cycle % every_ == 0; }

 protected:
  async::Task<void> execute(ProbeContext& ctx, ProbeResult& result) override;

 private:
  std::uint64_t every_;
};

}  // namespace pgv::probes
