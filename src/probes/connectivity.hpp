#pragma once

#include "probes/probe.hpp"

namespace pgv::probes {

// Can the database serve a query? Through the pool, acquired without a separate pre-ping:
// the SELECT is the ping, one round trip that also reads the server's role, so /primary and
// /replica are as fresh as /healthz. A session that died under it is retried on a fresh
// connection, at most twice (connectivity.cpp says when).
class ConnectivityProbe final : public Probe {
 public:
  ConnectivityProbe() noexcept : Probe(config::ProbeId::connectivity) {}
  static constexpr const char* kSql = "SELECT pg_is_in_recovery()";

 protected:
  async::Task<void> execute(ProbeContext& ctx, ProbeResult& result) override;
};

}  // namespace pgv::probes
