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

inline ProcUsage proc_usage(pid_t pid) {
  ProcUsage u;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // The command name in parentheses may hold spaces; the fields start after its ')'.
  const auto close = content.rfind(')');
  if (close != std::string::npos && close + 2 < content.size()) {
    std::vector<std::string> f;
    std::string field;
    for (char c : content.substr(close + 2)) {
      if (c == ' ') {
        f.push_back(field);
        field.clear();
      } else {
        field.push_back(c);
      }
    }
    if (f.size() > 20) {
      const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
      u.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / ticks;
      u.threads = std::stoi(f[17]);
    }
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
    std::ifstream stat(entry.path() / "stat");
    std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto close = content.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(content.substr(close + 2));
    std::string f;
    double utime = 0;
    double stime = 0;
    for (int i = 3; fields >> f; ++i) {
      if (i == 14) utime = std::stod(f);
      if (i == 15) {
        stime = std::stod(f);
        break;
      }
    }
    total += (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }
  return total;
}

// Resident memory in KiB; 0 when the process is gone.
inline long rss_kib(pid_t pid) {
  return proc_usage(pid).rss_kib;
}

}  // namespace pgv::testing
