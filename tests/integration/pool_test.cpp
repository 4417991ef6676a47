#include "pool/pool.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "helpers.hpp"
#include "net.hpp"
#include "pg/error.hpp"
#include "pg_cluster.hpp"
#include "sessions.hpp"

using namespace std::chrono_literals;
using pgv::Clock;
using pgv::pool::CloseReason;
using pgv::pool::Lease;
using pgv::pool::Pool;
using pgv::pool::PoolOptions;
using namespace pgv::testing;

namespace {

PoolOptions options(int size, int overflow, std::chrono::milliseconds timeout = 2s) {
  PoolOptions o;
  o.size = size;
  o.max_overflow = overflow;
  o.timeout = timeout;
  return o;
}

int pid_of(Lease& lease) {
  return lease.connection().backend_pid();
}

int server_sessions(PgCluster& cluster) {
  return std::stoi(std::string(
      cluster.admin("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgvitals'")
          .get(0, 0)));
}

}  // namespace

TEST_CASE("pool reuses the same backend across leases", "[pool][integration]") {
  PgCluster cluster;
  Pool pool(params_for(cluster.dsn()), options(2, 2));
  int first = 0;
  {
    Lease lease = pool.acquire_blocking();
    first = pid_of(lease);
  }
  for (int i = 0; i < 5; ++i) {
    Lease lease = pool.acquire_blocking();
    CHECK(pid_of(lease) == first);
  }
  const auto s = pool.stats();
  CHECK(s.opened_total == 1);
  CHECK(s.acquires_total == 6);
  CHECK(s.idle == 1);
  CHECK(s.in_use == 0);
}

TEST_CASE("pool opens overflow connections under load and closes them on return",
          "[pool][integration]") {
  PgCluster cluster;
  Pool pool(params_for(cluster.dsn()), options(1, 2));
  {
    std::vector<Lease> leases;
    for (int i = 0; i < 3; ++i) leases.push_back(pool.acquire_blocking());
    CHECK(pid_of(leases[0]) != pid_of(leases[1]));
    CHECK(pid_of(leases[1]) != pid_of(leases[2]));
    CHECK(pool.stats().in_use == 3);
    CHECK(server_sessions(cluster) == 3);
  }
  const auto s = pool.stats();
  CHECK(s.idle == 1);
  CHECK(s.in_use == 0);
  CHECK(s.closed(CloseReason::overflow) == 2);
  CHECK(eventually([&] { return server_sessions(cluster) == 1; }));
}

TEST_CASE("an exhausted pool blocks for its timeout, then fails and counts it",
          "[pool][integration]") {
  PgCluster cluster;
  Pool pool(params_for(cluster.dsn()), options(1, 0, 300ms));
  Lease held = pool.acquire_blocking();
  const auto start = Clock::now();
  try {
    Lease second = pool.acquire_blocking();
    FAIL("acquired from an exhausted pool");
  } catch (const pgv::pg::Error& e) {
    CHECK(e.phase() == pgv::pg::Phase::acquire);
    CHECK(e.reason_label() == "timeout");
    CHECK_THAT(e.what(), Catch::Contains("pool exhausted"));
  }
  const auto waited = Clock::now() - start;
  CHECK(waited >= 300ms);
  CHECK(waited < 600ms);
  CHECK(pool.stats().timeouts_total == 1);
  CHECK(pool.stats().waiting == 0);
}

TEST_CASE("try_acquire returns nothing at once when every slot is taken", "[pool][integration]") {
  PgCluster cluster;
  Pool pool(params_for(cluster.dsn()), options(1, 0, 5s));
  Lease held = pool.acquire_blocking();
  const auto start = Clock::now();
  CHECK_FALSE(pool.try_acquire_blocking().has_value());
  CHECK(Clock::now() - start < 100ms);
  held.release();
  auto lease = pool.try_acquire_blocking();
  CHECK(lease.has_value());
}

TEST_CASE("a waiter is served when a lease returns", "[pool][integration]") {
  PgCluster cluster;
  Pool pool(params_for(cluster.dsn()), options(1, 0, 5s));
  Lease held = pool.acquire_blocking();
  const int pid = pid_of(held);
  std::atomic<int> served_pid{0};
  std::thread waiter([&] {
    Lease lease = pool.acquire_blocking();
    served_pid = pid_of(lease);
  });
  REQUIRE(eventually([&] { return pool.stats().waiting == 1; }));
  held.release();
  waiter.join();
  CHECK(served_pid == pid);
  CHECK(pool.stats().timeouts_total == 0);
  CHECK(pool.stats().opened_total == 1);
}

TEST_CASE("pool replaces a terminated connection on pre-ping", "[pool][integration]") {
  PgCluster cluster;
  Pool pool(params_for(cluster.dsn()), options(2, 0));
  int old_pid = 0;
  {
    Lease lease = pool.acquire_blocking();
    old_pid = pid_of(lease);
  }
  cluster.admin("SELECT pg_terminate_backend(" + std::to_string(old_pid) + ")");
  REQUIRE(eventually([&] {
    return cluster
               .admin("SELECT count(*) FROM pg_stat_activity WHERE pid = " +
                      std::to_string(old_pid))
               .get(0, 0) == "0";
  }));
  Lease lease = pool.acquire_blocking();  // must not throw
  CHECK(pid_of(lease) != old_pid);
  CHECK(query(lease.connection(), "SELECT 1").get(0, 0) == "1");
  CHECK(pool.stats().closed(CloseReason::invalidated) == 1);
}

TEST_CASE("without pre-ping a terminated connection reaches the caller", "[pool][integration]") {
  PgCluster cluster;
  PoolOptions o = options(1, 0);
  o.pre_ping = false;
  Pool pool(params_for(cluster.dsn()), o);
  int old_pid = 0;
  {
    Lease lease = pool.acquire_blocking();
    old_pid = pid_of(lease);
  }
  cluster.admin("SELECT pg_terminate_backend(" + std::to_string(old_pid) + ")");
  REQUIRE(eventually([&] {
    return cluster
               .admin("SELECT count(*) FROM pg_stat_activity WHERE pid = " +
                      std::to_string(old_pid))
               .get(0, 0) == "0";
  }));
  {
    Lease lease = pool.acquire_blocking();
    CHECK_THROWS_AS(query(lease.connection(), "SELECT 1"), pgv::pg::Error);
  }
  // The broken connection was discarded on return, and the next lease works.
  CHECK(pool.stats().closed(CloseReason::error) == 1);
  Lease lease = pool.acquire_blocking();
  CHECK(query(lease.connection(), "SELECT 1").get(0, 0) == "1");
}

TEST_CASE("recycle replaces connections older than the limit", "[pool][integration]") {
  PgCluster cluster;
  PoolOptions o = options(1, 0);
  o.recycle = 100ms;
  Pool pool(params_for(cluster.dsn()), o);
  int first = 0;
  {
    Lease lease = pool.acquire_blocking();
    first = pid_of(lease);
  }
  {
    Lease lease = pool.acquire_blocking();  // young enough: reused
    CHECK(pid_of(lease) == first);
  }
  std::this_thread::sleep_for(150ms);  // the condition under test is the passage of time
  Lease lease = pool.acquire_blocking();
  CHECK(pid_of(lease) != first);
  CHECK(pool.stats().closed(CloseReason::recycled) == 1);
}

TEST_CASE("maintain keeps one connection warm and recycles idle ones", "[pool][integration]") {
  PgCluster cluster;
  PoolOptions o = options(2, 2);
  o.recycle = 200ms;
  Pool pool(params_for(cluster.dsn()), o);
  CHECK(pool.stats().idle == 0);
  pool.maintain_blocking();
  CHECK(pool.stats().idle == 1);
  CHECK(pool.stats().opened_total == 1);
  pool.maintain_blocking();  // already warm: nothing opened
  CHECK(pool.stats().opened_total == 1);
  std::this_thread::sleep_for(250ms);
  pool.maintain_blocking();
  CHECK(pool.stats().idle == 1);
  CHECK(pool.stats().opened_total == 2);
  CHECK(pool.stats().closed(CloseReason::recycled) == 1);
}

TEST_CASE("a lease returned inside a transaction is rolled back", "[pool][integration]") {
  PgCluster cluster;
  cluster.admin("CREATE TABLE t (x int); GRANT ALL ON t TO pgvitals");
  Pool pool(params_for(cluster.dsn()), options(1, 0));
  int pid = 0;
  {
    Lease lease = pool.acquire_blocking();
    pid = pid_of(lease);
    query(lease.connection(), "BEGIN");
    query(lease.connection(), "INSERT INTO t VALUES (1)");
    CHECK(query(lease.connection(), "SELECT count(*) FROM t").get(0, 0) == "1");
  }
  Lease lease = pool.acquire_blocking();
  CHECK(pid_of(lease) == pid);  // the same session, kept, not discarded
  CHECK(lease.connection().transaction_status() == pgv::pg::TxStatus::idle);
  CHECK(query(lease.connection(), "SELECT count(*) FROM t").get(0, 0) == "0");
  CHECK(pool.stats().closed_all() == 0);
}

TEST_CASE("a lease returned in a failed transaction is rolled back too", "[pool][integration]") {
  PgCluster cluster;
  Pool pool(params_for(cluster.dsn()), options(1, 0));
  {
    Lease lease = pool.acquire_blocking();
    query(lease.connection(), "BEGIN");
    CHECK_THROWS(query(lease.connection(), "SELECT 1/0"));
    CHECK(lease.connection().transaction_status() == pgv::pg::TxStatus::in_error);
  }
  Lease lease = pool.acquire_blocking();
  CHECK(query(lease.connection(), "SELECT 2").get(0, 0) == "2");
}

TEST_CASE("a connection whose query timed out is discarded on return", "[pool][integration]") {
  PgCluster cluster;
  Pool pool(params_for(cluster.dsn()), options(1, 0));
  int pid = 0;
  {
    Lease lease = pool.acquire_blocking();
    pid = pid_of(lease);
    CHECK_THROWS(query(lease.connection(), "SELECT pg_sleep(5)", 100ms));
  }
  CHECK(pool.stats().closed(CloseReason::error) == 1);
  Lease lease = pool.acquire_blocking();
  CHECK(pid_of(lease) != pid);
}

TEST_CASE("pre-ping against a frozen server fails at the deadline", "[pool][integration]") {
  PgCluster cluster;
  Pool pool(params_for(cluster.dsn()), options(1, 0));
  pool.acquire_blocking().release();
  cluster.freeze();
  const auto start = Clock::now();
  try {
    auto lease = pgv::async::run_blocking(pool.acquire(Clock::now() + 300ms));
    FAIL("pre-ping passed on a frozen server");
  } catch (const pgv::pg::Error& e) {
    CHECK(e.phase() == pgv::pg::Phase::pre_ping);
    CHECK(e.reason_label() == "timeout");
  }
  CHECK(Clock::now() - start < 500ms);
  cluster.thaw();
  CHECK(pool.stats().in_use == 0);
  CHECK(pool.stats().closed(CloseReason::invalidated) == 1);
  Lease lease = pool.acquire_blocking();
  CHECK(query(lease.connection(), "SELECT 1").get(0, 0) == "1");
}

TEST_CASE("a failed connect gives its slot back", "[pool][integration]") {
  Pool pool(params_for("postgresql://u:pw@127.0.0.1:" + std::to_string(free_port()) + "/db"),
            options(1, 0));
  for (int i = 0; i < 3; ++i) {
    try {
      pool.acquire_blocking();
      FAIL("connected to a closed port");
    } catch (const pgv::pg::Error& e) {
      CHECK(e.phase() == pgv::pg::Phase::connect);
      CHECK(e.reason_label() == "refused");
    }
  }
  CHECK(pool.stats().in_use == 0);
  CHECK(pool.stats().timeouts_total == 0);
}

TEST_CASE("a database restart is hidden by pre-ping", "[pool][integration]") {
  PgCluster cluster;
  Pool pool(params_for(cluster.dsn()), options(2, 0));
  {
    Lease a = pool.acquire_blocking();
    Lease b = pool.acquire_blocking();
  }
  REQUIRE(pool.stats().idle == 2);
  cluster.restart();
  Lease lease = pool.acquire_blocking();
  CHECK(query(lease.connection(), "SELECT 1").get(0, 0) == "1");
  // One failed ping condemns its older idle sibling as well.
  CHECK(pool.stats().closed(CloseReason::invalidated) == 2);
  CHECK(pool.stats().idle == 0);
}

TEST_CASE(
    "without pre-ping a dead idle connection is handed out, marked reused, and invalidate() "
    "discards it",
    "[pool][integration]") {
  PgCluster cluster;
  Pool pool(params_for(cluster.dsn()), options(1, 0));
  {
    Lease first = pool.acquire_blocking();
    CHECK_FALSE(first.reused());  // a fresh connection
  }
  terminate_agent_sessions(cluster);
  auto lease = pgv::async::run_blocking(pool.acquire(Clock::now() + 2s, false));
  // Handed out unchecked: the caller's own query is the ping, and it fails.
  CHECK(lease.reused());
  CHECK_THROWS_AS(query(lease.connection(), "SELECT 1"), pgv::pg::Error);
  lease.invalidate();
  CHECK(pool.stats().closed(CloseReason::invalidated) == 1);
  // The slot came back: the next lease is a fresh, working connection.
  auto fresh = pgv::async::run_blocking(pool.acquire(Clock::now() + 2s, false));
  CHECK_FALSE(fresh.reused());
  CHECK(query(fresh.connection(), "SELECT 1").get(0, 0) == "1");
}

TEST_CASE("closing the pool fails waiters and closes every connection", "[pool][integration]") {
  PgCluster cluster;
  Pool pool(params_for(cluster.dsn()), options(1, 0, 10s));
  Lease held = pool.acquire_blocking();
  std::string waiter_reason;
  std::thread waiter([&] {
    try {
      pool.acquire_blocking();
    } catch (const pgv::pg::Error& e) {
      waiter_reason = e.reason_label();
    }
  });
  REQUIRE(eventually([&] { return pool.stats().waiting == 1; }));
  pool.close();
  waiter.join();
  CHECK(waiter_reason == "shutdown");
  held.release();
  CHECK(pool.stats().closed(CloseReason::shutdown) == 1);
  CHECK(eventually([&] { return server_sessions(cluster) == 0; }));
}

TEST_CASE("threads hammering the pool leave the books balanced and no fds behind",
          "[pool][integration][stress]") {
  PgCluster cluster;
  const int fds_before = open_fd_count();
  {
    PoolOptions o = options(2, 3, 10s);
    Pool pool(params_for(cluster.dsn()), o);
    constexpr int kThreads = 8;
    constexpr int kLeases = 50;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kLeases; ++i) {
          try {
            Lease lease = pool.acquire_blocking();
            if ((i + t) % 5 == 0) query(lease.connection(), "SELECT 1");
            if ((i + t) % 17 == 0) query(lease.connection(), "BEGIN");
          } catch (const std::exception&) {
            ++failures;
          }
        }
      });
    }
    for (auto& th : threads) th.join();
    CHECK(failures == 0);
    const auto s = pool.stats();
    CHECK(s.acquires_total == kThreads * kLeases);
    CHECK(s.in_use == 0);
    CHECK(s.waiting == 0);
    CHECK(static_cast<long>(s.opened_total) - static_cast<long>(s.closed_all()) ==
          s.idle + s.in_use);
    CHECK(s.idle <= o.size);
    CHECK(static_cast<int>(s.opened_total) <=
          o.max_connections() + static_cast<int>(s.closed_all()));
  }
  CHECK(open_fd_count() <= fds_before);
  CHECK(eventually([&] { return server_sessions(cluster) == 0; }));
}
