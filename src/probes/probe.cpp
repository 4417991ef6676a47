#include "probes/probe.hpp"

#include "log/log.hpp"
#include "pg/query.hpp"

namespace pgv::probes {

async::Task<ProbeResult> Probe::run(ProbeContext ctx) {
  ProbeResult result;
  result.probe = std::string(name());
  result.started = Clock::now();
  try {
    co_await execute(ctx, result);
    result.ok = true;
  } catch (const async::Cancelled&) {
    throw;
  } catch (const pg::Error& e) {
    // The failing step's own time, where only the failure knows it (a name lookup).
    if (e.details().phase_seconds > 0) {
      result.add_phase(std::string(pg::to_string(e.phase())), e.details().phase_seconds);
    }
    result.error = e.details();
    result.error_message = e.what();
  } catch (const std::exception& e) {
    pg::Error::Details details;
    details.reason = pg::Reason::other;
    result.error = details;
    result.error_message =
        ctx.params.secrets ? ctx.params.secrets->scrub(e.what()) : config::redact(e.what());
  }
  result.seconds = seconds_between(result.started, Clock::now());
  co_return result;
}

async::Task<pg::Result> Probe::query(ProbeContext& ctx, ProbeResult& result, pg::Connection& conn,
                                     std::string sql, std::string phase) {
  if (ctx.echo_sql && logging::log_enabled(logging::LogLevel::debug)) {
    logging::log(logging::LogLevel::debug, "probe statement",
                 {{"target", std::string(ctx.target)},
                  {"probe", result.probe},
                  {"backend_pid", conn.backend_pid()},
                  {"sql", sql}});
  }
  const Clock::time_point start = Clock::now();
  pg::Result r = co_await pg::exec(conn, std::move(sql), ctx.deadline);
  result.add_phase(std::move(phase), seconds_between(start, Clock::now()));
  co_return r;
}

async::Task<pool::Lease> Probe::acquire(ProbeContext& ctx, ProbeResult& result, bool pre_ping) {
  const Clock::time_point start = Clock::now();
  pool::Lease lease = co_await ctx.pool.acquire(ctx.deadline, pre_ping);
  result.add_phase("acquire", seconds_between(start, Clock::now()));
  co_return lease;
}

}  // namespace pgv::probes
