#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "async/clock.hpp"
#include "pg/error.hpp"

namespace pgv::probes {

// What the settings probe reads; refreshed every few cycles.
struct ServerSettings {
  int version_num = 0;
  std::string version;
  int max_connections = 0;
  int superuser_reserved_connections = 0;
  int reserved_connections = 0;  // PostgreSQL 16+, else 0
  bool in_recovery = false;
};

// The outcome of one probe run: everything telemetry needs, nothing that talks to the
// database. Immutable once the probe returns.
struct ProbeResult {
  std::string probe;
  bool ok = false;
  Clock::time_point started{};
  double seconds = 0;
  // Time per step (acquire, query, tcp, tls, auth, ...), in the order they ran.
  std::vector<std::pair<std::string, double>> phases;
  std::optional<pg::Error::Details> error;
  std::string error_message;  // redacted

  std::optional<bool> in_recovery;  // connectivity reads the role every cycle
  std::optional<ServerSettings> settings;

  void add_phase(std::string name, double secs) { phases.emplace_back(std::move(name), secs); }
  // SQLSTATE 57P03: the server is starting up (or shutting down), not broken.
  bool server_starting() const noexcept { return error && error->sqlstate == "57P03"; }
};

}  // namespace pgv::probes
