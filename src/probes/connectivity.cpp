#include "probes/connectivity.hpp"

namespace pgv::probes {
namespace {

// Sessions terminated one after another (pg_terminate_backend sweeps, a pooler recycling
// its servers) can take the fresh session of a retry too; two retries ride that out.
constexpr int kMaxRetries = 2;

}  // namespace

async::Task<void> ConnectivityProbe::execute(ProbeContext& ctx, ProbeResult& result) {
  // SELECT itself proves the connection, so no pre-ping round trip first: the reported
  // latency is one round trip. A session that died under the probe (a pooled one that died
  // while idle, or a fresh one whose backend was terminated before it answered) is retried,
  // at most twice and within the deadline, so it never reads as an outage; a retry
  // pre-pings, so another idle session that died the same way is discarded rather than
  // handed out (a failed ping also condemns its older siblings). A real shutdown fails the
  // first retry at connect, which ends the loop.
  for (int attempt = 0;; ++attempt) {
    pool::Lease lease = co_await acquire(ctx, result, attempt > 0);
    try {
      if (kind_ == config::TargetKind::pgbouncer) {
        co_await query(ctx, result, lease.connection(), kPoolerSql);
        co_return;
      }
      const pg::Result rows = co_await query(ctx, result, lease.connection(), kSql);
      result.in_recovery = rows.rows() == 1 && rows.get(0, 0) == "t";
      co_return;
    } catch (const pg::Error& e) {
      const bool died = lease.reused() || e.reason() == pg::Reason::shutdown;
      const bool stale = attempt < kMaxRetries && died && !e.connection_usable() &&
                         e.reason() != pg::Reason::timeout && Clock::now() < ctx.deadline;
      if (!stale) throw;
    }
    lease.invalidate();
  }
}

}  // namespace pgv::probes
