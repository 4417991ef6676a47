#include <catch2/catch.hpp>

#include "helpers.hpp"
#include "net.hpp"
#include "pg/error.hpp"
#include "pg_cluster.hpp"

using namespace std::chrono_literals;
using pgv::Clock;
using pgv::pg::Error;
using namespace pgv::testing;

TEST_CASE("connect succeeds with a pgvitals session and a statement_timeout", "[pg][integration]") {
  PgCluster cluster;
  pgv::pg::ConnectTiming timing;
  auto conn = connect_blocking(params_for(cluster.dsn(), 1234ms), 5s, &timing);
  REQUIRE(conn.usable());
  CHECK(conn.backend_pid() > 0);
  CHECK(conn.server_version() >= 100000);
  CHECK(timing.total > 0);
  CHECK(timing.total >= timing.tcp + timing.tls);
  CHECK(timing.auth > 0);
  const auto r = query(conn,
                       "SELECT current_setting('application_name'), "
                       "current_setting('statement_timeout')");
  CHECK(r.get(0, 0) == "pgvitals");
  CHECK(r.get(0, 1) == "1234ms");
}

TEST_CASE("a refused port fails fast with reason refused", "[pg][integration]") {
  const int port = free_port();
  const auto start = Clock::now();
  try {
    connect_blocking(params_for("postgresql://u:pw@127.0.0.1:" + std::to_string(port) + "/db"), 5s);
    FAIL("connect to a closed port succeeded");
  } catch (const Error& e) {
    CHECK(e.phase() == pgv::pg::Phase::connect);
    CHECK(e.reason_label() == "refused");
    CHECK_THAT(e.what(), Catch::Contains("Connection refused"));
  }
  CHECK(Clock::now() - start < 500ms);
}

TEST_CASE("a wrong password fails with reason auth and never shows the password",
          "[pg][integration]") {
  PgCluster cluster;
  const std::string canary = "CANARY-wrong-pw-7f3a";
  const std::string dsn = "postgresql://pgvitals:" + canary +
                          "@127.0.0.1:" + std::to_string(cluster.port()) + "/postgres";
  try {
    connect_blocking(params_for(dsn));
    FAIL("a wrong password was accepted");
  } catch (const Error& e) {
    CHECK(e.reason_label() == "auth");
    CHECK(e.sqlstate() == "28P01");
    CHECK_THAT(e.what(), !Catch::Contains(canary));
    CHECK_THAT(e.what(), Catch::Contains("password authentication failed"));
  }
}

TEST_CASE("an unknown database fails with SQLSTATE 3D000", "[pg][integration]") {
  PgCluster cluster;
  try {
    connect_blocking(params_for(cluster.dsn("pgvitals", "no_such_db")));
    FAIL("connected to a database that does not exist");
  } catch (const Error& e) {
    CHECK(e.sqlstate() == "3D000");
    CHECK(e.reason_label() == "sqlstate_3D");
    CHECK_THAT(e.what(), Catch::Contains("no_such_db") && !Catch::Contains("LOCATION"));
    CHECK_THAT(e.what(), !Catch::Contains(cluster.password()));
  }
}

TEST_CASE("a server that accepts and never speaks times out at the deadline", "[pg][integration]") {
  SilentListener silent;
  const auto timeout = 300ms;
  const auto start = Clock::now();
  try {
    connect_blocking(params_for("host=127.0.0.1 port=" + std::to_string(silent.port()) +
                                " user=u password=CANARY-silent sslmode=disable"),
                     timeout);
    FAIL("connected to a silent listener");
  } catch (const Error& e) {
    CHECK(e.reason_label() == "timeout");
    CHECK(e.phase() == pgv::pg::Phase::connect);
    CHECK_THAT(e.what(), !Catch::Contains("CANARY-silent"));
  }
  const auto took = Clock::now() - start;
  CHECK(took >= timeout * 0.8);
  CHECK(took <= timeout * 1.2);
}

TEST_CASE("connection errors never carry the password, whatever the DSN form",
          "[pg][integration][redact]") {
  const std::string canary = "CANARY-9x!y@z";
  const int port = free_port();
  const std::string p = std::to_string(port);
  const std::vector<std::string> forms = {
      "postgresql://u:" + pgv::config::percent_encode(canary) + "@127.0.0.1:" + p + "/db",
      "postgresql+asyncpg://u:" + pgv::config::percent_encode(canary) + "@127.0.0.1:" + p + "/db",
      "host=127.0.0.1 port=" + p + " user=u password='" + canary + "'",
      "postgresql://u@127.0.0.1:" + p + "/db?password=" + pgv::config::percent_encode(canary),
  };
  for (const auto& dsn : forms) {
    INFO(pgv::config::redact(dsn));
    try {
      const auto params = params_for(dsn);
      CHECK_THAT(params.redacted, !Catch::Contains(canary));
      connect_blocking(params);
      FAIL("connected to a closed port");
    } catch (const std::exception& e) {
      CHECK_THAT(e.what(), !Catch::Contains(canary));
      CHECK_THAT(e.what(), !Catch::Contains(pgv::config::percent_encode(canary)));
    }
  }
}
