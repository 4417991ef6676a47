#pragma once

#include <string>
#include <string_view>

#include "config/redact.hpp"

namespace pgv::config {

// A target's connection string as the user wrote it, made acceptable to libpq.
struct Dsn {
  std::string conninfo;  // URI or key=value text for libpq; holds the password
  std::string redacted;  // safe to print anywhere
  Secrets secrets;       // everything that must never be printed
  std::string key;       // where it was configured ("targets[0].dsn", "DATABASE_URL"), for errors
};

// Accepts libpq URIs (postgresql://, postgres://), SQLAlchemy-style schemes with a driver
// (postgresql+asyncpg://, postgresql+psycopg2://: the +driver part is dropped, asyncpg's
// ssl=... becomes sslmode=...) and key=value strings. libpq itself validates the rest when
// the target's pool is built. Throws ConfigError with a redacted message.
Dsn parse_dsn(std::string_view text);

}  // namespace pgv::config
