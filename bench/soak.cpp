// Soak: the agent probing a real PostgreSQL every few milliseconds for minutes, through
// database restarts, while RSS and open descriptors are sampled once a second.
//   soak [--seconds 120] [--interval 20ms] [--restarts 4]
// Prints the samples' summary: probe cycles run, RSS and fds at warm-up and at the end.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "agent_process.hpp"
#include "bench_util.hpp"
#include "pg_cluster.hpp"

using namespace std::chrono_literals;

int main(int argc, char** argv) {
  int seconds = 120;
  std::string interval = "20ms";
  int restarts = 4;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--interval") == 0) interval = argv[i + 1];
    if (std::strcmp(argv[i], "--restarts") == 0) restarts = std::atoi(argv[i + 1]);
  }
  pgv::testing::PgCluster cluster;
  pgv::testing::AgentProcess agent(
      {"--interval", interval, "--timeout", "500ms", "--log-level", "warn"},
      {{"DATABASE_URL", cluster.dsn()}});
  if (!agent.wait_for_status("/healthz", 200, 10s)) {
    std::fprintf(stderr, "soak: agent never became healthy\n%s", agent.log().c_str());
    return 1;
  }
  const int warmup = std::min(10, seconds / 4);
  std::this_thread::sleep_for(std::chrono::seconds(warmup));
  const long rss0 = pgv::bench::proc_usage(agent.pid()).rss_kib;
  const int fds0 = agent.open_fds();
  const std::string count = "pgvitals_probe_duration_seconds_count";
  const std::string sel = "probe=\"connectivity\"";
  const double cycles0 = pgv::bench::metric_value(agent.get("/metrics").body, count, sel);
  long rss_max = rss0;
  int fds_max = fds0;
  const int restart_every = restarts > 0 ? (seconds - warmup) / (restarts + 1) : 0;
  for (int s = 1; s <= seconds - warmup; ++s) {
    std::this_thread::sleep_for(1s);
    if (restart_every > 0 && s % restart_every == 0 && s < seconds - warmup) {
      cluster.stop(s % 2 ? pgv::testing::StopMode::fast : pgv::testing::StopMode::immediate);
      cluster.start();
    }
    rss_max = std::max(rss_max, pgv::bench::proc_usage(agent.pid()).rss_kib);
    fds_max = std::max(fds_max, agent.open_fds());
  }
  // The last restart must be behind us before the final reading.
  agent.wait_for_status("/healthz", 200, 5s);
  std::this_thread::sleep_for(2s);
  const long rss1 = pgv::bench::proc_usage(agent.pid()).rss_kib;
  const int fds1 = agent.open_fds();
  const double cycles = pgv::bench::metric_value(agent.get("/metrics").body, count, sel) - cycles0;
  std::printf("soak: %d s at interval %s, %d restarts, %.0f successful connectivity probes\n",
              seconds, interval.c_str(), restarts, cycles);
  std::printf("RSS after warm-up %ld KiB, at the end %ld KiB (growth %+ld KiB), peak %ld KiB\n",
              rss0, rss1, rss1 - rss0, rss_max);
  std::printf("open fds after warm-up %d, at the end %d, peak %d\n", fds0, fds1, fds_max);
  const bool flat = rss1 - rss0 < 1024 && fds1 <= fds0 + 1;
  std::printf("target: RSS growth under 1 MiB and fds flat: %s\n", flat ? "met" : "MISSED");
  agent.signal(SIGTERM);
  agent.wait_exit(5s);
  return flat ? 0 : 1;
}
