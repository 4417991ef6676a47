// Pool acquire+release cost against a real throwaway PostgreSQL.
//   pool_bench [--quick]
// Prints the median (and p99) per acquire+release for: uncontended without pre-ping (the
// pool's own overhead), uncontended with pre-ping (adds one round trip), and contended
// (threads > connections), plus a raw empty-query round trip for comparison.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "async/blocking.hpp"
#include "config/dsn.hpp"
#include "pg/connect.hpp"
#include "pg/query.hpp"
#include "pg_cluster.hpp"
#include "pool/pool.hpp"

using namespace std::chrono_literals;
using pgv::Clock;

namespace {

struct Summary {
  double median_ns;
  double p99_ns;
};

Summary summarise(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  return {samples[samples.size() / 2], samples[samples.size() * 99 / 100]};
}

pgv::pg::ConnectParams params(const pgv::testing::PgCluster& cluster) {
  return pgv::pg::make_connect_params(pgv::config::parse_dsn(cluster.dsn()), {});
}

// Median over batches of the mean cost inside each batch: robust to scheduler noise and
// free of per-call clock overhead.
Summary batched(pgv::pool::Pool& pool, int batches, int per_batch) {
  std::vector<double> per_op;
  for (int b = 0; b < batches; ++b) {
    const auto start = Clock::now();
    for (int i = 0; i < per_batch; ++i) {
      pgv::pool::Lease lease = pool.acquire_blocking();
    }
    per_op.push_back(std::chrono::duration<double, std::nano>(Clock::now() - start).count() /
                     per_batch);
  }
  return summarise(per_op);
}

Summary contended(pgv::pool::Pool& pool, int threads, int per_thread) {
  std::vector<std::vector<double>> samples(static_cast<std::size_t>(threads));
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      auto& mine = samples[static_cast<std::size_t>(t)];
      mine.reserve(static_cast<std::size_t>(per_thread));
      for (int i = 0; i < per_thread; ++i) {
        const auto start = Clock::now();
        { pgv::pool::Lease lease = pool.acquire_blocking(); }
        mine.push_back(std::chrono::duration<double, std::nano>(Clock::now() - start).count());
      }
    });
  }
  for (auto& w : workers) w.join();
  std::vector<double> all;
  for (auto& s : samples) all.insert(all.end(), s.begin(), s.end());
  return summarise(all);
}

void print(const char* name, Summary s) {
  std::printf("%-52s median %9.0f ns   p99 %9.0f ns\n", name, s.median_ns, s.p99_ns);
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const int scale = quick ? 10 : 1;
  pgv::testing::PgCluster cluster;
  std::printf("pool_bench: PostgreSQL on 127.0.0.1:%d, %u hardware threads\n", cluster.port(),
              std::thread::hardware_concurrency());

  pgv::pool::PoolOptions no_ping;
  no_ping.pre_ping = false;
  pgv::pool::Pool plain(params(cluster), no_ping);
  plain.acquire_blocking().release();
  const Summary uncontended = batched(plain, 21, 20'000 / scale);
  print("uncontended acquire+release, pre_ping off", uncontended);

  pgv::pool::Pool pinging(params(cluster), {});
  pinging.acquire_blocking().release();
  const Summary with_ping = batched(pinging, 21, 500 / scale);
  print("uncontended acquire+release, pre_ping on", with_ping);

  auto conn = pgv::async::run_blocking(pgv::pg::connect(params(cluster), Clock::now() + 5s));
  std::vector<double> rtt;
  for (int b = 0; b < 21; ++b) {
    const auto start = Clock::now();
    for (int i = 0; i < 500 / scale; ++i) {
      pgv::async::run_blocking(pgv::pg::exec(conn, "", Clock::now() + 5s));
    }
    rtt.push_back(std::chrono::duration<double, std::nano>(Clock::now() - start).count() /
                  (500.0 / scale));
  }
  print("raw empty-query round trip (no pool)", summarise(rtt));

  pgv::pool::PoolOptions small = no_ping;
  small.size = 2;
  small.max_overflow = 0;
  pgv::pool::Pool shared(params(cluster), small);
  print("contended: 4 threads, 2 connections, pre_ping off", contended(shared, 4, 50'000 / scale));
  print("contended: 2 threads, 2 connections, pre_ping off", contended(shared, 2, 50'000 / scale));

  std::printf("target: uncontended (pre_ping off) median < 2000 ns: %s\n",
              uncontended.median_ns < 2000 ? "met" : "MISSED");
  return 0;
}
