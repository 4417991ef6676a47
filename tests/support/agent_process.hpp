#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pgv::testing {

using Env = std::map<std::string, std::string>;

struct HttpResult {
  int status = 0;  // 0 when no answer at all
  std::string body;
  std::string content_type;
  std::string content_encoding;  // "gzip" when the agent compressed the body
  double seconds = 0;
};

// GET http://127.0.0.1:port/path with a deadline. Never throws.
HttpResult http_get(int port, const std::string& path, const Env& headers = {},
                    std::chrono::milliseconds timeout = std::chrono::seconds(2));

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr interleaved
  double seconds = 0;
};

// Runs a command to completion with exactly `env` (plus PATH), collecting its output.
CommandResult run_capture(const std::vector<std::string>& argv, const Env& env,
                          const std::string& stdin_text = "");

// In a forked child: replaces the process with argv under exactly `env` (plus PATH and the
// sanitizer settings), signals unblocked. Exits 127 if argv cannot be run.
[[noreturn]] void exec_with(const std::vector<std::string>& argv, const Env& env);

// The pgvitals binary built alongside the tests.
std::string agent_binary();

// argv run in a UTS namespace of its own whose host name is `host_name` (unshare --uts; needs
// root), as a StatefulSet pod sees its pod name. The command is exec'd: its pid is argv's.
std::vector<std::string> with_host_name(const std::string& host_name,
                                        std::vector<std::string> argv);

// `pgvitals run` as a real child process with a clean environment (PATH plus `env`),
// its stdout and stderr in a log file, listening on a free loopback port.
class AgentProcess {
 public:
  // With `resolv_conf` (a file path), the agent runs in its own mount namespace where that
  // file is /etc/resolv.conf: its name lookups go to a test's DNS server (needs root).
  // With `host_name`, it runs under that host name (with_host_name; needs root).
  AgentProcess(std::vector<std::string> extra_args, Env env, const std::string& resolv_conf = "",
               const std::string& host_name = "");
  ~AgentProcess();
  AgentProcess(const AgentProcess&) = delete;
  AgentProcess& operator=(const AgentProcess&) = delete;
  AgentProcess(AgentProcess&&) = delete;
  AgentProcess& operator=(AgentProcess&&) = delete;

  int port() const noexcept { return port_; }
  pid_t pid() const noexcept { return pid_; }
  HttpResult get(const std::string& path, const Env& headers = {}) const {
    return http_get(port_, path, headers);
  }
  // Polls until `path` answers `status`; the time it took, or nullopt at the deadline.
  std::optional<double> wait_for_status(const std::string& path, int status,
                                        std::chrono::milliseconds timeout) const;
  void signal(int sig) const;
  // The exit status once the process has ended, or nullopt if it is still running.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  std::string log() const;
  // Count of open file descriptors of the agent process.
  int open_fds() const;

 private:
  int port_ = 0;
  pid_t pid_ = -1;
  std::string log_path_;
  std::optional<int> exit_status_;
};

// A temp file with the given content, removed when this goes away.
class TempFile {
 public:
  explicit TempFile(const std::string& content, const std::string& suffix = ".yaml");
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  TempFile(TempFile&&) = delete;
  TempFile& operator=(TempFile&&) = delete;
  const std::string& path() const noexcept { return path_; }
  void write(const std::string& content) const;

 private:
  std::string path_;
};

}  // namespace pgv::testing
