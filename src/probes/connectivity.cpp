#include "probes/connectivity.hpp"

namespace pgv::probes {

async::Task<void> ConnectivityProbe::execute(ProbeContext& ctx, ProbeResult& result) {
  // SELECT itself proves the connection, so no pre-ping round trip first: the reported
  // latency is one round trip. A pooled connection that died while idle (a restart, a
  // terminated backend) is retried once, so it never reads as an outage; the retry
  // pre-pings, so another idle session that died the same way is discarded rather than
  // handed out (a failed ping also condemns its older siblings).
  for (int attempt = 0;; ++attempt) {
    pool::Lease lease = co_await acquire(ctx, result, attempt > 0);
    try {
      const pg::Result rows = co_await query(ctx, result, lease.connection(), kSql);
      result.in_recovery = rows.rows() == 1 && rows.get(0, 0) == "t";
      co_return;
    } catch (const pg::Error& e) {
      const bool stale = attempt == 0 && lease.reused() && !e.connection_usable() &&
                         e.reason() != pg::Reason::timeout && Clock::now() < ctx.deadline;
      if (!stale) throw;
    }
    lease.invalidate();
  }
}

}  // namespace pgv::probes
