#include "probes/lifecycle.hpp"

namespace pgv::probes {
namespace {

void expect(const pg::Connection& conn, pg::TxStatus wanted, const char* after) {
  if (conn.transaction_status() == wanted) return;
  pg::Error::Details details;
  details.phase = pg::Phase::query;
  details.reason = pg::Reason::other;
  details.connection_usable = false;
  details.backend_pid = conn.backend_pid();
  throw pg::Error(details,
                  std::string("session in an unexpected transaction state after ") + after);
}

}  // namespace

std::string LifecycleProbe::statement_sql(ServerVersion server) {
  return std::string("SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE ") +
         server.current_xact_id_sql() + " END, set_config('pgvitals.lifecycle', 'set', true)";
}

async::Task<void> LifecycleProbe::execute(ProbeContext& ctx, ProbeResult& result) {
  pool::Lease lease = co_await acquire(ctx, result);
  pg::Connection& conn = lease.connection();

  co_await query(ctx, result, conn, "BEGIN", "begin");
  expect(conn, pg::TxStatus::in_transaction, "BEGIN");
  const std::string statement = statement_sql(ServerVersion{conn.server_version()});
  co_await query(ctx, result, conn, statement, "statement");
  co_await query(ctx, result, conn, "ROLLBACK", "rollback");
  expect(conn, pg::TxStatus::idle, "ROLLBACK");

  co_await query(ctx, result, conn, "BEGIN", "begin");
  const pg::Result marker = co_await query(ctx, result, conn, kLeakCheckSql, "leak_check");
  if (marker.rows() == 1 && marker.get(0, 0) == "set") {
    pg::Error::Details details;
    details.phase = pg::Phase::query;
    details.reason = pg::Reason::other;
    details.backend_pid = conn.backend_pid();
    throw pg::Error(details,
                    "a rolled-back transaction's SET LOCAL was still in force in the next");
  }
  co_await query(ctx, result, conn, "COMMIT", "commit");
  expect(conn, pg::TxStatus::idle, "COMMIT");
}

}  // namespace pgv::probes
