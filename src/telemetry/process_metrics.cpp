#include "telemetry/process_metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace pgv::telemetry {
namespace {

void write(TextWriter& out, const char* name, const char* help, const char* type, double value) {
  out.head(name, help, type);
  out.sample(name, "", "", "", value);
}

int count_open_fds() {
  int n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    ::closedir(d);
    --n;  // the directory stream itself
  }
  return n;
}

double boot_time() {
  std::ifstream stat("/proc/stat");
  std::string key;
  double value = 0;
  while (stat >> key) {
    if (key == "btime") {
      stat >> value;
      return value;
    }
    stat.ignore(1 << 20, '\n');
  }
  return 0;
}

}  // namespace

void write_process_metrics(TextWriter& out) {
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return;
  std::istringstream fields(stat.substr(close + 2));
  // Fields 3.. of proc(5); we need utime(14) stime(15) num_threads(20) starttime(22)
  // vsize(23) rss(24).
  std::string f[22];
  for (auto& v : f) fields >> v;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  const double utime = std::stod(f[11]);
  const double stime = std::stod(f[12]);
  const double threads = std::stod(f[17]);
  const double start = std::stod(f[19]);
  const double vsize = std::stod(f[20]);
  const double rss = std::stod(f[21]);

  rlimit nofile{};
  ::getrlimit(RLIMIT_NOFILE, &nofile);

  write(out, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
        "counter", (utime + stime) / ticks);
  write(out, "process_resident_memory_bytes", "Resident memory size in bytes.", "gauge",
        rss * page);
  write(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge", vsize);
  write(out, "process_open_fds", "Number of open file descriptors.", "gauge", count_open_fds());
  write(out, "process_max_fds", "Maximum number of open file descriptors.", "gauge",
        static_cast<double>(nofile.rlim_cur));
  write(out, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
        "gauge", boot_time() + start / ticks);
  write(out, "process_threads", "Number of OS threads in the process.", "gauge", threads);
}

}  // namespace pgv::telemetry
