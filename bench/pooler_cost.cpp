// What one pooler probe cycle costs, on the agent's side (wall time of its round trips
// to the admin console) and on PgBouncer's (its process CPU time), with `pools` pools in
// use (one client held open on each of that many databases), beside one connectivity
// round trip (SHOW VERSION) on the same console.
//   pooler_cost [cycles=2000] [pools=50]
//   pooler_cost --quick        # the CI smoke run: 20 cycles, 5 pools
// A cycle runs the probe's statements (probes/pooler.cpp): SHOW POOLS, STATS, DATABASES,
// LISTS, and SHOW CONFIG on every 12th cycle (settings_every's default).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "helpers.hpp"
#include "pg_cluster.hpp"
#include "pgbouncer.hpp"

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kConfigEvery = 12;

// utime + stime of a process, in seconds.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = content.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(content.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 13; ++i) rest >> field;  // up to minflt..cmajflt
  long utime = 0, stime = 0;
  rest >> utime >> stime;
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

struct Timed {
  std::vector<double> seconds;
  double cpu = 0;  // PgBouncer's, over all of them
};

template <class F>
Timed run(pid_t bouncer, int cycles, F&& cycle) {
  Timed out;
  const double cpu_before = cpu_seconds(bouncer);
  for (int i = 0; i < cycles; ++i) {
    const auto start = Clock::now();
    cycle(i);
    out.seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  out.cpu = cpu_seconds(bouncer) - cpu_before;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace pgv::testing;
  const bool quick = argc > 1 && std::string_view(argv[1]) == "--quick";
  const int cycles = quick ? 20 : (argc > 1 ? std::atoi(argv[1]) : 2000);
  const int pools = quick ? 5 : (argc > 2 ? std::atoi(argv[2]) : 50);
  try {
    ClusterOptions server_options;
    server_options.max_connections = pools + 20;
    PgCluster server(server_options);
    for (int i = 0; i < pools; ++i) server.admin("CREATE DATABASE db" + std::to_string(i));
    PgBouncer bouncer(server);
    std::vector<pgv::pg::Connection> clients;
    for (int i = 0; i < pools; ++i) {
      clients.push_back(
          connect_blocking(params_for(bouncer.dsn("pgvitals", "db" + std::to_string(i)))));
      query(clients.back(), "SELECT 1");
    }
    pgv::pg::Connection console = connect_blocking(params_for(bouncer.admin_dsn()));
    const char* statements[] = {"SHOW POOLS", "SHOW STATS", "SHOW DATABASES", "SHOW LISTS"};
    std::size_t pool_rows = 0;
    const Timed probe = run(bouncer.pid(), cycles, [&](int i) {
      for (const char* sql : statements) {
        const auto r = query(console, sql);
        if (sql == statements[0]) pool_rows = static_cast<std::size_t>(r.rows());
      }
      if (i % kConfigEvery == 0) query(console, "SHOW CONFIG");
    });
    const Timed ping = run(bouncer.pid(), cycles, [&](int) { query(console, "SHOW VERSION"); });
    if (pool_rows < static_cast<std::size_t>(pools)) {
      std::fprintf(stderr, "pooler_cost: SHOW POOLS has %zu rows, want >= %d\n", pool_rows, pools);
      return 1;
    }
    const double probe_median = percentile(probe.seconds, 0.5);
    const double ping_median = percentile(ping.seconds, 0.5);
    std::printf("pooler_cost: %d cycles, %d pools in use (%zu SHOW POOLS rows)\n", cycles, pools,
                pool_rows);
    std::printf("%-28s %12s %12s %16s\n", "", "median ms", "p99 ms", "pgbouncer CPU ms");
    std::printf("%-28s %12.3f %12.3f %16.3f\n", "pooler probe cycle", probe_median * 1e3,
                percentile(probe.seconds, 0.99) * 1e3, probe.cpu * 1e3 / cycles);
    std::printf("%-28s %12.3f %12.3f %16.3f\n", "connectivity (SHOW VERSION)", ping_median * 1e3,
                percentile(ping.seconds, 0.99) * 1e3, ping.cpu * 1e3 / cycles);
    std::printf("ratio pooler cycle / connectivity: %.1fx\n",
                ping_median > 0 ? probe_median / ping_median : 0);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pooler_cost: %s\n", e.what());
    return 1;
  }
}
