#pragma once

// What /proc says about a process, for the tests' and the benchmarks' resource checks.
#include <sys/types.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace pgv::testing {

struct ProcUsage {
  double cpu_seconds = 0;
  long rss_kib = 0;
  long peak_rss_kib = 0;  // VmHWM: the most resident memory so far
  int threads = 0;
};

// The fields of a /proc stat file (a process's or a thread's) from field 3 on: the
// command name in parentheses may hold spaces, so they start after its last ')'.
inline std::vector<std::string> stat_fields(const std::string& path) {
  std::ifstream stat(path);
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  std::vector<std::string> f;
  const auto close = content.rfind(')');
  if (close == std::string::npos || close + 2 >= content.size()) return f;
  std::istringstream fields(content.substr(close + 2));
  for (std::string field; fields >> field;) f.push_back(field);
  return f;
}

// utime + stime (fields 14 and 15) of stat_fields(), in seconds.
inline double stat_cpu_seconds(const std::vector<std::string>& f) {
  if (f.size() < 13) return 0;
  return (std::stod(f[11]) + std::stod(f[12])) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

inline ProcUsage proc_usage(pid_t pid) {
  ProcUsage u;
  const auto f = stat_fields("/proc/" + std::to_string(pid) + "/stat");
  if (f.size() > 20) {
    u.cpu_seconds = stat_cpu_seconds(f);
    u.threads = std::stoi(f[17]);
  }
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") status >> u.rss_kib;
    if (key == "VmHWM:") status >> u.peak_rss_kib;
    status.ignore(1 << 12, '\n');
  }
  return u;
}

// CPU seconds of the process's threads named `name` (their comm), 0 when there are none.
inline double thread_cpu_seconds(pid_t pid, const std::string& name) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  double total = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::ifstream comm(entry.path() / "comm");
    std::string c;
    std::getline(comm, c);
    if (c != name) continue;
    total += stat_cpu_seconds(stat_fields(entry.path() / "stat"));
  }
  return total;
}

// Resident memory in KiB; 0 when the process is gone.
inline long rss_kib(pid_t pid) {
  return proc_usage(pid).rss_kib;
}

}  // namespace pgv::testing
