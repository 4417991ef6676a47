// Server time of the activity probe's query with many sessions open, from
// pg_stat_statements (mean_exec_time: time spent in the server executing it).
//   activity_cost [sessions=500] [runs=200]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "async/blocking.hpp"
#include "helpers.hpp"
#include "pg_cluster.hpp"
#include "pool/pool.hpp"
#include "probes/activity.hpp"
#include "sessions.hpp"

using namespace std::chrono_literals;
using pgv::Clock;

int main(int argc, char** argv) {
  const int sessions = argc > 1 ? std::atoi(argv[1]) : 500;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 200;
  pgv::testing::ClusterOptions options;
  options.max_connections = sessions + 20;
  options.settings = {"shared_preload_libraries=pg_stat_statements",
                      "pg_stat_statements.track=all"};
  pgv::testing::PgCluster cluster(options);
  cluster.admin("CREATE EXTENSION pg_stat_statements");

  auto held = pgv::testing::open_sessions(cluster, sessions, "postgres", "filler");
  std::printf("activity_cost: %zu idle sessions open (max_connections %d)\n", held.size(),
              options.max_connections);

  auto params = pgv::testing::params_for(cluster.dsn());
  pgv::pool::Pool pool(params, {});
  pgv::probes::ActivityProbe probe;
  // Median of per-batch means: one noisy moment on a shared 2-core machine moves a single
  // mean a lot and a median of fifteen hardly at all.
  auto mean_of_batch = [&](const std::string& like) {
    const auto st = cluster.admin(
        "SELECT mean_exec_time FROM pg_stat_statements WHERE query LIKE '" + like + "'");
    return st.rows() == 1 ? std::stod(std::string(st.get(0, 0))) : -1.0;
  };
  std::vector<double> probe_ms;
  std::vector<double> floor_ms;
  double client_ms_total = 0;
  const int batches = 15;
  const int per_batch = std::max(1, runs / batches);
  auto conn = pgv::testing::connect_blocking(params);
  for (int b = 0; b < batches; ++b) {
    cluster.admin("SELECT pg_stat_statements_reset()");
    const auto start = Clock::now();
    for (int i = 0; i < per_batch; ++i) {
      pgv::probes::ProbeContext ctx{"bench", pool, params, Clock::now() + 5s, 0, false, 20, false};
      const auto r = pgv::async::run_blocking(probe.run(ctx));
      if (!r.ok) {
        std::fprintf(stderr, "probe failed: %s\n", r.error_message.c_str());
        return 1;
      }
      // The data source alone, for scale: what any reader of pg_stat_activity pays.
      pgv::testing::query(conn, "SELECT count(*) FROM pg_stat_get_activity(NULL) /*floor*/");
    }
    client_ms_total += pgv::seconds_between(start, Clock::now()) * 1e3;
    probe_ms.push_back(mean_of_batch("WITH a AS MATERIALIZED%"));
    floor_ms.push_back(mean_of_batch("%/*floor*/%"));
  }
  std::sort(probe_ms.begin(), probe_ms.end());
  std::sort(floor_ms.begin(), floor_ms.end());
  const double median = probe_ms[probe_ms.size() / 2];
  std::printf(
      "activity query server time (median of %d batch means of %d calls): %.3f ms "
      "(batch means %.3f..%.3f)\n",
      batches, per_batch, median, probe_ms.front(), probe_ms.back());
  std::printf("pg_stat_get_activity(NULL) alone, same run: %.3f ms  (ratio %.2fx)\n",
              floor_ms[floor_ms.size() / 2], median / floor_ms[floor_ms.size() / 2]);
  std::printf("client-observed, probe + floor query per iteration: %.3f ms\n",
              client_ms_total / (batches * per_batch));
  std::printf("target: server time < 1 ms with %zu sessions: %s\n", held.size(),
              median < 1.0 ? "met" : "MISSED");
  return 0;
}
