#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "pg_cluster.hpp"

namespace pgv::testing {

struct PgBouncerOptions {
  std::string pool_mode = "transaction";  // session | transaction | statement
  int default_pool_size = 5;
  int max_client_conn = 100;
  // Extra "key = value" lines for [pgbouncer], written after ours (the later line wins).
  std::vector<std::string> settings;
};

// How stop() asks PgBouncer (1.18) to go.
enum class BouncerStop {
  immediate,  // SIGTERM: "fast exit", open transactions are cut
  safe,       // SIGINT: PAUSE + SHUTDOWN, waits for open transactions to finish
};

// A throwaway PgBouncer in front of `server`: a temp dir with its config, auth_file, log
// and pid file, run as the `postgres` user when we are root (PgBouncer refuses root), on a
// free loopback port. Every database name maps to the server (`* = ...`); `pgvitals` and
// `postgres` log in with the cluster's password, and so does `monitor`, a role that exists
// only in PgBouncer (a stats user, like pgvitals; postgres is the admin user). The stock
// ignore_startup_parameters (empty): a client sending `options` is refused (08P01).
// Killed by the kernel (parent-death signal) if the test process dies first. Create it on
// the thread that destroys it; the cluster must outlive it.
class PgBouncer {
 public:
  explicit PgBouncer(PgCluster& server, PgBouncerOptions options = {});
  ~PgBouncer();
  PgBouncer(const PgBouncer&) = delete;
  PgBouncer& operator=(const PgBouncer&) = delete;
  PgBouncer(PgBouncer&&) = delete;
  PgBouncer& operator=(PgBouncer&&) = delete;

  // Starts it (on its previous port after a stop) and waits until the admin console answers.
  void start();
  // Signals it (see BouncerStop), waits up to 10 s, then SIGKILL.
  void stop(BouncerStop how = BouncerStop::immediate);
  // SIGSTOP / SIGCONT: the kernel still completes TCP handshakes, nothing answers.
  void freeze();
  void thaw();
  // `pgbouncer -R`: a new process takes the listening and client sockets over from the old
  // one (through the Unix socket in the temp dir: SUSPEND, SHOW FDS, SHUTDOWN) and the old
  // one exits. Connected clients stay connected; same port, new pid. SUSPEND waits up to
  // suspend_timeout (10 s) for open transactions, and drops clients still waiting for a
  // server connection then.
  void online_restart();

  bool running() const noexcept { return pid_ > 0; }
  int port() const noexcept { return port_; }
  pid_t pid() const noexcept { return pid_; }
  const std::string& dir() const noexcept { return dir_; }

  // postgresql://user:password@127.0.0.1:port/dbname, password = the cluster's password.
  std::string dsn(const std::string& user = "pgvitals",
                  const std::string& dbname = "postgres") const;
  // The admin console (dbname=pgbouncer).
  std::string admin_dsn(const std::string& user = "pgvitals") const;
  // The end of PgBouncer's log file (or of what it printed, before it opened the log).
  std::string log_tail() const;

 private:
  void write_files() const;
  void spawn(bool takeover);
  void wait_ready();
  void kill_and_reap(int sig);

  PgCluster& server_;
  PgBouncerOptions options_;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  bool frozen_ = false;
};

}  // namespace pgv::testing
