#include "app/check.hpp"

#include <cstdio>
#include <memory>
#include <vector>

#include "app/check_report.hpp"
#include "async/event_loop.hpp"
#include "config/error.hpp"
#include "config/loader.hpp"
#include "log/log.hpp"
#include "scheduler/cycle.hpp"
#include "scheduler/target_runtime.hpp"

namespace pgv::app {

int run_check(const config::FlagOverrides& flags, const std::string& format) {
  if (format != "text" && format != "json") {
    std::fprintf(stderr, "pgvitals: --format: got '%s'; allowed: text, json\n", format.c_str());
    return 2;
  }
  config::AgentConfig config;
  std::vector<pg::ConnectParams> params;
  try {
    config = config::load_config(flags, config::current_environment());
    // The report is the output; log lines would only repeat it, unless asked for.
    logging::init_logging(config.log_format, flags.log_level ? config.log_level : "off");
    for (const auto& t : config.targets) params.push_back(scheduler::target_params(t));
  } catch (const config::ConfigError& e) {
    std::fprintf(stderr, "pgvitals: %s\n", e.what());
    return 2;
  }

  telemetry::Telemetry tel;
  std::vector<std::shared_ptr<scheduler::TargetRuntime>> runtimes;
  for (std::size_t i = 0; i < config.targets.size(); ++i) {
    runtimes.push_back(std::make_shared<scheduler::TargetRuntime>(tel, config.targets[i], config,
                                                                  std::move(params[i])));
  }
  async::EventLoop loop;
  // Targets reached through a pooler run once the others are done: the hop a failure of
  // theirs is placed on is read from the pooler's and a direct target's results.
  std::size_t started = 0;
  std::size_t done = 0;
  for (const bool via : {false, true}) {
    Clock::duration longest{};
    for (const auto& rt : runtimes) {
      if (rt->config.via.empty() == via) continue;
      ++started;
      longest = std::max<Clock::duration>(longest, rt->config.timeout * (rt->probes.size() + 1));
      loop.spawn(scheduler::run_cycle(*rt, true), async::new_scope(),
                 [&done](std::exception_ptr) { ++done; });
    }
    // Each probe is bounded by its deadline; this only guards against a bug.
    const Deadline give_up = Clock::now() + longest + std::chrono::seconds(5);
    while (done < started && Clock::now() < give_up) loop.run_once(give_up);
  }

  for (const auto& rt : runtimes) rt->recorder->record_cycle(0, rt->pool.stats());
  const auto snapshot = tel.state.snapshot();
  const CheckSummary summary = summarise(*snapshot, tel.failures, Clock::now());
  const std::string report =
      format == "json" ? render_check_json(summary) : render_check_text(summary);
  std::fputs(report.c_str(), stdout);
  return summary.healthy ? 0 : 1;
}

}  // namespace pgv::app
