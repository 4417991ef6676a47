#pragma once

#include "probes/probe.hpp"

namespace pgv::probes {

// Can a new client get in? A pool hides a changed pg_hba.conf, an expired password or
// full connection slots; a fresh connection, opened and closed on its own, does not.
// Timed by phase (tcp, tls, auth). Runs every cycle at intervals of 5 s or more, else
// every ceil(5 s / interval) cycles, so a short interval does not churn backends.
class NewConnectionProbe final : public Probe {
 public:
  explicit NewConnectionProbe(std::chrono::milliseconds interval);
  std::string_view name() const noexcept override { return "new_connection"; }
  bool due(std::uint64_t cycle) const noexcept override { return cycle % every_ == 0; }
  bool uses_pool() const noexcept override { return false; }

 protected:
  async::Task<void> execute(ProbeContext& ctx, ProbeResult& result) override;

 private:
  std::uint64_t every_;
};

}  // namespace pgv::probes
