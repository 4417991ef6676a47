#include "probes/connectivity.hpp"

namespace pgv::probes {
namespace {

// Sessions terminated one after another (pg_terminate_backend sweeps, a pooler recycling
// its servers) can take the fresh session of a retry too; two retries ride that out.
constexpr int kMaxRetries = 2;

// PgBouncer's admin console named as a database: it takes no SELECT ("invalid command ...,
// use SHOW HELP;"), or refuses a role that is not one of its stats_users ("not allowed").
bool names_admin_console(const pg::Error& e, const ProbeContext& ctx) {
  const std::string_view text = e.what();
  if (text.find("use SHOW HELP") != std::string_view::npos) return true;
  return e.details().sqlstate == "08P01" && text.find("not allowed") != std::string_view::npos &&
         ctx.params.endpoint().dbname == "pgbouncer";
}

}  // namespace

async::Task<void> ConnectivityProbe::execute(ProbeContext& ctx, ProbeResult& result) {
  if (kind_ == config::TargetKind::pgbouncer) {
    co_await ping(ctx, result);
    co_return;
  }
  std::optional<pg::Error> mistaken;
  try {
    co_await ping(ctx, result);
  } catch (const pg::Error& e) {
    if (!names_admin_console(e, ctx)) throw;
    mistaken = e;
  }
  if (mistaken) {
    throw pg::Error(mistaken->details(),
                    "this DSN names PgBouncer's admin console (database pgbouncer), which answers "
                    "only SHOW commands: give the target kind: pgbouncer to watch the pooler, or "
                    "name the application's database to watch the database through it (" +
                        std::string(mistaken->what()) + ")");
  }
}

async::Task<void> ConnectivityProbe::ping(ProbeContext& ctx, ProbeResult& result) {
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
