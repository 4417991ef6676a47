#include "process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <thread>

namespace pgv::testing {

bool is_root() {
  return ::geteuid() == 0;
}

void become_user(const std::string& user) {
  if (!is_root() || user.empty()) return;
  const passwd* pw = ::getpwnam(user.c_str());
  if (pw == nullptr) {
    std::fprintf(stderr, "no such user: %s\n", user.c_str());
    std::_Exit(127);
  }
  if (::initgroups(pw->pw_name, pw->pw_gid) != 0 || ::setgid(pw->pw_gid) != 0 ||
      ::setuid(pw->pw_uid) != 0) {
    std::perror("become_user");
    std::_Exit(127);
  }
}

bool wait_for_exit(pid_t pid, std::chrono::milliseconds timeout, int* status) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  int st = 0;
  while (true) {
    const pid_t r = ::waitpid(pid, &st, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) {
      if (status) *status = st;
      return true;
    }
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string run_command(const std::vector<std::string>& argv, const std::string& run_as_user) {
  char out_path[] = "/tmp/pgvitals-cmd-XXXXXX";
  const int out_fd = ::mkstemp(out_path);
  if (out_fd < 0) throw std::runtime_error("mkstemp failed");
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out_fd, 1);
    ::dup2(out_fd, 2);
    become_user(run_as_user);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    std::perror("execvp");
    std::_Exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::string output;
  ::lseek(out_fd, 0, SEEK_SET);
  char buf[4096];
  ssize_t n;
  while ((n = ::read(out_fd, buf, sizeof buf)) > 0) output.append(buf, static_cast<size_t>(n));
  ::close(out_fd);
  ::unlink(out_path);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("command failed: " + argv[0] + ": " + output);
  }
  return output;
}

pid_t spawn_server(std::vector<std::string> argv, const std::string& user,
                   const std::string& output_path, int mode, int death_signal) {
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::setpgid(0, 0);
    const int out = ::open(output_path.c_str(), O_CREAT | O_WRONLY | O_APPEND, mode);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    become_user(user);
    // Set after the user switch, which would clear it.
    ::prctl(PR_SET_PDEATHSIG, death_signal);
    if (::getppid() != parent) std::_Exit(1);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    std::_Exit(127);
  }
  return pid;
}

}  // namespace pgv::testing
