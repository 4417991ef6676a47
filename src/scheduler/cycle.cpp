#include "scheduler/cycle.hpp"

#include "async/awaitables.hpp"
#include "pg/error.hpp"

namespace pgv::scheduler {

async::Task<void> run_cycle(TargetRuntime& target, bool every_probe) {
  bool connected = true;
  for (auto& probe : target.probes) {
    if (!every_probe && !probe->due(target.cycle)) continue;
    if (!connected && probe->uses_pool()) continue;
    probes::ProbeContext ctx{target.config.name,    target.pool,
                             target.params,         Clock::now() + target.config.timeout,
                             target.cycle,          target.echo_sql,
                             target.activity_top_n, target.expose_query_text};
    const probes::ProbeResult result = co_await probe->run(ctx);
    target.recorder->record(result);
    if (probe->name() == "connectivity" && !result.ok) connected = false;
  }
  if (!connected) co_return;
  try {
    co_await target.pool.maintain(Clock::now() + target.config.timeout);
  } catch (const pg::Error&) {
    // The next connectivity probe reports it.
  }
}

async::Task<void> run_schedule(std::shared_ptr<TargetRuntime> target, Clock::duration first_delay) {
  const Clock::duration interval = target->config.interval;
  Clock::time_point next = Clock::now() + first_delay;
  for (;;) {
    // Bound to a local first: GCC 12 miscompiles co_await inside an if condition in a loop.
    const async::Outcome woke = co_await async::sleep_until(next);
    if (woke == async::Outcome::cancelled) co_return;
    const double lag = seconds_between(next, Clock::now());
    co_await run_cycle(*target, false);
    target->recorder->record_cycle(lag, target->pool.stats());
    ++target->cycle;
    next += interval;
    const Clock::time_point now = Clock::now();
    if (next <= now) next += ((now - next) / interval + 1) * interval;
  }
}

}  // namespace pgv::scheduler
