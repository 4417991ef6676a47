#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "pg/connection.hpp"
#include "pg/result.hpp"
#include "pg_versions.hpp"

namespace pgv::testing {

struct ClusterOptions {
  // Loopback TCP connections must authenticate with SCRAM; the socket stays trusted for
  // the harness's own superuser connections.
  bool password_auth = true;
  int max_connections = 40;
  std::vector<std::string> settings;  // extra "name=value" server settings
  // A fresh CA per cluster (see TestCa), a server certificate for localhost / 127.0.0.1
  // signed by it, ssl=on, and client certificates verified against it. Adds a role
  // `certuser` that logs in over TLS with the client certificate (CN=pgvitals, mapped to
  // certuser by pg_ident) under `cert` auth.
  bool tls = false;
  // Needs `tls`: loopback TCP only as hostssl, plain-TCP connections rejected (28000).
  bool hostssl_only = false;
};

// A throwaway self-signed certificate authority, made with the openssl CLI in its own temp
// directory (removed by the destructor). A cluster's TLS setup uses one; a test makes a
// second one to play the CA that did not sign the server's certificate.
class TestCa {
 public:
  explicit TestCa(const std::string& common_name = "pgvitals test CA");
  ~TestCa();
  TestCa(const TestCa&) = delete;
  TestCa& operator=(const TestCa&) = delete;
  TestCa(TestCa&&) = delete;
  TestCa& operator=(TestCa&&) = delete;

  struct Issued {
    std::string cert;  // PEM, world-readable
    std::string key;   // PEM, unencrypted, mode 0600
  };
  // A leaf certificate signed by this CA, written as <dir>/<name>.crt and <name>.key.
  // `san` is an openssl subjectAltName value such as "DNS:localhost,IP:127.0.0.1";
  // `server` picks the extended key usage (serverAuth, else clientAuth).
  Issued issue(const std::string& name, const std::string& common_name, const std::string& san = "",
               bool server = false) const;

  const std::string& dir() const noexcept { return dir_; }
  const std::string& cert() const noexcept { return cert_; }  // ca.crt, world-readable

 private:
  std::string dir_;
  std::string cert_;
  std::string key_;
};

enum class StopMode { smart, fast, immediate };

// A throwaway PostgreSQL server: data directory copied from an initdb'd template into a
// temp dir, run as the `postgres` user when we are root, on a free loopback port with its
// own socket directory. Torn down by the destructor, and by the kernel (parent-death
// signal) if the test process dies first. Create it on the thread that destroys it.
class PgCluster {
 public:
  explicit PgCluster(ClusterOptions options = {});
  // A streaming hot standby of `primary` (same version, same roles and password), named
  // `application_name` in the primary's pg_stat_replication. Stops and restarts the
  // primary (same port) to copy its data directory.
  static std::unique_ptr<PgCluster> standby_of(PgCluster& primary,
                                               const std::string& application_name = "standby");
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

  // With ClusterOptions::tls (else these throw std::logic_error): the CA that signed the
  // server certificate (CN=localhost, SAN DNS:localhost and IP:127.0.0.1), and a client
  // certificate (CN=pgvitals) with its key (mode 0600), all readable by this process.
  const std::string& ca_cert() const;
  const std::string& client_cert() const;
  const std::string& client_key() const;

  // Runs SQL as the superuser over the socket (blocking, 10 s deadline).
  pg::Result admin(const std::string& sql);
  pg::Connection admin_connection(const std::string& application_name = "pgvitals-test");
  std::string log_tail() const;

  // standby_of's constructor: public for std::make_unique, callable only with a key that
  // only PgCluster can make.
  class StandbyKey {
    friend class PgCluster;
    StandbyKey() = default;
  };
  PgCluster(StandbyKey, const PgCluster& primary, const std::string& application_name);

 private:
  void copy_data_from(const std::string& source);
  void spawn();
  void wait_ready();
  void write_hba() const;
  void setup_tls();
  const TestCa& tls() const;
  std::vector<pid_t> children() const;
  void signal_all(int sig, bool children_first) const;

  ClusterOptions options_;
  std::unique_ptr<TestCa> ca_;
  TestCa::Issued client_;
  std::string dir_;
  std::string password_;
  int port_ = 0;
  pid_t pid_ = -1;
  bool frozen_ = false;
  bool initialised_ = false;
};

// Creates (once, under a lock) the initdb'd template data directory that clusters copy,
// at template_dir() (pg_versions.hpp), of the server pg_bindir() picks.
std::string ensure_template();

}  // namespace pgv::testing
