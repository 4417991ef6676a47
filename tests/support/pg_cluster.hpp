#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "pg/connection.hpp"
#include "pg/result.hpp"

namespace pgv::testing {

struct ClusterOptions {
  // Loopback TCP connections must authenticate with SCRAM; the socket stays trusted for
  // the harness's own superuser connections.
  bool password_auth = true;
  int max_connections = 40;
  std::vector<std::string> settings;  // extra "name=value" server settings
};

enum class StopMode { smart, fast, immediate };

// A throwaway PostgreSQL server: data directory copied from an initdb'd template into a
// temp dir, run as the `postgres` user when we are root, on a free loopback port with its
// own socket directory. Torn down by the destructor, and by the kernel (parent-death
// signal) if the test process dies first. Create it on the thread that destroys it.
class PgCluster {
 public:
  explicit PgCluster(ClusterOptions options = {});
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;
  PgCluster(PgCluster&&) = delete;
  PgCluster& operator=(PgCluster&&) = delete;

  void start();
  void stop(StopMode mode = StopMode::fast);
  void restart() {
    stop();
    start();
  }
  // SIGSTOP / SIGCONT on the postmaster and every backend: the server hangs, the
  // kernel still accepts TCP connections.
  void freeze();
  void thaw();
  // SIGKILL of the postmaster alone, then waits for its orphaned backends to go.
  void kill_postmaster();

  bool running() const noexcept { return pid_ > 0; }
  pid_t postmaster_pid() const noexcept { return pid_; }
  int port() const noexcept { return port_; }
  const std::string& data_dir() const noexcept { return dir_; }
  // The password of both the `pgvitals` role (pg_monitor) and the `postgres` superuser.
  const std::string& password() const noexcept { return password_; }

  // postgresql://user:password@127.0.0.1:port/dbname
  std::string dsn(const std::string& user = "pgvitals",
                  const std::string& dbname = "postgres") const;
  // key=value DSN over the Unix socket as the superuser, no password needed.
  std::string admin_dsn(const std::string& dbname = "postgres") const;

  // Runs SQL as the superuser over the socket (blocking, 10 s deadline).
  pg::Result admin(const std::string& sql);
  pg::Connection admin_connection(const std::string& application_name = "pgvitals-test");
  std::string log_tail() const;

 private:
  void spawn();
  void wait_ready();
  void write_hba() const;
  std::vector<pid_t> children() const;
  void signal_all(int sig, bool children_first) const;

  ClusterOptions options_;
  std::string dir_;
  std::string password_;
  int port_ = 0;
  pid_t pid_ = -1;
  bool frozen_ = false;
  bool initialised_ = false;
};

// Creates (once, under a lock) the initdb'd template data directory that clusters copy.
// Its path comes from PGVITALS_PG_TEMPLATE, else a per-user directory under /tmp.
std::string ensure_template();
// Where PostgreSQL's server binaries are (initdb, postgres).
std::string pg_bindir();

}  // namespace pgv::testing
