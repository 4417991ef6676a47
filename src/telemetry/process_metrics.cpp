#include "telemetry/process_metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace pgv::telemetry {
namespace {

prometheus::MetricFamily family(const char* name, const char* help, prometheus::MetricType type,
                                double value) {
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(m);
  return f;
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

void collect_process_metrics(std::vector<prometheus::MetricFamily>& out) {
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

  using prometheus::MetricType;
  out.push_back(family("process_cpu_seconds_total",
                       "Total user and system CPU time spent in seconds.", MetricType::Counter,
                       (utime + stime) / ticks));
  out.push_back(family("process_resident_memory_bytes", "Resident memory size in bytes.",
                       MetricType::Gauge, rss * page));
  out.push_back(family("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                       MetricType::Gauge, vsize));
  out.push_back(family("process_open_fds", "Number of open file descriptors.", MetricType::Gauge,
                       count_open_fds()));
  out.push_back(family("process_max_fds", "Maximum number of open file descriptors.",
                       MetricType::Gauge, static_cast<double>(nofile.rlim_cur)));
  out.push_back(family("process_start_time_seconds",
                       "Start time of the process since unix epoch in seconds.", MetricType::Gauge,
                       boot_time() + start / ticks));
  out.push_back(family("process_threads", "Number of OS threads in the process.", MetricType::Gauge,
                       threads));
}

}  // namespace pgv::telemetry
