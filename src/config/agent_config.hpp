#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/applications.hpp"
#include "config/dsn.hpp"
#include "config/duration.hpp"
#include "config/incidents.hpp"
#include "config/lag_limit.hpp"
#include "config/probe_catalog.hpp"

namespace pgv::config {

// The pool knobs as the user writes them (SQLAlchemy's names and DESIGN.md's defaults).
// A plain config struct: the scheduler maps it to pool::PoolOptions when it builds a target,
// so config never depends on the pool layer above it.
struct PoolSettings {
  int size = 2;
  int max_overflow = 2;
  Millis timeout{30'000};
  Millis recycle{30 * 60'000};
  bool pre_ping = true;
};

struct TargetConfig {
  std::string name;
  TargetKind kind = TargetKind::postgres;
  Dsn dsn;
  // The `kind: pgbouncer` target this database is reached through: its connections send no
  // startup `options`, and its failures name the hop that failed.
  std::string via;
  std::map<std::string, std::string> labels;  // exported on pgvitals_target_info
  bool required = true;                       // counted by /healthz and /readyz
  Millis interval{5000};
  Millis timeout{2000};
  PoolSettings pool;
  std::vector<std::string> probes;  // enabled probes, in run order
  // A standby further behind fails /readyz's replication check (unset: no check).
  LagLimit max_replication_lag;
  // Connection budgets of the applications it serves: the target's own, then the file's
  // (the first that matches a session counts it).
  std::vector<ApplicationBudget> applications;
};

struct ListenConfig {
  std::string host = "0.0.0.0";
  int port = 9188;
};

struct TlsConfig {
  std::string cert_file;  // both set: serve HTTPS
  std::string key_file;
};

struct AuthConfig {
  std::string basic_user;  // basic auth when user and password are set
  std::string basic_password;
  std::string bearer_token;     // bearer auth when set
  bool protect_health = false;  // also require auth on /healthz, /readyz, /livez, role checks
};

struct HttpLimits {
  Millis read_timeout{5000};
  Millis write_timeout{5000};
  Millis keep_alive_timeout{1000};
  int threads = 1;
  std::size_t max_request_bytes = 8192;
  int max_connections = 1024;  // beyond it, the longest-waiting idle connection is dropped
};

// Variable name -> value, as load_config reads the environment.
using Environment = std::map<std::string, std::string>;

struct ShardConfig {
  int index = 0;
  int count = 1;
  // `index: auto` in the file: load_config sets `index` from PGVITALS_SHARD_INDEX or from
  // the ordinal at the end of the host name (a StatefulSet pod's).
  bool index_auto = false;
  std::string index_from = "shard.index";  // where the index came from, for the logs
};

struct AgentConfig {
  ListenConfig listen;
  TlsConfig tls;
  AuthConfig auth;
  HttpLimits http;
  std::string log_format = "text";  // text | json
  std::string log_level = "info";   // trace | debug | info | warn | error | off
  bool echo_sql = false;            // log every probe statement at debug level
  Millis interval{5000};            // defaults for targets that do not set their own
  Millis timeout{2000};
  int settings_every = 12;  // the settings probe runs every N cycles
  int workers = 0;          // event-loop threads; 0 = one per core, at most 4
  std::size_t failure_ring = 256;
  int activity_top_n = 20;
  bool expose_query_text = false;
  // An undeclared application whose session count sits flat at its recent maximum this
  // long, busy, is flagged as at a plateau (a full client pool).
  Millis plateau_for{60'000};
  ShardConfig shard;
  IncidentsConfig incidents;
  std::vector<TargetConfig> targets;
};

// Command-line flags shared by `run` and `check`; unset ones leave lower layers alone.
struct FlagOverrides {
  std::optional<std::string> config_file;
  std::optional<std::string> listen;  // HOST:PORT
  std::optional<std::string> interval;
  std::optional<std::string> timeout;
  std::optional<std::string> log_format;
  std::optional<std::string> log_level;
};

}  // namespace pgv::config
