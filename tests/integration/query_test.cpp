#include <catch2/catch.hpp>

#include "helpers.hpp"
#include "pg/cancel.hpp"
#include "pg/error.hpp"
#include "pg_cluster.hpp"

using namespace std::chrono_literals;
using pgv::Clock;
using pgv::pg::Error;
using namespace pgv::testing;

TEST_CASE("a query returns its rows", "[pg][integration]") {
  PgCluster cluster;
  auto conn = connect_blocking(params_for(cluster.dsn()));
  const auto r = query(conn, "SELECT g, NULL::text FROM generate_series(1, 3) g");
  REQUIRE(r.rows() == 3);
  CHECK(r.columns() == 2);
  CHECK(r.get(2, 0) == "3");
  CHECK(r.is_null(0, 1));
  CHECK(r.column("g") == 0);
  CHECK(r.column("nope") == -1);
}

TEST_CASE("an SQL error carries its SQLSTATE and leaves the connection usable",
          "[pg][integration]") {
  PgCluster cluster;
  auto conn = connect_blocking(params_for(cluster.dsn()));
  try {
    query(conn, "SELECT * FROM no_such_table");
    FAIL("query on a missing table succeeded");
  } catch (const Error& e) {
    CHECK(e.sqlstate() == "42P01");
    CHECK(e.reason_label() == "sqlstate_42");
    CHECK(e.connection_usable());
    CHECK(e.backend_pid() == conn.backend_pid());
  }
  CHECK(query(conn, "SELECT 1").get(0, 0) == "1");
}

TEST_CASE("a query past its deadline times out and is cancelled on the server",
          "[pg][integration]") {
  PgCluster cluster;
  auto conn = connect_blocking(params_for(cluster.dsn()));
  const int pid = conn.backend_pid();
  const auto start = Clock::now();
  try {
    query(conn, "SELECT pg_sleep(10)", 200ms);
    FAIL("pg_sleep(10) finished inside 200 ms");
  } catch (const Error& e) {
    CHECK(e.reason_label() == "timeout");
    CHECK(e.phase() == pgv::pg::Phase::query);
    CHECK(e.backend_pid() == pid);
    CHECK_FALSE(e.connection_usable());
  }
  const auto took = Clock::now() - start;
  CHECK(took >= 200ms);
  CHECK(took < 350ms);
  CHECK_FALSE(conn.usable());
  // The cancel reaches the backend: it stops running pg_sleep well before its 10 s.
  const bool stopped = eventually(
      [&] {
        const auto r = cluster.admin("SELECT count(*) FROM pg_stat_activity WHERE pid = " +
                                     std::to_string(pid) + " AND state = 'active'");
        return r.get(0, 0) == "0";
      },
      3s);
  CHECK(stopped);
  CHECK(eventually([] { return pgv::pg::cancels_in_flight() == 0; }, 3s));
}

TEST_CASE("the server's statement_timeout is reported as a timeout", "[pg][integration]") {
  PgCluster cluster;
  auto conn = connect_blocking(params_for(cluster.dsn(), 100ms));
  try {
    query(conn, "SELECT pg_sleep(5)", 5s);
    FAIL("statement_timeout did not fire");
  } catch (const Error& e) {
    CHECK(e.sqlstate() == "57014");
    CHECK(e.reason_label() == "timeout");
    CHECK(e.connection_usable());
  }
}

TEST_CASE("a terminated backend is reported as shutdown and the connection unusable",
          "[pg][integration]") {
  PgCluster cluster;
  auto conn = connect_blocking(params_for(cluster.dsn()));
  cluster.admin("SELECT pg_terminate_backend(" + std::to_string(conn.backend_pid()) + ")");
  // The backend may need a moment to exit; the next query must fail either way.
  REQUIRE(eventually([&] {
    return cluster
               .admin("SELECT count(*) FROM pg_stat_activity WHERE pid = " +
                      std::to_string(conn.backend_pid()))
               .get(0, 0) == "0";
  }));
  try {
    query(conn, "SELECT 1");
    FAIL("query on a terminated backend succeeded");
  } catch (const Error& e) {
    CHECK(e.reason_label() == "shutdown");
    CHECK_FALSE(e.connection_usable());
  }
}
