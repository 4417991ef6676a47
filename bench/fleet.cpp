// One agent watching a fleet: 1,000 targets spread over three throwaway clusters, then the
// third cluster (10% of the targets) frozen with SIGSTOP. Measures RSS, threads, CPU and
// how late probe cycles start (pgvitals_scheduler_lag_seconds) in both phases.
//   fleet [--quick] [--targets N] [--interval 5s] [--all-probes] [--incidents-before 2m]
//         [--ramp N] [--timeout 2s]
// --ramp N starts with N targets and adds N per reload once those are up: on a machine whose
// PostgreSQL forks slowly (36 new sessions a second seen here), a thousand first connections
// at once queue past their 2 s deadline, and the retries keep the queue full.
// --incidents-before sets the in-memory history window, for an A/B of its memory.
// Prints one table; see docs/BENCHMARKS.md. --quick (the CI smoke) uses 100 targets and
// short windows. The three clusters stand in for a thousand servers but share the agent's
// cores, so by default the new_connection probe is left out: a new session per target per
// cycle is 200 backend forks a second on those same cores, which measures PostgreSQL's
// fork() rather than the agent. --all-probes keeps it.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "agent_process.hpp"
#include "bench_util.hpp"
#include "pg_cluster.hpp"

using namespace std::chrono_literals;
using namespace pgv::bench;
using SteadyClock = std::chrono::steady_clock;

namespace {

// Cumulative bucket counts of one histogram family, summed over every target.
std::map<double, double> buckets_of(const std::string& text, const std::string& family) {
  std::map<double, double> out;
  const std::string prefix = family + "_bucket{";
  std::size_t pos = 0;
  while ((pos = text.find(prefix, pos)) != std::string::npos) {
    const std::size_t eol = text.find('\n', pos);
    const std::string line = text.substr(pos, eol - pos);
    pos = eol;
    const std::size_t le = line.find("le=\"");
    if (le == std::string::npos) continue;
    const std::string bound = line.substr(le + 4, line.find('"', le + 4) - le - 4);
    const double b = bound == "+Inf" ? 1e300 : std::stod(bound);
    out[b] += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return out;
}

struct Quantile {
  double upper = 0;   // the bucket bound the quantile falls under
  double within = 0;  // share of observations at or under `limit`
  double count = 0;
};

// The q-quantile's bucket from the difference of two cumulative snapshots, and the share
// of observations at or under `limit` (which must be a bucket bound).
Quantile quantile(const std::map<double, double>& before, const std::map<double, double>& after,
                  double q, double limit) {
  Quantile r;
  std::map<double, double> delta;
  for (const auto& [bound, n] : after) {
    const auto it = before.find(bound);
    delta[bound] = n - (it == before.end() ? 0 : it->second);
  }
  if (delta.empty()) return r;
  r.count = delta.rbegin()->second;
  if (r.count <= 0) return r;
  for (const auto& [bound, n] : delta) {
    if (n >= q * r.count) {
      r.upper = bound;
      break;
    }
  }
  const auto at_limit = delta.find(limit);
  r.within = at_limit == delta.end() ? 0 : at_limit->second / r.count;
  return r;
}

double sum_of(const std::string& text, const std::string& series) {
  double total = 0;
  std::size_t pos = 0;
  while ((pos = text.find("\n" + series, pos)) != std::string::npos) {
    const std::size_t eol = text.find('\n', pos + 1);
    const std::string line = text.substr(pos + 1, eol - pos - 1);
    total += std::stod(line.substr(line.rfind(' ') + 1));
    pos = eol;
  }
  return total;
}

// A GET with room for a thousand targets' /metrics on a loaded machine (the agent's own
// helper gives up after 2 s).
pgv::testing::HttpResult fetch(const pgv::testing::AgentProcess& agent, const std::string& path,
                               const pgv::testing::Env& headers = {}) {
  return pgv::testing::http_get(agent.port(), path, headers, 30s);
}

// Targets whose pgvitals_up is 1.
int count_up(const std::string& text) {
  return static_cast<int>(sum_of(text, "pgvitals_up{"));
}

// The agent's target count from /debug/status ({"counts":{...,"targets":N,...}, ...}).
int watching(const std::string& status) {
  const std::size_t key = status.find("\"targets\":");
  if (key == std::string::npos) return -1;
  return std::atoi(status.c_str() + key + 10);
}

struct Window {
  double cpu_percent = 0;
  long rss_kib = 0;
  long rss_before_scrape_kib = 0;
  int threads = 0;
  Quantile lag;
  int up = 0;
  double sessions = 0;
  double scrape_ms = 0;
  std::size_t scrape_bytes = 0;
  // An open incident keeps its timeline in memory (several KiB a target), so a run where a
  // slow phase opened many of them holds more: these tell such a run from a larger agent.
  double incidents_open = 0;
  double incidents_opened = 0;  // since the agent started
};

Window measure(const pgv::testing::AgentProcess& agent, std::chrono::seconds length) {
  Window w;
  w.rss_before_scrape_kib = proc_usage(agent.pid()).rss_kib;
  const auto first = fetch(agent, "/metrics");
  const auto u0 = proc_usage(agent.pid());
  std::this_thread::sleep_for(length);
  const auto u1 = proc_usage(agent.pid());
  const auto last = fetch(agent, "/metrics");
  w.cpu_percent = (u1.cpu_seconds - u0.cpu_seconds) / static_cast<double>(length.count()) * 100;
  w.rss_kib = u1.rss_kib;
  w.threads = u1.threads;
  w.lag = quantile(buckets_of(first.body, "pgvitals_scheduler_lag_seconds"),
                   buckets_of(last.body, "pgvitals_scheduler_lag_seconds"), 0.99, 0.1);
  w.up = count_up(last.body);
  w.sessions = sum_of(last.body, "pgvitals_pool_connections{");
  w.scrape_ms = last.seconds * 1e3;
  w.scrape_bytes = last.body.size();
  w.incidents_open = sum_of(last.body, "pgvitals_incident_open{");
  w.incidents_opened = sum_of(last.body, "pgvitals_incidents_total{");
  return w;
}

// Scrapes as Prometheus makes them (gzip), then as a plain client does, each past the
// agent's 100 ms render cache so every one renders. Per series: the peak RSS, reset first
// (clear_refs 5), so VmHWM afterwards is the most the agent held while rendering and
// sending; and the CPU of the agent's render and compression threads (pgv-render, pgv-gzip),
// which do nothing else, per scrape: the rendering's own cost, whatever else the machine's
// cores are doing.
struct Scrapes {
  double p50_ms = 0;
  std::size_t bytes = 0;
  long peak_kib = 0;
  double render_cpu_ms = 0;
  double machine_busy = 0;  // share of all cores busy meanwhile, the agent's included
  bool ok = true;
};

// The machine's busy and total time from /proc/stat (its first line, all cores), in ticks:
// the clusters' backends share the cores with the agent, so a scrape's wall time depends on
// how much of them is left, which this tells beside it.
std::pair<long long, long long> machine_ticks() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  const long long busy = user + nice + system + irq + softirq;
  return {busy, busy + idle + iowait + steal};
}

Scrapes scrape_series(const pgv::testing::AgentProcess& agent, int n, bool gzip) {
  Scrapes s;
  std::ofstream("/proc/" + std::to_string(agent.pid()) + "/clear_refs") << "5";
  const auto render_cpu = [&] {
    return pgv::testing::thread_cpu_seconds(agent.pid(), "pgv-render") +
           pgv::testing::thread_cpu_seconds(agent.pid(), "pgv-gzip");
  };
  const double cpu0 = render_cpu();
  const auto machine0 = machine_ticks();
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    std::this_thread::sleep_for(150ms);
    const auto r =
        gzip ? fetch(agent, "/metrics", {{"Accept-Encoding", "gzip"}}) : fetch(agent, "/metrics");
    ms.push_back(r.seconds * 1e3);
    s.bytes = r.body.size();
    // gzip's magic bytes: the agent compressed, the client did not get text.
    const bool magic = r.body.size() > 2 && static_cast<unsigned char>(r.body[0]) == 0x1f &&
                       static_cast<unsigned char>(r.body[1]) == 0x8b;
    s.ok = s.ok && r.status == 200 && magic == gzip && (r.content_encoding == "gzip") == gzip;
  }
  s.render_cpu_ms = (render_cpu() - cpu0) * 1e3 / n;
  const auto machine1 = machine_ticks();
  if (machine1.second > machine0.second) {
    s.machine_busy = static_cast<double>(machine1.first - machine0.first) /
                     static_cast<double>(machine1.second - machine0.second);
  }
  s.p50_ms = median(ms);
  s.peak_kib = proc_usage(agent.pid()).peak_rss_kib;
  return s;
}

void row(const char* what, const std::string& a, const std::string& b) {
  std::printf("| %-44s | %22s | %22s |\n", what, a.c_str(), b.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  int targets = 1000;
  std::string interval = "5s";
  bool all_probes = false;
  std::string before;  // incidents.before; empty: the agent's default (2m)
  int ramp = 0;        // targets added per reload at start; 0: all at once
  std::string timeout = "2s";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      quick = true;
      targets = 100;
    } else if (std::strcmp(argv[i], "--targets") == 0 && i + 1 < argc) {
      targets = std::stoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--all-probes") == 0) {
      all_probes = true;
    } else if (std::strcmp(argv[i], "--interval") == 0 && i + 1 < argc) {
      interval = argv[++i];
    } else if (std::strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
      timeout = argv[++i];
    } else if (std::strcmp(argv[i], "--ramp") == 0 && i + 1 < argc) {
      ramp = std::stoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--incidents-before") == 0 && i + 1 < argc) {
      before = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: fleet [--quick] [--targets N] [--interval 5s] [--all-probes] "
                   "[--incidents-before 2m] [--ramp N] [--timeout 2s]\n");
      return 2;
    }
  }
  const auto window = quick ? 12s : 60s;
  const int hanging = targets / 10;
  const int healthy = targets - hanging;

  // Two clusters share the healthy targets; a third holds the 10% that will hang. Trust
  // auth: a thousand SCRAM handshakes at start-up measure the hash, not the agent.
  pgv::testing::ClusterOptions options;
  options.password_auth = false;
  // Two sessions per target at most: the pooled one and the new_connection probe's.
  options.max_connections = healthy + 40;
  options.settings = {"shared_buffers=16MB"};
  pgv::testing::PgCluster a(options);
  pgv::testing::PgCluster b(options);
  options.max_connections = 2 * hanging + 40;
  pgv::testing::PgCluster c(options);

  // The first `n` targets as a config file.
  auto config_text = [&](int n) {
    std::string yaml = "interval: " + interval + "\ntimeout: " + timeout + "\n";
    if (!all_probes) yaml += "probes: [connectivity, lifecycle, settings, activity]\n";
    if (!before.empty()) yaml += "incidents: {before: " + before + "}\n";
    yaml += "targets:\n";
    for (int i = 0; i < n; ++i) {
      const auto& cluster = i < healthy ? (i % 2 == 0 ? a : b) : c;
      char name[16];
      std::snprintf(name, sizeof name, "t%04d", i);
      yaml += std::string("  - name: ") + name + "\n    dsn: " + cluster.dsn() + "\n";
    }
    return yaml;
  };
  int watched = ramp > 0 ? std::min(ramp, targets) : targets;
  pgv::testing::TempFile config(config_text(watched));
  const auto started = SteadyClock::now();
  pgv::testing::AgentProcess agent({"--config", config.path(), "--log-level", "warn"}, {});

  // Every target up (each has made its first connection), within a deadline. Polls the
  // cheap /healthz (200 once every target passes), not a 1,000-target /metrics. With --ramp
  // the fleet grows by reloads (SIGHUP), each step once the previous one is up.
  for (;;) {
    const auto step_started = SteadyClock::now();
    while (SteadyClock::now() - step_started < 180s && agent.get("/healthz").status != 200) {
      std::this_thread::sleep_for(250ms);
    }
    if (watched == targets) break;
    watched = std::min(watched + ramp, targets);
    config.write(config_text(watched));
    ::kill(agent.pid(), SIGHUP);
    // /healthz answers for the old list until the reload is in: wait for the new count.
    const auto reload_started = SteadyClock::now();
    while (SteadyClock::now() - reload_started < 60s &&
           watching(fetch(agent, "/debug/status").body) != watched) {
      std::this_thread::sleep_for(250ms);
    }
  }
  const double ramp_s = std::chrono::duration<double>(SteadyClock::now() - started).count();
  // Polled: on this 2-core machine the last step's targets can still be connecting, and
  // one 1,000-target scrape once took longer than the client's deadline right after a ramp.
  int up = 0;
  const auto counted = SteadyClock::now();
  while ((up = count_up(fetch(agent, "/metrics").body)) != targets &&
         SteadyClock::now() - counted < 120s) {
    std::this_thread::sleep_for(1s);
  }
  if (up != targets) {
    std::fprintf(stderr, "fleet: only %d of %d targets came up; recent failures:\n%s\n", up,
                 targets, fetch(agent, "/debug/failures?limit=5").body.c_str());
    return 1;
  }
  std::this_thread::sleep_for(quick ? 3s : 10s);  // past the first, synchronised cycles

  const Window all_healthy = measure(agent, window);
  const Scrapes gzipped = scrape_series(agent, quick ? 5 : 21, true);
  const Scrapes plain = scrape_series(agent, quick ? 5 : 21, false);
  c.freeze();
  std::this_thread::sleep_for(quick ? 3s : 10s);  // the hanging targets' first timeouts
  const Window some_hanging = measure(agent, window);
  c.thaw();
  const long peak = proc_usage(agent.pid()).peak_rss_kib;

  std::printf(
      "\npgvitals fleet: %d targets, interval %s, timeout %s, %s, %d hanging in phase 2%s\n\n",
      targets, interval.c_str(), timeout.c_str(),
      all_probes ? "all probes" : "no new_connection probe", hanging, quick ? " (quick)" : "");
  row("measure", "all healthy", std::to_string(hanging) + " frozen (SIGSTOP)");
  row("---", "---:", "---:");
  row("targets up", std::to_string(all_healthy.up), std::to_string(some_hanging.up));
  row("RSS before the window's first scrape (MiB)",
      fmt("%.1f", all_healthy.rss_before_scrape_kib / 1024.0),
      fmt("%.1f", some_hanging.rss_before_scrape_kib / 1024.0));
  row("RSS 60 s after a scrape (MiB)", fmt("%.1f", all_healthy.rss_kib / 1024.0),
      fmt("%.1f", some_hanging.rss_kib / 1024.0));
  row("pooled sessions, all targets", fmt("%.0f", all_healthy.sessions),
      fmt("%.0f", some_hanging.sessions));
  row("incidents open, opened since start",
      fmt("%.0f", all_healthy.incidents_open) + ", " + fmt("%.0f", all_healthy.incidents_opened),
      fmt("%.0f", some_hanging.incidents_open) + ", " + fmt("%.0f", some_hanging.incidents_opened));
  row("threads", std::to_string(all_healthy.threads), std::to_string(some_hanging.threads));
  row("CPU (% of a core)", fmt("%.1f", all_healthy.cpu_percent),
      fmt("%.1f", some_hanging.cpu_percent));
  row("probe cycles started in the window", fmt("%.0f", all_healthy.lag.count),
      fmt("%.0f", some_hanging.lag.count));
  row("schedule lag p99 (bucket upper bound, ms)", fmt("%.1f", all_healthy.lag.upper * 1e3),
      fmt("%.1f", some_hanging.lag.upper * 1e3));
  row("cycles started within 100 ms of schedule (%)", fmt("%.2f", all_healthy.lag.within * 100),
      fmt("%.2f", some_hanging.lag.within * 100));
  row("/metrics scrape (ms, MiB)",
      fmt("%.0f", all_healthy.scrape_ms) + ", " + fmt("%.1f", all_healthy.scrape_bytes / 1048576.0),
      fmt("%.0f", some_hanging.scrape_ms) + ", " +
          fmt("%.1f", some_hanging.scrape_bytes / 1048576.0));
  std::printf("\nscrapes, all healthy, %d of each:\n\n", quick ? 5 : 21);
  row("measure", "gzip", "plain");
  row("---", "---:", "---:");
  row("/metrics p50 (ms)", fmt("%.0f", gzipped.p50_ms), fmt("%.0f", plain.p50_ms));
  row("render + gzip threads CPU per scrape (ms)", fmt("%.1f", gzipped.render_cpu_ms),
      fmt("%.1f", plain.render_cpu_ms));
  row("machine busy while scraping (% of all cores)", fmt("%.0f", gzipped.machine_busy * 100),
      fmt("%.0f", plain.machine_busy * 100));
  row("/metrics size (MiB)", fmt("%.2f", gzipped.bytes / 1048576.0),
      fmt("%.2f", plain.bytes / 1048576.0));
  row("peak RSS while scraping (MiB)", fmt("%.1f", gzipped.peak_kib / 1024.0),
      fmt("%.1f", plain.peak_kib / 1024.0));
  std::printf("\ngzip is %.1f%% of plain\n",
              plain.bytes > 0 ? 100.0 * gzipped.bytes / plain.bytes : 0.0);
  std::printf(
      "\nall %d targets up after %.1f s; peak RSS over the run (VmHWM) %.1f MiB; windows %lld s\n",
      targets, ramp_s, peak / 1024.0, static_cast<long long>(window.count()));
  // The hung tenth must be down and every other target still up, with cycles counted.
  const bool complete = all_healthy.up == targets && some_hanging.up == healthy &&
                        all_healthy.lag.count > 0 && some_hanging.lag.count > 0 && gzipped.ok &&
                        plain.ok && gzipped.bytes < plain.bytes && gzipped.render_cpu_ms > 0;
  if (!complete)
    std::fprintf(stderr, "fleet: unexpected target counts or no cycles (see the table)\n");
  return complete ? 0 : 1;
}
