#include "agent_process.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "net.hpp"
#include "process.hpp"

namespace pgv::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;

double since(SteadyClock::time_point t) {
  return std::chrono::duration<double>(SteadyClock::now() - t).count();
}

std::vector<std::string> environment_for(const Env& env) {
  std::vector<std::string> out;
  const char* path = std::getenv("PATH");
  out.push_back(std::string("PATH=") + (path ? path : "/usr/bin:/bin"));
  // Sanitizer settings reach the agent, so that under scripts/test --sanitize a report in
  // the agent process stops it (halt_on_error) and fails the test instead of being logged.
  for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS", "LSAN_OPTIONS"}) {
    if (const char* value = std::getenv(name)) out.push_back(std::string(name) + "=" + value);
  }
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

[[noreturn]] void exec_with(const std::vector<std::string>& argv, const Env& env) {
  std::vector<std::string> envs = environment_for(env);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : envs) envp.push_back(e.data());
  envp.push_back(nullptr);
  // Signals blocked in the test process must not stay blocked in the child.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execvpe(args[0], args.data(), envp.data());
  std::_Exit(127);
}

std::string agent_binary() {
  return PGVITALS_BINARY;
}

std::vector<std::string> with_host_name(const std::string& host_name,
                                        std::vector<std::string> argv) {
  std::vector<std::string> out = {"unshare", "--uts", "sh", "-c", "hostname \"$0\" && exec \"$@\"",
                                  host_name};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

HttpResult http_get(int port, const std::string& path, const Env& headers,
                    std::chrono::milliseconds timeout) {
  httplib::Client client("127.0.0.1", port);
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout).count();
  const auto usecs =
      std::chrono::duration_cast<std::chrono::microseconds>(timeout).count() % 1000000;
  client.set_connection_timeout(secs, usecs);
  client.set_read_timeout(secs, usecs);
  client.set_write_timeout(secs, usecs);
  // The bytes as sent: a test asking for gzip checks the compressed body itself.
  client.set_decompress(false);
  httplib::Headers h;
  for (const auto& [k, v] : headers) h.emplace(k, v);
  const auto start = SteadyClock::now();
  HttpResult out;
  if (auto res = client.Get(path.c_str(), h)) {
    out.status = res->status;
    out.body = res->body;
    out.content_type = res->get_header_value("Content-Type");
    out.content_encoding = res->get_header_value("Content-Encoding");
  }
  out.seconds = since(start);
  return out;
}

CommandResult run_capture(const std::vector<std::string>& argv, const Env& env,
                          const std::string& stdin_text) {
  char out_path[] = "/tmp/pgvitals-out-XXXXXX";
  const int out_fd = ::mkstemp(out_path);
  char in_path[] = "/tmp/pgvitals-in-XXXXXX";
  const int in_fd = ::mkstemp(in_path);
  if (out_fd < 0 || in_fd < 0) throw std::runtime_error("mkstemp failed");
  if (!stdin_text.empty()) {
    [[maybe_unused]] auto n = ::write(in_fd, stdin_text.data(), stdin_text.size());
  }
  ::lseek(in_fd, 0, SEEK_SET);
  const auto start = SteadyClock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(out_fd, 2);
    exec_with(argv, env);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  CommandResult r;
  r.seconds = since(start);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.output = read_file(out_path);
  ::close(out_fd);
  ::close(in_fd);
  ::unlink(out_path);
  ::unlink(in_path);
  return r;
}

AgentProcess::AgentProcess(std::vector<std::string> extra_args, Env env,
                           const std::string& resolv_conf, const std::string& host_name) {
  port_ = free_port();
  char log_path[] = "/tmp/pgvitals-agent-log-XXXXXX";
  const int log_fd = ::mkstemp(log_path);
  if (log_fd < 0) throw std::runtime_error("mkstemp failed");
  log_path_ = log_path;
  std::vector<std::string> argv = {agent_binary(), "run", "--listen",
                                   "127.0.0.1:" + std::to_string(port_)};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  // Profiling a benchmark's agent: PGVITALS_AGENT_WRAP="heaptrack -o /tmp/h" runs it
  // under that command (words split on blanks).
  if (const char* wrap = std::getenv("PGVITALS_AGENT_WRAP"); wrap != nullptr && *wrap != 0) {
    std::vector<std::string> words;
    std::istringstream in(wrap);
    for (std::string w; in >> w;) words.push_back(w);
    argv.insert(argv.begin(), words.begin(), words.end());
  }
  if (!host_name.empty()) argv = with_host_name(host_name, std::move(argv));
  if (!resolv_conf.empty()) {
    // unshare and sh both exec, so pid() stays the agent's own.
    const std::vector<std::string> prefix = {
        "unshare",  "-m", "sh", "-c", "mount --bind \"$0\" /etc/resolv.conf && exec \"$@\"",
        resolv_conf};
    argv.insert(argv.begin(), prefix.begin(), prefix.end());
  }
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ == 0) {
    // A test process that crashes never runs the destructor: the agent dies with it
    // instead of living on and holding its port.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) std::_Exit(1);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    exec_with(argv, env);
  }
  ::close(log_fd);
}

AgentProcess::~AgentProcess() {
  if (!exit_status_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  ::unlink(log_path_.c_str());
}

std::optional<double> AgentProcess::wait_for_status(const std::string& path, int status,
                                                    std::chrono::milliseconds timeout) const {
  const auto start = SteadyClock::now();
  while (SteadyClock::now() - start < timeout) {
    if (get(path).status == status) return since(start);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

void AgentProcess::signal(int sig) const {
  ::kill(pid_, sig);
}

std::optional<int> AgentProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (exit_status_) return exit_status_;
  int status = 0;
  if (!wait_for_exit(pid_, timeout, &status)) return std::nullopt;
  exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return exit_status_;
}

std::string AgentProcess::log() const {
  return read_file(log_path_);
}

int AgentProcess::open_fds() const {
  int count = 0;
  const std::string dir = "/proc/" + std::to_string(pid_) + "/fd";
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') ++count;
    }
    ::closedir(d);
  }
  return count;
}

TempFile::TempFile(const std::string& content, const std::string& suffix) {
  std::string pattern = "/tmp/pgvitals-file-XXXXXX" + suffix;
  const int fd = ::mkstemps(pattern.data(), static_cast<int>(suffix.size()));
  if (fd < 0) throw std::runtime_error("mkstemps failed");
  ::close(fd);
  path_ = pattern;
  write(content);
}

TempFile::~TempFile() {
  ::unlink(path_.c_str());
}

void TempFile::write(const std::string& content) const {
  // Write then rename, so a reader never sees half a file.
  const std::string tmp = path_ + ".new";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << content;
  }
  std::rename(tmp.c_str(), path_.c_str());
}

}  // namespace pgv::testing
