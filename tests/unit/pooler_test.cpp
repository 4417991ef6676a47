#include "probes/pooler.hpp"

#include <catch2/catch.hpp>

using pgv::probes::PoolerDigest;
using pgv::probes::PoolerPool;

namespace {

PoolerPool pool(const std::string& db, const std::string& user, int active, int waiting,
                double max_wait = 0) {
  PoolerPool p;
  p.database = db;
  p.user = user;
  p.clients_active = active;
  p.clients_waiting = waiting;
  p.servers_active = active;
  p.max_wait_seconds = max_wait;
  return p;
}

}  // namespace

TEST_CASE("pools beyond the top N are summed into one pool named other", "[pooler]") {
  PoolerDigest d;
  d.pools = {pool("small", "u", 1, 0, 0.5), pool("big", "u", 9, 4, 3.0), pool("mid", "u", 5, 0),
             pool("tiny", "u", 0, 1, 7.0)};
  d.databases = {{"big", "db", 5432, "big", 10}, {"mid", "db", 5432, "mid", 5}};
  d.stats = {{"big", 100, 200, 1, 2, 3},
             {"small", 10, 20, 0.1, 0.2, 0.3},
             {"tiny", 1, 2, 0.01, 0.02, 0.03}};
  pgv::probes::bound_digest(d, 2);
  REQUIRE(d.pools.size() == 3);
  CHECK(d.pools[0].database == "big");
  CHECK(d.pools[1].database == "mid");
  const PoolerPool& other = d.pools[2];
  CHECK(other.database == "other");
  CHECK(other.user == "other");
  CHECK(other.clients_active == 1);
  CHECK(other.clients_waiting == 1);
  CHECK(other.max_wait_seconds == 7.0);  // the longest wait, not a sum
  CHECK_FALSE(other.pool_size);
  // Kept pools learn their database's pool size, and with it a saturation.
  CHECK(d.pools[0].pool_size == 10);
  CHECK(d.pools[0].saturation() == Approx(0.9));
  CHECK(d.pools[1].saturation() == Approx(1.0));
  // Totals: the kept databases, and the rest summed.
  REQUIRE(d.stats.size() == 2);
  CHECK(d.stats[0].database == "big");
  CHECK(d.stats[1].database == "other");
  CHECK(d.stats[1].transactions == 11);
  CHECK(d.stats[1].wait_seconds == Approx(0.33));
}

TEST_CASE("no more pools than the top N: nothing is summed", "[pooler]") {
  PoolerDigest d;
  d.pools = {pool("a", "u", 1, 0)};
  pgv::probes::bound_digest(d, 20);
  REQUIRE(d.pools.size() == 1);
  CHECK(d.pools[0].database == "a");
  CHECK_FALSE(d.pools[0].saturation());  // no SHOW DATABASES row: no pool size
  d.max_client_conn = 100;
  d.client_connections = 25;
  CHECK(d.client_connections_ratio() == Approx(0.25));
}
