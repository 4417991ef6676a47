#include "config/dsn.hpp"

#include <catch2/catch.hpp>

#include "config/error.hpp"

using pgv::config::ConfigError;
using pgv::config::parse_dsn;

TEST_CASE("SQLAlchemy driver schemes are accepted and the driver dropped", "[dsn]") {
  CHECK(parse_dsn("postgresql+asyncpg://u:pw1@h:5432/db").conninfo ==
        "postgresql://u:pw1@h:5432/db");
  CHECK(parse_dsn("postgresql+psycopg2://u@h/db").conninfo == "postgresql://u@h/db");
  CHECK(parse_dsn("postgres://u@h/db").conninfo == "postgresql://u@h/db");
  CHECK(parse_dsn("POSTGRESQL://u@h/db").conninfo == "postgresql://u@h/db");
}

TEST_CASE("asyncpg's ssl= parameter becomes libpq's sslmode=", "[dsn]") {
  CHECK(parse_dsn("postgresql+asyncpg://u@h/db?ssl=require").conninfo ==
        "postgresql://u@h/db?sslmode=require");
  CHECK(parse_dsn("postgresql+asyncpg://u@h/db?ssl=true&connect_timeout=3").conninfo ==
        "postgresql://u@h/db?sslmode=require&connect_timeout=3");
  CHECK(parse_dsn("postgresql://u@h/db?ssl=false").conninfo ==
        "postgresql://u@h/db?sslmode=disable");
  CHECK_THROWS_WITH(parse_dsn("postgresql://u@h/db?ssl=maybe"),
                    Catch::Contains("ssl=maybe") && Catch::Contains("verify-full"));
}

TEST_CASE("key=value DSNs pass through unchanged", "[dsn]") {
  const auto dsn = parse_dsn("  host=/run/postgresql dbname=app password=CANARY ");
  CHECK(dsn.conninfo == "host=/run/postgresql dbname=app password=CANARY");
  CHECK(dsn.redacted == "host=/run/postgresql dbname=app password=***");
}

TEST_CASE("the redacted form of a DSN never carries the password", "[dsn]") {
  const auto dsn = parse_dsn("postgresql+asyncpg://app:CANARY-x@h/db?password=CANARY-y");
  CHECK(dsn.redacted.find("CANARY") == std::string::npos);
  CHECK(dsn.conninfo.find("CANARY-x") != std::string::npos);  // libpq still needs it
}

TEST_CASE("bad DSNs are rejected with a message that names what is allowed", "[dsn]") {
  CHECK_THROWS_AS(parse_dsn(""), ConfigError);
  CHECK_THROWS_WITH(parse_dsn("   "), Catch::Contains("empty"));
  CHECK_THROWS_WITH(parse_dsn("mysql://u:CANARY@h/db"), Catch::Contains("mysql") &&
                                                            Catch::Contains("postgresql://") &&
                                                            !Catch::Contains("CANARY"));
}
