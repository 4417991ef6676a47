#pragma once

// What /proc says about a process, for the tests' and the benchmarks' resource checks.
#include <sys/types.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
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

// Resident memory in KiB; 0 when the process is gone.
inline long rss_kib(pid_t pid) {
  return proc_usage(pid).rss_kib;
}

}  // namespace pgv::testing
