#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/duration.hpp"

namespace pgv::config {

// One application's connection budget: its own pools' ceiling as its owners declared it
// (SQLAlchemy's pool_size + max_overflow, HikariCP's maximumPoolSize, pgx's MaxConns,
// times its replicas), seen from the server through the sessions it holds.
struct ApplicationBudget {
  std::string name;  // application_name: exact, or a glob with * and ?
  std::string user;  // the database user too, when set
  int max_connections = 0;
  std::string owner;  // exported as the `owner` label, for routing its alerts
  std::optional<Millis> idle_in_transaction_max;

  bool operator==(const ApplicationBudget&) const = default;
};

// Whether `text` matches the glob `pattern` (`*` any run, `?` any one byte, the rest
// literal).
bool glob_match(std::string_view pattern, std::string_view text) noexcept;

}  // namespace pgv::config
