#pragma once

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
};

// libpq keywords and values ready for PQconnectStartParams, validated by libpq's own
// parser, plus the secrets that any message about them must not show.
struct ConnectParams {
  std::vector<std::pair<std::string, std::string>> options;
  std::shared_ptr<const config::Secrets> secrets;
  std::string redacted;  // the DSN, safe to print
};

// Throws config::ConfigError (message redacted) when libpq rejects the DSN.
ConnectParams make_connect_params(const config::Dsn& dsn, const SessionSettings& session);

}  // namespace pgv::pg
