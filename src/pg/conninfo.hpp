#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "config/dsn.hpp"

namespace pgv::pg {

// What every agent session is started with.
struct SessionSettings {
  std::string application_name = "pgvitals";
  // Server-side backstop for a query whose client-side deadline passed; 0 leaves it unset.
  std::chrono::milliseconds statement_timeout{0};
  // Reached through a connection pooler (or is one): PgBouncer refuses the `options`
  // startup parameter, so no server settings travel with the startup packet; the
  // client-side deadline and a cancel request through the pooler bound a query instead.
  bool through_pooler = false;
};

// Where a target's sessions go, as its DSN (or libpq's environment) names it: the first
// host, its port and the database. For telling which targets reach the same server.
struct Endpoint {
  std::string host;  // empty: libpq's default (a Unix socket)
  int port = 5432;
  std::string dbname;
};

// libpq keywords and values ready for PQconnectStartParams, validated by libpq's own
// parser, plus the secrets that any message about them must not show.
struct ConnectParams {
  std::vector<std::pair<std::string, std::string>> options;
  std::shared_ptr<const config::Secrets> secrets;
  std::string redacted;  // the DSN, safe to print
  // "-c name=value" settings added to the `options` startup parameter unless the target
  // is reached through a pooler.
  std::string server_settings;
  // Set from the start for a pooler, or by connect() the first time a server refuses the
  // `options` startup parameter (a PgBouncer nobody declared); shared by every copy.
  std::shared_ptr<std::atomic<bool>> through_pooler = std::make_shared<std::atomic<bool>>(false);

  Endpoint endpoint() const;
  // The keywords and values for one connection attempt.
  std::vector<std::pair<std::string, std::string>> startup_options() const;
};

// Throws config::ConfigError (message redacted) when libpq rejects the DSN.
ConnectParams make_connect_params(const config::Dsn& dsn, const SessionSettings& session);

}  // namespace pgv::pg
