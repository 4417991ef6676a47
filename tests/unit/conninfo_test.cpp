#include "pg/conninfo.hpp"

#include <stdlib.h>

#include <catch2/catch.hpp>

#include "config/dsn.hpp"
#include "config/error.hpp"

using pgv::config::parse_dsn;
using pgv::pg::make_connect_params;

namespace {
std::string option(const pgv::pg::ConnectParams& p, const std::string& key) {
  for (const auto& [k, v] : p.startup_options()) {
    if (k == key) return v;
  }
  return "<unset>";
}
}  // namespace

TEST_CASE("sessions are named pgvitals and carry a statement_timeout", "[conninfo]") {
  pgv::pg::SessionSettings session;
  session.statement_timeout = std::chrono::milliseconds(1500);
  const auto p = make_connect_params(parse_dsn("postgresql://u@h:5433/db"), session);
  CHECK(option(p, "fallback_application_name") == "pgvitals");
  CHECK(option(p, "options") == "-c statement_timeout=1500");
  CHECK(option(p, "host") == "h");
  CHECK(option(p, "port") == "5433");
}

TEST_CASE("a DSN's own application_name and options are kept", "[conninfo]") {
  pgv::pg::SessionSettings session;
  session.statement_timeout = std::chrono::milliseconds(200);
  const auto p = make_connect_params(
      parse_dsn("host=h application_name=mine options='-c search_path=x'"), session);
  CHECK(option(p, "application_name") == "mine");
  CHECK(option(p, "fallback_application_name") == "<unset>");
  CHECK(option(p, "options") == "-c search_path=x -c statement_timeout=200");
}

TEST_CASE("through a pooler, sessions send no options startup parameter", "[conninfo]") {
  pgv::pg::SessionSettings session;
  session.statement_timeout = std::chrono::milliseconds(1500);
  session.through_pooler = true;
  const auto declared = make_connect_params(parse_dsn("postgresql://u@h:6432/db"), session);
  CHECK(option(declared, "options") == "<unset>");
  CHECK(option(declared, "fallback_application_name") == "pgvitals");
  // A DSN's own options are the user's to keep, pooler or not.
  const auto own = make_connect_params(parse_dsn("host=h options='-c search_path=x'"), session);
  CHECK(option(own, "options") == "-c search_path=x");

  // A pooler found out at connect time: every copy of the params stops sending them.
  session.through_pooler = false;
  const auto found = make_connect_params(parse_dsn("postgresql://u@h:6432/db"), session);
  const auto copy = found;
  CHECK(option(copy, "options") == "-c statement_timeout=1500");
  found.through_pooler->store(true);
  CHECK(option(copy, "options") == "<unset>");
}

TEST_CASE("libpq's rejection of a DSN is a ConfigError without the password", "[conninfo]") {
  CHECK_THROWS_AS(make_connect_params(parse_dsn("host=h password=CANARY1 bogus"), {}),
                  pgv::config::ConfigError);
  CHECK_THROWS_WITH(make_connect_params(parse_dsn("host=h password=CANARY1 CANARY1"), {}),
                    !Catch::Contains("CANARY1") && Catch::Contains("libpq rejected"));
  CHECK_THROWS_WITH(make_connect_params(parse_dsn("postgresql://u:CANARY2@h/db?nosuch=1"), {}),
                    !Catch::Contains("CANARY2") && Catch::Contains("nosuch"));
}

TEST_CASE("PGPASSWORD from the environment joins the secrets", "[conninfo]") {
  ::setenv("PGPASSWORD", "CANARY-env", 1);
  const auto p = make_connect_params(parse_dsn("host=h"), {});
  ::unsetenv("PGPASSWORD");
  CHECK(p.secrets->scrub("oops CANARY-env") == "oops ***");
}
