#include <libpq-fe.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "pgbouncer.hpp"

using namespace std::chrono_literals;
using namespace pgv::testing;

namespace {

using Conn = std::unique_ptr<PGconn, decltype(&PQfinish)>;
using Res = std::unique_ptr<PGresult, decltype(&PQclear)>;

// Blocking libpq connect; `extra` is appended to the URI's query string.
Conn connect(const std::string& dsn, const std::string& extra = "connect_timeout=5") {
  return Conn(PQconnectdb((dsn + "?" + extra).c_str()), &PQfinish);
}

Res exec(const Conn& conn, const std::string& sql) {
  return Res(PQexec(conn.get(), sql.c_str()), &PQclear);
}

// The first cell of `sql`, or the error message.
std::string scalar(const Conn& conn, const std::string& sql) {
  const Res r = exec(conn, sql);
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) return PQresultErrorMessage(r.get());
  return PQgetvalue(r.get(), 0, 0);
}

int column_of(const PGresult* r, const char* name) {
  return PQfnumber(r, name);
}

}  // namespace

TEST_CASE("pgbouncer harness: SELECT 1 in transaction mode without the options parameter",
          "[pgbouncer][integration]") {
  PgCluster cluster;
  PgBouncer bouncer(cluster);
  const Conn conn = connect(bouncer.dsn());
  REQUIRE(PQstatus(conn.get()) == CONNECTION_OK);
  CHECK(scalar(conn, "SELECT 1") == "1");
  CHECK(PQserverVersion(conn.get()) >= 130000);

  // A stock PgBouncer refuses the `options` startup parameter before authentication.
  const Conn with_options = connect(bouncer.dsn(), "options=-c%20statement_timeout%3D2000");
  CHECK(PQstatus(with_options.get()) == CONNECTION_BAD);
  CHECK_THAT(PQerrorMessage(with_options.get()),
             Catch::Contains("unsupported startup parameter: options"));
}

TEST_CASE("pgbouncer harness: the admin console answers SHOW POOLS as monitor",
          "[pgbouncer][integration]") {
  PgCluster cluster;
  PgBouncerOptions options;
  options.default_pool_size = 2;
  PgBouncer bouncer(cluster, options);
  const Conn client = connect(bouncer.dsn());
  REQUIRE(scalar(client, "SELECT 1") == "1");

  const Conn admin = connect(bouncer.admin_dsn("monitor"));
  REQUIRE(PQstatus(admin.get()) == CONNECTION_OK);
  CHECK_THAT(PQparameterStatus(admin.get(), "server_version"), Catch::EndsWith("/bouncer"));
  const Res pools = exec(admin, "SHOW POOLS");
  REQUIRE(PQresultStatus(pools.get()) == PGRES_TUPLES_OK);
  const int db = column_of(pools.get(), "database");
  const int user = column_of(pools.get(), "user");
  const int mode = column_of(pools.get(), "pool_mode");
  REQUIRE((db >= 0 && user >= 0 && mode >= 0));
  bool found = false;
  for (int row = 0; row < PQntuples(pools.get()); ++row) {
    if (std::string(PQgetvalue(pools.get(), row, db)) == "postgres" &&
        std::string(PQgetvalue(pools.get(), row, user)) == "pgvitals") {
      found = true;
      CHECK(std::string(PQgetvalue(pools.get(), row, mode)) == "transaction");
    }
  }
  CHECK(found);
  // Not SQL: the console knows only its own commands.
  const Res select = exec(admin, "SELECT 1");
  CHECK(PQresultStatus(select.get()) == PGRES_FATAL_ERROR);
}

TEST_CASE("pgbouncer harness: freeze and thaw, stop and start, online restart",
          "[pgbouncer][integration]") {
  PgCluster cluster;
  PgBouncer bouncer(cluster);
  const int port = bouncer.port();

  bouncer.freeze();
  const auto before = std::chrono::steady_clock::now();
  CHECK(PQstatus(connect(bouncer.dsn(), "connect_timeout=2").get()) == CONNECTION_BAD);
  CHECK(std::chrono::steady_clock::now() - before >= 1500ms);  // it hung, it was not refused
  bouncer.thaw();
  CHECK(scalar(connect(bouncer.dsn()), "SELECT 1") == "1");

  bouncer.stop();
  CHECK_FALSE(bouncer.running());
  const Conn refused = connect(bouncer.dsn());
  CHECK(PQstatus(refused.get()) == CONNECTION_BAD);
  CHECK_THAT(PQerrorMessage(refused.get()), Catch::Contains("refused"));
  bouncer.start();
  CHECK(bouncer.port() == port);
  CHECK(scalar(connect(bouncer.dsn()), "SELECT 1") == "1");

  // An idle client keeps its connection across the takeover.
  const Conn idle = connect(bouncer.dsn());
  REQUIRE(scalar(idle, "SELECT 1") == "1");
  const pid_t old_pid = bouncer.pid();
  bouncer.online_restart();
  CHECK(bouncer.pid() != old_pid);
  CHECK(bouncer.port() == port);
  CHECK(scalar(idle, "SELECT 2") == "2");
  CHECK_THAT(scalar(connect(bouncer.admin_dsn("monitor")), "SHOW VERSION"),
             Catch::StartsWith("PgBouncer "));
}
