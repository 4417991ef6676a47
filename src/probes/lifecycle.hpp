#pragma once

#include "probes/probe.hpp"

namespace pgv::probes {

// Do sessions work the way applications use them? A transaction that rolls back and one
// that commits, each step checked against the session's transaction state, as an
// application's per-request session does.
class LifecycleProbe final : public Probe {
 public:
  LifecycleProbe() noexcept : Probe(config::ProbeId::lifecycle) {}

 protected:
  async::Task<void> execute(ProbeContext& ctx, ProbeResult& result) override;
};

}  // namespace pgv::probes
