#include "pgbouncer.hpp"

#include <fcntl.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <thread>
#include <utility>

#include "net.hpp"
#include "process.hpp"

namespace fs = std::filesystem;

namespace pgv::testing {
namespace {

constexpr const char* kRunAs = "postgres";  // PgBouncer refuses to run as root

std::string pgbouncer_binary() {
  const char* env = std::getenv("PGVITALS_PGBOUNCER");
  return env != nullptr && *env != '\0' ? env : "/usr/sbin/pgbouncer";
}

void give_to_run_as_user(const std::string& path) {
  if (!is_root()) return;
  const passwd* pw = ::getpwnam(kRunAs);
  if (pw == nullptr) throw std::runtime_error("user 'postgres' missing: run scripts/install-deps");
  if (::chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    throw std::runtime_error("chown " + path + " failed");
  }
}

std::string tail_of(const std::string& path) {
  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return content.size() > 4000 ? content.substr(content.size() - 4000) : content;
}

}  // namespace

PgBouncer::PgBouncer(PgCluster& server, PgBouncerOptions options)
    : server_(server), options_(std::move(options)) {
  char pattern[] = "/tmp/pgvitals-pgbouncer-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  try {
    give_to_run_as_user(dir_);
    start();
  } catch (...) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    throw;
  }
}

PgBouncer::~PgBouncer() {
  stop();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void PgBouncer::write_files() const {
  const std::string& pw = server_.password();
  {
    std::ofstream users(dir_ + "/userlist.txt", std::ios::trunc);
    // Plain-text passwords: PgBouncer 1.18 runs SCRAM with them on both sides.
    for (const char* user : {"pgvitals", "postgres", "monitor"}) {
      users << '"' << user << "\" \"" << pw << "\"\n";
    }
  }
  ::chmod((dir_ + "/userlist.txt").c_str(), 0600);
  {
    std::ofstream ini(dir_ + "/pgbouncer.ini", std::ios::trunc);
    ini << "[databases]\n"
        << "* = host=127.0.0.1 port=" << server_.port() << "\n\n"
        << "[pgbouncer]\n"
        << "listen_addr = 127.0.0.1\n"
        << "listen_port = " << port_
        << "\n"
        // The online restart (-R) finds the old process through this socket.
        << "unix_socket_dir = " << dir_ << "\n"
        << "auth_type = scram-sha-256\n"
        << "auth_file = " << dir_ << "/userlist.txt\n"
        << "admin_users = postgres\n"
        << "stats_users = pgvitals, monitor\n"
        << "pool_mode = " << options_.pool_mode << "\n"
        << "default_pool_size = " << options_.default_pool_size << "\n"
        << "max_client_conn = " << options_.max_client_conn << "\n"
        << "server_login_retry = 1\n"
        << "logfile = " << dir_ << "/pgbouncer.log\n"
        << "pidfile = " << dir_ << "/pgbouncer.pid\n";
    for (const auto& line : options_.settings) ini << line << "\n";
  }
  for (const char* name : {"/userlist.txt", "/pgbouncer.ini"}) give_to_run_as_user(dir_ + name);
}

void PgBouncer::spawn(bool takeover) {
  std::vector<std::string> args = {pgbouncer_binary()};
  if (takeover) args.emplace_back("-R");
  args.push_back(dir_ + "/pgbouncer.ini");
  // What it prints before it opens its log file (a config error, say).
  const std::string out_path = dir_ + "/stderr.log";
  // SIGKILL on our death, which a frozen (SIGSTOPped) process obeys too.
  const pid_t pid = spawn_server(args, kRunAs, out_path, 0644, SIGKILL);
  pid_ = pid;
}

void PgBouncer::wait_ready() {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  const std::string conninfo =
      "host=127.0.0.1 port=" + std::to_string(port_) +
      " dbname=pgbouncer user=pgvitals connect_timeout=2 password=" + server_.password();
  while (std::chrono::steady_clock::now() < until) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("pgbouncer exited during start-up:\n" + log_tail());
    }
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(conninfo.c_str()), &PQfinish);
    if (PQstatus(conn.get()) == CONNECTION_OK) {
      std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(conn.get(), "SHOW VERSION"), &PQclear);
      if (PQresultStatus(r.get()) == PGRES_TUPLES_OK) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("pgbouncer did not answer on its admin console within 15 s:\n" +
                           log_tail());
}

void PgBouncer::start() {
  if (pid_ > 0) return;
  // A restart keeps its port (clients hold DSNs with it); a first start retries on another
  // one if a test grabbed it between our probe and the bind.
  const bool keep_port = port_ != 0;
  for (int attempt = 0;; ++attempt) {
    if (!keep_port) port_ = free_port();
    write_files();
    std::error_code ec;
    fs::remove(dir_ + "/pgbouncer.pid", ec);
    spawn(/*takeover=*/false);
    try {
      wait_ready();
      return;
    } catch (const std::exception&) {
      if (pid_ > 0) kill_and_reap(SIGKILL);
      if (attempt >= 4) throw;
    }
  }
}

void PgBouncer::kill_and_reap(int sig) {
  if (frozen_ && sig != SIGKILL) ::kill(pid_, SIGCONT);
  frozen_ = false;
  ::kill(pid_, sig);
  if (!wait_for_exit(pid_, std::chrono::seconds(10))) {
    ::kill(pid_, SIGKILL);
    wait_for_exit(pid_, std::chrono::seconds(5));
  }
  pid_ = -1;
}

void PgBouncer::stop(BouncerStop how) {
  if (pid_ <= 0) return;
  kill_and_reap(how == BouncerStop::safe ? SIGINT : SIGTERM);
}

void PgBouncer::freeze() {
  if (pid_ <= 0 || frozen_) return;
  ::kill(pid_, SIGSTOP);
  frozen_ = true;
}

void PgBouncer::thaw() {
  if (pid_ <= 0 || !frozen_) return;
  ::kill(pid_, SIGCONT);
  frozen_ = false;
}

void PgBouncer::online_restart() {
  if (pid_ <= 0) {
    start();
    return;
  }
  thaw();
  const pid_t old = pid_;
  spawn(/*takeover=*/true);
  // The old process hands its sockets over and exits; it is our child, so we reap it.
  if (!wait_for_exit(old, std::chrono::seconds(30))) {
    const std::string log = log_tail();
    ::kill(pid_, SIGKILL);
    wait_for_exit(pid_, std::chrono::seconds(5));
    pid_ = old;
    throw std::runtime_error("pgbouncer -R: the old process did not hand over:\n" + log);
  }
  wait_ready();
}

std::string PgBouncer::dsn(const std::string& user, const std::string& dbname) const {
  return "postgresql://" + user + ":" + server_.password() + "@127.0.0.1:" + std::to_string(port_) +
         "/" + dbname;
}

std::string PgBouncer::admin_dsn(const std::string& user) const {
  return dsn(user, "pgbouncer");
}

std::string PgBouncer::log_tail() const {
  std::string log = tail_of(dir_ + "/pgbouncer.log");
  return log.empty() ? tail_of(dir_ + "/stderr.log") : log;
}

}  // namespace pgv::testing
