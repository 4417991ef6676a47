#include "pg_cluster.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include "async/blocking.hpp"
#include "net.hpp"
#include "pg/connect.hpp"
#include "pg/conninfo.hpp"
#include "pg/query.hpp"
#include "pg_versions.hpp"
#include "process.hpp"

namespace fs = std::filesystem;

namespace pgv::testing {
namespace {

constexpr const char* kServerUser = "postgres";

std::string random_password() {
  static constexpr char kAlphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::random_device rd;
  std::string out = "pw-";
  for (int i = 0; i < 20; ++i) out.push_back(kAlphabet[rd() % (sizeof kAlphabet - 1)]);
  return out;
}

void chown_to_server_user(const std::string& path) {
  if (!is_root()) return;
  const passwd* pw = ::getpwnam(kServerUser);
  if (pw == nullptr) throw std::runtime_error("user 'postgres' missing: run scripts/install-deps");
  if (::chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    throw std::runtime_error("chown " + path + " failed");
  }
}

std::string quote_literal(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

pid_t parent_pid_of(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // Field 4, after the parenthesised command name (which may contain spaces).
  const auto close = content.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(content.substr(close + 2));
  std::string state;
  pid_t ppid = -1;
  rest >> state >> ppid;
  return ppid;
}

// `openssl req` arguments plus a fresh unencrypted P-256 key written to `key_path` and the
// subject CN. P-256, not RSA: RSA key generation would cost a noticeable part of every test.
std::vector<std::string> with_new_key(std::vector<std::string> req_args,
                                      const std::string& key_path, const std::string& cn) {
  req_args.insert(req_args.end(), {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                   "-nodes", "-keyout", key_path, "-subj", "/CN=" + cn});
  return req_args;
}

}  // namespace

TestCa::TestCa(const std::string& common_name) {
  char pattern[] = "/tmp/pgvitals-ca-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  // Certificates readable by anyone (an agent under another user, say); keys are 0600.
  ::chmod(dir_.c_str(), 0755);
  cert_ = dir_ + "/ca.crt";
  key_ = dir_ + "/ca.key";
  try {
    run_command(with_new_key(
        {"openssl", "req", "-x509", "-new", "-days", "2", "-out", cert_, "-addext",
         "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"},
        key_, common_name));
    ::chmod(key_.c_str(), 0600);
    ::chmod(cert_.c_str(), 0644);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    throw;
  }
}

TestCa::~TestCa() {
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

TestCa::Issued TestCa::issue(const std::string& name, const std::string& common_name,
                             const std::string& san, bool server) const {
  const std::string base = dir_ + "/" + name;
  Issued out{base + ".crt", base + ".key"};
  const std::string csr = base + ".csr";
  const std::string ext = base + ".ext";
  {
    std::ofstream f(ext, std::ios::trunc);
    f << "basicConstraints=CA:FALSE\n"
      << "extendedKeyUsage=" << (server ? "serverAuth" : "clientAuth") << "\n";
    if (!san.empty()) f << "subjectAltName=" << san << "\n";
  }
  run_command(with_new_key({"openssl", "req", "-new", "-out", csr}, out.key, common_name));
  run_command({"openssl", "x509", "-req", "-in", csr, "-CA", cert_, "-CAkey", key_,
               "-CAcreateserial", "-CAserial", dir_ + "/ca.srl", "-out", out.cert, "-days", "2",
               "-extfile", ext});
  ::unlink(csr.c_str());
  ::unlink(ext.c_str());
  // libpq refuses a client key that group or others may read.
  ::chmod(out.key.c_str(), 0600);
  ::chmod(out.cert.c_str(), 0644);
  return out;
}

namespace {

// A template left by another server version (PGVITALS_PG_BINDIR changed, say) would not
// start: say so rather than fail in postgres' log.
std::string checked_template(const std::string& dir) {
  std::ifstream in(fs::path(dir) / "PG_VERSION");
  int found = 0;
  in >> found;
  if (found != server_major()) {
    throw std::runtime_error("template " + dir + " is PostgreSQL " + std::to_string(found) +
                             ", the server is " + std::to_string(server_major()) +
                             ": remove the template");
  }
  return dir;
}

}  // namespace

std::string ensure_template() {
  const std::string dir = template_dir();
  if (fs::exists(fs::path(dir) / "PG_VERSION")) return checked_template(dir);

  const std::string lock_path = dir + ".lock";
  const int lock_fd = ::open(lock_path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (lock_fd < 0) throw std::runtime_error("cannot open " + lock_path);
  ::flock(lock_fd, LOCK_EX);
  try {
    if (!fs::exists(fs::path(dir) / "PG_VERSION")) {
      const std::string staging = dir + ".staging";
      fs::remove_all(staging);
      fs::create_directories(staging);
      chown_to_server_user(staging);
      std::vector<std::string> initdb = {pg_bindir() + "/initdb",
                                         "-D",
                                         staging,
                                         "--no-sync",
                                         "-A",
                                         "trust",
                                         "-U",
                                         "postgres",
                                         "-E",
                                         "UTF8",
                                         "--locale=C"};
      // Only quieter; 13's initdb does not know it.
      if (server_major() >= 14) initdb.emplace_back("--no-instructions");
      run_command(initdb, kServerUser);
      fs::remove_all(dir);
      fs::rename(staging, dir);
    }
  } catch (...) {
    ::flock(lock_fd, LOCK_UN);
    ::close(lock_fd);
    throw;
  }
  ::flock(lock_fd, LOCK_UN);
  ::close(lock_fd);
  return checked_template(dir);
}

PgCluster::PgCluster(ClusterOptions options)
    : options_(std::move(options)), password_(random_password()) {
  if (options_.hostssl_only && !options_.tls) {
    throw std::invalid_argument("ClusterOptions: hostssl_only needs tls");
  }
  copy_data_from(ensure_template());
  if (options_.tls) setup_tls();
  write_hba();
  start();
}

PgCluster::PgCluster(StandbyKey, const PgCluster& primary, const std::string& application_name)
    : options_(primary.options_), password_(primary.password_), initialised_(true) {
  // The primary's TLS files come along in the copy; a standby serves plain connections.
  options_.tls = false;
  options_.hostssl_only = false;
  copy_data_from(primary.dir_);
  write_hba();
  std::ofstream(dir_ + "/standby.signal").close();
  std::ofstream conf(dir_ + "/postgresql.auto.conf", std::ios::app);
  // Over the primary's socket as the superuser, trusted there: no password in the file.
  conf << "primary_conninfo = 'host=" << primary.dir_ << " port=" << primary.port_
       << " user=postgres application_name=" << application_name << "'\n";
  conf.close();
  chown_to_server_user(dir_ + "/standby.signal");
  start();
}

std::unique_ptr<PgCluster> PgCluster::standby_of(PgCluster& primary,
                                                 const std::string& application_name) {
  // A copy of a cleanly stopped primary is consistent without a base backup, which the
  // matrix's server packages do not ship (and Debian's pg_basebackup 15 refuses newer
  // servers). The primary comes back on its own port.
  const bool was_running = primary.running();
  primary.stop();
  std::unique_ptr<PgCluster> standby;
  try {
    standby = std::make_unique<PgCluster>(StandbyKey{}, primary, application_name);
  } catch (...) {
    if (was_running) primary.start();
    throw;
  }
  if (was_running) primary.start();
  return standby;
}

void PgCluster::copy_data_from(const std::string& source) {
  char pattern[] = "/tmp/pgvitals-pg-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  chown_to_server_user(dir_);
  // cp -a keeps every file's owner: postgres' data files, and the server log our own
  // process opened (which postgres could not read to copy).
  run_command({"cp", "-a", source + "/.", dir_ + "/"});
  ::chmod(dir_.c_str(), 0700);
}

void PgCluster::setup_tls() {
  ca_ = std::make_unique<TestCa>();
  const TestCa::Issued server = ca_->issue("server", "localhost", "DNS:localhost,IP:127.0.0.1",
                                           /*server=*/true);
  client_ = ca_->issue("client", "pgvitals");
  // The server insists that its key belongs to it and is 0600; it reads all three as
  // the postgres user, which cannot enter the CA's directory.
  const std::pair<std::string, std::string> copies[] = {
      {server.cert, "server.crt"}, {server.key, "server.key"}, {ca_->cert(), "root.crt"}};
  for (const auto& [from, name] : copies) {
    const std::string to = dir_ + "/" + name;
    fs::copy_file(from, to, fs::copy_options::overwrite_existing);
    chown_to_server_user(to);
    ::chmod(to.c_str(), 0600);
  }
}

const TestCa& PgCluster::tls() const {
  if (!ca_) throw std::logic_error("PgCluster: TLS files need ClusterOptions::tls");
  return *ca_;
}

const std::string& PgCluster::ca_cert() const {
  return tls().cert();
}

const std::string& PgCluster::client_cert() const {
  tls();
  return client_.cert;
}

const std::string& PgCluster::client_key() const {
  tls();
  return client_.key;
}

PgCluster::~PgCluster() {
  if (pid_ > 0) {
    if (frozen_) thaw();
    ::kill(pid_, SIGQUIT);
    if (!wait_for_exit(pid_, std::chrono::seconds(10))) {
      ::kill(pid_, SIGKILL);
      wait_for_exit(pid_, std::chrono::seconds(5));
    }
    pid_ = -1;
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void PgCluster::write_hba() const {
  const std::string method = options_.password_auth ? "scram-sha-256" : "trust";
  std::ofstream hba(dir_ + "/pg_hba.conf", std::ios::trunc);
  // Replication over the socket, trusted like the superuser's own connections: standbys
  // (standby_of) stream from it.
  hba << "local all all trust\n"
      << "local replication all trust\n";
  if (options_.tls) {
    // The client certificate says CN=pgvitals; pg_ident lets that name log in as certuser.
    hba << "hostssl all certuser 127.0.0.1/32 cert map=client_cert\n";
    std::ofstream ident(dir_ + "/pg_ident.conf", std::ios::trunc);
    ident << "client_cert pgvitals certuser\n";
  }
  const std::string type = options_.hostssl_only ? "hostssl" : "host";
  hba << type << " all all 127.0.0.1/32 " << method << "\n"
      << type << " all all ::1/128 " << method << "\n";
  if (options_.hostssl_only) {
    hba << "hostnossl all all 127.0.0.1/32 reject\n"
        << "hostnossl all all ::1/128 reject\n";
  }
}

void PgCluster::spawn() {
  std::vector<std::string> args = {
      pg_bindir() + "/postgres", "-D", dir_, "-c", "port=" + std::to_string(port_), "-c",
      "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" + dir_, "-c",
      "max_connections=" + std::to_string(options_.max_connections), "-c", "fsync=off", "-c",
      "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "shared_buffers=16MB", "-c",
      "log_min_messages=warning",
      // 13 still defaults to md5; the loopback rule wants SCRAM.
      "-c", "password_encryption=scram-sha-256"};
  if (options_.tls) {
    args.insert(args.end(), {"-c", "ssl=on", "-c", "ssl_cert_file=" + dir_ + "/server.crt", "-c",
                             "ssl_key_file=" + dir_ + "/server.key", "-c",
                             "ssl_ca_file=" + dir_ + "/root.crt"});
  }
  for (const auto& s : options_.settings) {
    args.push_back("-c");
    args.push_back(s);
  }
  const std::string log_path = dir_ + "/server.log";
  // If the test process dies, so does the server: nothing outlives a crashed test.
  const pid_t pid = spawn_server(args, kServerUser, log_path, 0600, SIGQUIT);
  pid_ = pid;
}

void PgCluster::start() {
  if (pid_ > 0) return;
  for (int attempt = 0;; ++attempt) {
    // A restart keeps its port: the agent under test holds a DSN naming it, and a server
    // that came back elsewhere would look like an outage that never ends.
    if (port_ == 0 || (attempt > 0 && !initialised_)) port_ = free_port();
    spawn();
    try {
      wait_ready();
      break;
    } catch (const std::exception& e) {
      // Most likely another test grabbed the port between our probe and the bind.
      if (pid_ > 0) {
        ::kill(pid_, SIGQUIT);
        wait_for_exit(pid_, std::chrono::seconds(5));
        pid_ = -1;
      }
      if (attempt >= 4) throw;
      std::cerr << "postgres start attempt " << attempt + 1 << " on port " << port_
                << " failed, retrying: " << e.what() << "\n";
      if (initialised_) std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
  if (!initialised_) {
    // synchronous_commit is off for speed; these roles must survive a crash test's
    // immediate shutdown, which would lose a commit the WAL writer has not flushed yet.
    admin("SET synchronous_commit = on; CREATE ROLE pgvitals LOGIN PASSWORD " +
          quote_literal(password_) + " IN ROLE pg_monitor; ALTER ROLE postgres PASSWORD " +
          quote_literal(password_) + (options_.tls ? "; CREATE ROLE certuser LOGIN" : ""));
    initialised_ = true;
  }
}

void PgCluster::wait_ready() {
  const auto until = Clock::now() + std::chrono::seconds(30);
  const std::string socket = dir_ + "/.s.PGSQL." + std::to_string(port_);
  while (Clock::now() < until) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("postgres exited during start-up:\n" + log_tail());
    }
    if (fs::exists(socket)) {
      try {
        admin("SELECT 1");
        return;
      } catch (const std::exception&) {
        // still starting up (57P03)
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("postgres did not accept connections within 30 s:\n" + log_tail());
}

void PgCluster::stop(StopMode mode) {
  if (pid_ <= 0) return;
  if (frozen_) thaw();
  const int sig = mode == StopMode::smart ? SIGTERM : mode == StopMode::fast ? SIGINT : SIGQUIT;
  ::kill(pid_, sig);
  if (!wait_for_exit(pid_, std::chrono::seconds(30))) {
    ::kill(pid_, SIGKILL);
    wait_for_exit(pid_, std::chrono::seconds(5));
  }
  pid_ = -1;
}

std::vector<pid_t> PgCluster::children() const {
  std::vector<pid_t> out;
  if (DIR* d = ::opendir("/proc")) {
    while (dirent* e = ::readdir(d)) {
      const pid_t p = static_cast<pid_t>(std::atoi(e->d_name));
      if (p > 0 && parent_pid_of(p) == pid_) out.push_back(p);
    }
    ::closedir(d);
  }
  return out;
}

void PgCluster::signal_all(int sig, bool children_first) const {
  const std::vector<pid_t> kids = children();
  if (!children_first) ::kill(pid_, sig);
  for (pid_t k : kids) ::kill(k, sig);
  if (children_first) ::kill(pid_, sig);
}

void PgCluster::freeze() {
  if (pid_ <= 0 || frozen_) return;
  // Postmaster first, so it cannot fork a backend we would miss.
  signal_all(SIGSTOP, false);
  frozen_ = true;
}

void PgCluster::thaw() {
  if (pid_ <= 0 || !frozen_) return;
  signal_all(SIGCONT, true);
  frozen_ = false;
}

void PgCluster::kill_postmaster() {
  if (pid_ <= 0) return;
  if (frozen_) thaw();
  const std::vector<pid_t> kids = children();
  ::kill(pid_, SIGKILL);
  wait_for_exit(pid_, std::chrono::seconds(5));
  pid_ = -1;
  // Orphaned backends notice the postmaster's death and exit; a restart must wait for them
  // or it finds their shared memory still attached.
  const auto until = Clock::now() + std::chrono::seconds(15);
  for (pid_t k : kids) {
    while (::kill(k, 0) == 0 && Clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

std::string PgCluster::dsn(const std::string& user, const std::string& dbname) const {
  return "postgresql://" + user + ":" + password_ + "@127.0.0.1:" + std::to_string(port_) + "/" +
         dbname;
}

std::string PgCluster::admin_dsn(const std::string& dbname) const {
  return "host=" + dir_ + " port=" + std::to_string(port_) + " user=postgres dbname=" + dbname;
}

pg::Connection PgCluster::admin_connection(const std::string& application_name) {
  pg::SessionSettings session;
  session.application_name = application_name;
  const pg::ConnectParams params = pg::make_connect_params(config::parse_dsn(admin_dsn()), session);
  return async::run_blocking(pg::connect(params, Clock::now() + std::chrono::seconds(10)));
}

pg::Result PgCluster::admin(const std::string& sql) {
  pg::Connection conn = admin_connection();
  return async::run_blocking(pg::exec(conn, sql, Clock::now() + std::chrono::seconds(10)));
}

std::string PgCluster::log_tail() const {
  std::ifstream log(dir_ + "/server.log");
  std::string content((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  return content.size() > 4000 ? content.substr(content.size() - 4000) : content;
}

}  // namespace pgv::testing
