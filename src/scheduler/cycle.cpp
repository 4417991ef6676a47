#include "scheduler/cycle.hpp"

#include "async/awaitables.hpp"
#include "config/probe_catalog.hpp"
#include "pg/error.hpp"
#include "scheduler/cadence.hpp"

namespace pgv::scheduler {

async::Task<void> run_cycle(TargetRuntime& target, bool every_probe) {
  bool pool_ok = true;
  for (auto& probe : target.probes) {
    if (!every_probe && !probe->due(target.cycle)) continue;
    if (!pool_ok && probe->spec().uses_pool) continue;
    probes::ProbeContext ctx{target.config.name,    target.pool,
                             target.params,         Clock::now() + target.config.timeout,
                             target.cycle,          target.echo_sql,
                             target.activity_top_n, target.expose_query_text};
    const probes::ProbeResult result = co_await probe->run(ctx);
    target.recorder->record(result);
    // The up/down probe went through the pool: when it failed, the pool cannot serve.
    if (probe->spec().health == config::HealthGate::healthz && !result.ok) pool_ok = false;
    // A server that let one probe run out of time will let the next one too, and a name
    // that did not resolve will not resolve for the next probe either; waiting that out
    // again would only push the next connectivity probe late.
    if (!result.ok && result.error &&
        (result.error->reason == pg::Reason::timeout || result.error->phase == pg::Phase::dns)) {
      co_return;
    }
  }
  if (!pool_ok) co_return;
  try {
    co_await target.pool.maintain(Clock::now() + target.config.timeout);
  } catch (const pg::Error&) {
    // The next connectivity probe reports it.
  }
}

async::Task<void> run_schedule(std::shared_ptr<TargetRuntime> target, Clock::duration first_delay) {
  Cadence cadence(Clock::now(), first_delay, target->config.interval);
  for (;;) {
    // Bound to a local first: GCC 12 miscompiles co_await inside an if condition in a loop.
    const async::Outcome woke = co_await async::sleep_until(cadence.next());
    if (woke == async::Outcome::cancelled) co_return;
    const double lag = cadence.lag(Clock::now());
    co_await run_cycle(*target, false);
    target->recorder->record_cycle(lag, target->pool.stats());
    ++target->cycle;
    cadence.finished(Clock::now());
  }
}

}  // namespace pgv::scheduler
