#pragma once

#include "probes/probe.hpp"

namespace pgv::probes {

// Can the database serve a query? Through the pool, acquired without a separate pre-ping:
// the SELECT is the ping, one round trip that also reads the server's role, so /primary and
// /replica are as fresh as /healthz. A session that died under it is retried on a fresh
// connection, at most twice (connectivity.cpp says when).
// On a PgBouncer admin console, which has no SELECT, SHOW VERSION is the round trip.
class ConnectivityProbe final : public Probe {
 public:
  explicit ConnectivityProbe(config::TargetKind kind = config::TargetKind::postgres) noexcept
      : Probe(config::ProbeId::connectivity), kind_(kind) {}
  static constexpr const char* kSql = "SELECT pg_is_in_recovery()";
  static constexpr const char* kPoolerSql = "SHOW VERSION";

 protected:
  async::Task<void> execute(ProbeContext& ctx, ProbeResult& result) override;

 private:
  async::Task<void> ping(ProbeContext& ctx, ProbeResult& result);

  config::TargetKind kind_;
};

}  // namespace pgv::probes
