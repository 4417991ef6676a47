#include "probes/connectivity.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>

#include "async/blocking.hpp"
#include "helpers.hpp"
#include "pg_cluster.hpp"
#include "pool/pool.hpp"
#include "sessions.hpp"

using namespace std::chrono_literals;
using pgv::Clock;
using pgv::pool::CloseReason;
using namespace pgv::testing;

namespace {

pgv::probes::ProbeResult run_connectivity(pgv::pool::Pool& pool,
                                          const pgv::pg::ConnectParams& params) {
  pgv::probes::ConnectivityProbe probe;
  pgv::probes::ProbeContext ctx{"t", pool, params, Clock::now() + 2s};
  return pgv::async::run_blocking(probe.run(ctx));
}

long phase_count(const pgv::probes::ProbeResult& r, const std::string& name) {
  return std::count_if(r.phases.begin(), r.phases.end(),
                       [&](const auto& p) { return p.first == name; });
}

}  // namespace

TEST_CASE("connectivity: one round trip, and idle sessions that all died never read as down",
          "[probe][integration]") {
  PgCluster cluster;
  const auto params = params_for(cluster.dsn());
  pgv::pool::PoolOptions options;
  options.size = 3;
  options.max_overflow = 0;
  pgv::pool::Pool pool(params, options);
  {
    // Three idle sessions in the pool.
    auto a = pool.acquire_blocking();
    auto b = pool.acquire_blocking();
    auto c = pool.acquire_blocking();
  }
  REQUIRE(pool.stats().idle == 3);

  const auto healthy = run_connectivity(pool, params);
  INFO(healthy.error_message);
  REQUIRE(healthy.ok);
  // No pre-ping: the probe's phases are the acquire and its one query.
  CHECK(phase_count(healthy, "pre_ping") == 0);
  CHECK(phase_count(healthy, "query") == 1);

  terminate_agent_sessions(cluster);
  REQUIRE(eventually([&] {
    return cluster
               .admin(
                   "SELECT count(*) FROM pg_stat_activity WHERE "
                   "application_name = 'pgvitals'")
               .get(0, 0) == std::string("0");
  }));
  // The first dead session fails its query and is retried; the retry pre-pings, so the
  // other two dead ones are discarded instead of being handed out.
  const auto after = run_connectivity(pool, params);
  INFO(after.error_message);
  CHECK(after.ok);
  CHECK(pool.stats().closed(CloseReason::invalidated) == 3);
}
