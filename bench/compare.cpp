// pgvitals beside prometheus-postgres-exporter, against one throwaway PostgreSQL with
// pg_stat_statements, measured in one run.
//   compare [--quick]
// Prints one table with medians and ratios; see docs/BENCHMARKS.md.
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "agent_process.hpp"
#include "async/blocking.hpp"
#include "bench_util.hpp"
#include "child.hpp"
#include "helpers.hpp"
#include "net.hpp"
#include "pg_cluster.hpp"

using namespace std::chrono_literals;
using namespace pgv::bench;
using pgv::testing::http_get;
using SteadyClock = std::chrono::steady_clock;

namespace {

struct Wrk {
  double rps = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

double to_ms(const std::string& value, const std::string& unit) {
  const double v = std::stod(value);
  if (unit == "us") return v / 1000;
  if (unit == "s") return v * 1000;
  return v;
}

// `gzip`: each request asks for Accept-Encoding: gzip, as Prometheus does.
Wrk run_wrk(int port, const std::string& path, int seconds, bool gzip = false) {
  std::vector<std::string> argv = {"wrk", "-t2", "-c4", "-d" + std::to_string(seconds) + "s",
                                   "--latency"};
  if (gzip) argv.insert(argv.end(), {"-H", "Accept-Encoding: gzip"});
  argv.push_back("http://127.0.0.1:" + std::to_string(port) + path);
  const auto r = pgv::testing::run_capture(argv, {});
  Wrk w;
  std::smatch m;
  if (std::regex_search(r.output, m, std::regex(R"(Requests/sec:\s+([0-9.]+))")))
    w.rps = std::stod(m[1]);
  if (std::regex_search(r.output, m, std::regex(R"(50%\s+([0-9.]+)(us|ms|s))")))
    w.p50_ms = to_ms(m[1], m[2]);
  if (std::regex_search(r.output, m, std::regex(R"(99%\s+([0-9.]+)(us|ms|s))")))
    w.p99_ms = to_ms(m[1], m[2]);
  return w;
}

struct RoleWork {
  double calls = 0;
  double exec_ms = 0;
};

std::map<std::string, RoleWork> statement_work(pgv::testing::PgCluster& cluster) {
  std::map<std::string, RoleWork> out;
  const auto r = cluster.admin(
      "SELECT r.rolname, sum(s.calls), sum(s.total_exec_time) FROM pg_stat_statements s "
      "JOIN pg_roles r ON r.oid = s.userid GROUP BY r.rolname");
  for (int i = 0; i < r.rows(); ++i) {
    out[std::string(r.get(i, 0))] = {std::stod(std::string(r.get(i, 1))),
                                     std::stod(std::string(r.get(i, 2)))};
  }
  return out;
}

void reset_statements(pgv::testing::PgCluster& cluster) {
  cluster.admin("SELECT pg_stat_statements_reset()");
}

bool wait_http(int port, const std::string& path, int status, std::chrono::seconds timeout) {
  const auto until = SteadyClock::now() + timeout;
  while (SteadyClock::now() < until) {
    if (http_get(port, path).status == status) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

void row(const char* what, const std::string& a, const std::string& b, const std::string& ratio) {
  std::printf("| %-58s | %18s | %18s | %12s |\n", what, a.c_str(), b.c_str(), ratio.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const int wrk_seconds = quick ? 2 : 10;
  const int scrapes = quick ? 5 : 20;

  pgv::testing::ClusterOptions options;
  options.settings = {"shared_preload_libraries=pg_stat_statements",
                      "pg_stat_statements.track=all"};
  pgv::testing::PgCluster cluster(options);
  cluster.admin("CREATE EXTENSION pg_stat_statements");
  cluster.admin("CREATE ROLE exporter LOGIN PASSWORD '" + cluster.password() +
                "' IN ROLE pg_monitor");
  const std::string dsn = cluster.dsn();
  const std::string exporter_dsn = cluster.dsn("exporter") + "?sslmode=disable";

  // 1. The physical limit: a raw libpq round trip, and pgvitals' reported SELECT latency.
  auto raw_conn = pgv::testing::connect_blocking(pgv::testing::params_for(dsn));
  std::vector<double> raw_us;
  for (int i = 0; i < (quick ? 200 : 2000); ++i) {
    const auto t = SteadyClock::now();
    pgv::testing::query(raw_conn, "SELECT 1");
    raw_us.push_back(std::chrono::duration<double, std::micro>(SteadyClock::now() - t).count());
  }
  // The same round trip paced like a probe (one every 100 ms, on its own thread while the
  // agent probes): an idle backend and an idle client both have to be woken up, which a
  // back-to-back loop never pays. This is the physical limit for a periodic probe.
  std::vector<double> paced_us;
  std::vector<double> probe_us;
  {
    pgv::testing::AgentProcess fast({"--interval", "100ms", "--timeout", "1s"},
                                    {{"DATABASE_URL", dsn}});
    wait_http(fast.port(), "/healthz", 200, 10s);
    double last_run = 0;
    const auto until = SteadyClock::now() + (quick ? 3s : 20s);
    std::thread paced([&] {
      while (SteadyClock::now() < until) {
        std::this_thread::sleep_for(100ms);
        const auto t = SteadyClock::now();
        pgv::testing::query(raw_conn, "SELECT 1");
        paced_us.push_back(
            std::chrono::duration<double, std::micro>(SteadyClock::now() - t).count());
      }
    });
    while (SteadyClock::now() < until) {
      const auto body =
          nlohmann::json::parse(fast.get("/healthz/default?format=json").body, nullptr, false);
      if (body.is_object()) {
        for (const auto& c : body["checks"]) {
          if (c.value("name", "") == "default" && c.value("last_run", 0.0) != last_run) {
            last_run = c.value("last_run", 0.0);
            probe_us.push_back(c.value("duration_seconds", 0.0) * 1e6);
          }
        }
      }
      std::this_thread::sleep_for(30ms);
    }
    paced.join();
  }

  // 2. Both tools running side by side, pgvitals at its default 5 s interval.
  pgv::testing::AgentProcess agent({}, {{"DATABASE_URL", dsn}});
  const int exporter_port = pgv::testing::free_port();
  Child exporter(
      {"prometheus-postgres-exporter",
       "--web.listen-address=127.0.0.1:" + std::to_string(exporter_port), "--log.level=warn"},
      {{"DATA_SOURCE_NAME", exporter_dsn}}, "/tmp/pgvitals-compare-exporter.log");
  if (!wait_http(agent.port(), "/healthz", 200, 15s) ||
      !wait_http(exporter_port, "/metrics", 200, 15s)) {
    std::fprintf(stderr, "compare: a tool did not come up\n");
    return 1;
  }
  std::this_thread::sleep_for(2s);

  // Idle: no scrapes for a while.
  const int idle_s = quick ? 3 : 15;
  auto pv0 = proc_usage(agent.pid());
  auto ex0 = proc_usage(exporter.pid());
  std::this_thread::sleep_for(std::chrono::seconds(idle_s));
  auto pv1 = proc_usage(agent.pid());
  auto ex1 = proc_usage(exporter.pid());
  const double pv_idle_cpu = (pv1.cpu_seconds - pv0.cpu_seconds) / idle_s * 100;
  const double ex_idle_cpu = (ex1.cpu_seconds - ex0.cpu_seconds) / idle_s * 100;

  // Database work caused by scraping: pgvitals' probes run on their own schedule, so its
  // statements during a burst of scrapes are compared with an equal quiet window.
  reset_statements(cluster);
  const auto burst_start = SteadyClock::now();
  std::vector<double> pv_scrape_ms;
  std::vector<double> ex_scrape_ms;
  for (int i = 0; i < scrapes; ++i) {
    pv_scrape_ms.push_back(agent.get("/metrics").seconds * 1e3);
    ex_scrape_ms.push_back(http_get(exporter_port, "/metrics", {}, 30s).seconds * 1e3);
  }
  const double burst_s = std::chrono::duration<double>(SteadyClock::now() - burst_start).count();
  const auto during = statement_work(cluster);
  const double ex_calls_per_scrape =
      during.count("exporter") ? during.at("exporter").calls / scrapes : 0;
  const double ex_ms_per_scrape =
      during.count("exporter") ? during.at("exporter").exec_ms / scrapes : 0;

  // pgvitals' own background work: statements and server time per probe cycle.
  reset_statements(cluster);
  const std::string cycles_sel = "probe=\"connectivity\"";
  const double c0 =
      metric_value(agent.get("/metrics").body, "pgvitals_probe_duration_seconds_count", cycles_sel);
  std::this_thread::sleep_for(quick ? 6s : 31s);
  const double cycles = metric_value(agent.get("/metrics").body,
                                     "pgvitals_probe_duration_seconds_count", cycles_sel) -
                        c0;
  const auto background = statement_work(cluster);
  const double pv_calls_per_cycle =
      cycles > 0 && background.count("pgvitals") ? background.at("pgvitals").calls / cycles : 0;
  const double pv_ms_per_cycle =
      cycles > 0 && background.count("pgvitals") ? background.at("pgvitals").exec_ms / cycles : 0;
  // Statements pgvitals ran during the scrape burst beyond its background rate.
  const double pv_burst_calls = during.count("pgvitals") ? during.at("pgvitals").calls : 0;
  const double pv_expected = pv_calls_per_cycle * burst_s / 5.0;
  const double pv_calls_per_scrape =
      std::max(0.0, pv_burst_calls - pv_expected - pv_calls_per_cycle) / scrapes;

  // Throughput and latency of /metrics under wrk, 4 connections; resources meanwhile.
  pv0 = proc_usage(agent.pid());
  const Wrk pv_wrk = run_wrk(agent.port(), "/metrics", wrk_seconds);
  pv1 = proc_usage(agent.pid());
  ex0 = proc_usage(exporter.pid());
  const Wrk ex_wrk = run_wrk(exporter_port, "/metrics", wrk_seconds);
  ex1 = proc_usage(exporter.pid());
  const Wrk pv_gzip = run_wrk(agent.port(), "/metrics", wrk_seconds, true);
  const Wrk ex_gzip = run_wrk(exporter_port, "/metrics", wrk_seconds, true);
  const Wrk pv_health = run_wrk(agent.port(), "/healthz", wrk_seconds);
  const double pv_load_cpu = (pv1.cpu_seconds - pv0.cpu_seconds) / wrk_seconds * 100;
  const double ex_load_cpu = (ex1.cpu_seconds - ex0.cpu_seconds) / wrk_seconds * 100;

  // The database frozen: how each answers, and how long each takes to say it is down.
  cluster.freeze();
  const auto frozen_at = SteadyClock::now();
  const double pv_frozen_ms = agent.get("/metrics").seconds * 1e3;
  const double pv_health_frozen_ms = agent.get("/healthz").seconds * 1e3;
  // Each tool polled on its own thread: a scrape of the exporter can block for a minute,
  // which must not delay noticing pgvitals' answer.
  const auto window = quick ? 15s : 60s;
  pgv::testing::HttpResult ex_frozen;
  double ex_down_s = -1;
  std::thread ex_poll([&] {
    ex_frozen = http_get(exporter_port, "/metrics", {}, 60s);
    while (SteadyClock::now() - frozen_at < window && ex_down_s < 0) {
      const auto m = http_get(exporter_port, "/metrics", {}, 60s);
      if (m.status == 200 && metric_value(m.body, "pg_up") == 0) {
        ex_down_s = std::chrono::duration<double>(SteadyClock::now() - frozen_at).count();
      }
      std::this_thread::sleep_for(50ms);
    }
  });
  double pv_down_s = -1;
  while (SteadyClock::now() - frozen_at < window && pv_down_s < 0) {
    if (agent.get("/healthz").status == 503) {
      pv_down_s = std::chrono::duration<double>(SteadyClock::now() - frozen_at).count();
    }
    std::this_thread::sleep_for(50ms);
  }
  ex_poll.join();
  cluster.thaw();

  const auto pv_end = proc_usage(agent.pid());
  const auto ex_end = proc_usage(exporter.pid());
  auto ratio = [](double a, double b) { return b > 0 ? fmt("%.1fx", a / b) : std::string("-"); };

  std::printf("\npgvitals vs prometheus-postgres-exporter 0.11.1, PostgreSQL 15, same run%s\n\n",
              quick ? " (quick)" : "");
  row("measure", "pgvitals", "postgres_exporter", "ratio");
  row("---", "---:", "---:", "---:");
  row("/metrics throughput, wrk 4 connections (req/s)", fmt("%.0f", pv_wrk.rps),
      fmt("%.0f", ex_wrk.rps), ratio(pv_wrk.rps, ex_wrk.rps));
  row("/metrics latency p50 under wrk (ms)", fmt("%.3f", pv_wrk.p50_ms), fmt("%.3f", ex_wrk.p50_ms),
      ratio(ex_wrk.p50_ms, pv_wrk.p50_ms));
  row("/metrics latency p99 under wrk (ms)", fmt("%.3f", pv_wrk.p99_ms), fmt("%.3f", ex_wrk.p99_ms),
      ratio(ex_wrk.p99_ms, pv_wrk.p99_ms));
  row("/metrics gzip-encoded under wrk (req/s)", fmt("%.0f", pv_gzip.rps), fmt("%.0f", ex_gzip.rps),
      ratio(pv_gzip.rps, ex_gzip.rps));
  row("/metrics gzip-encoded latency p99 (ms)", fmt("%.3f", pv_gzip.p99_ms),
      fmt("%.3f", ex_gzip.p99_ms), ratio(ex_gzip.p99_ms, pv_gzip.p99_ms));
  row("/healthz under wrk: req/s, p99 (ms)",
      fmt("%.0f", pv_health.rps) + ", " + fmt("%.3f", pv_health.p99_ms), "-", "-");
  row("/metrics single scrape, median (ms)", fmt("%.3f", median(pv_scrape_ms)),
      fmt("%.3f", median(ex_scrape_ms)), ratio(median(ex_scrape_ms), median(pv_scrape_ms)));
  row("statements caused per scrape", fmt("%.1f", pv_calls_per_scrape),
      fmt("%.1f", ex_calls_per_scrape), "-");
  row("server time caused per scrape (ms)", "0", fmt("%.3f", ex_ms_per_scrape), "-");
  row("statements per minute (15 s scrapes; pgvitals: 5 s probes)",
      fmt("%.0f", pv_calls_per_cycle * 12), fmt("%.0f", ex_calls_per_scrape * 4),
      ratio(ex_calls_per_scrape * 4, pv_calls_per_cycle * 12));
  row("server time per minute (ms)", fmt("%.2f", pv_ms_per_cycle * 12),
      fmt("%.2f", ex_ms_per_scrape * 4), ratio(ex_ms_per_scrape * 4, pv_ms_per_cycle * 12));
  row("pgvitals probe cycle: statements, server time (ms)",
      fmt("%.1f", pv_calls_per_cycle) + ", " + fmt("%.3f", pv_ms_per_cycle), "-", "-");
  row("RSS idle / at the end (MiB)",
      fmt("%.1f", pv1.rss_kib / 1024.0) + " / " + fmt("%.1f", pv_end.rss_kib / 1024.0),
      fmt("%.1f", ex1.rss_kib / 1024.0) + " / " + fmt("%.1f", ex_end.rss_kib / 1024.0),
      ratio(ex_end.rss_kib, pv_end.rss_kib));
  row("CPU idle (% of a core)", fmt("%.2f", pv_idle_cpu), fmt("%.2f", ex_idle_cpu), "-");
  row("CPU under wrk (% of a core)", fmt("%.1f", pv_load_cpu), fmt("%.1f", ex_load_cpu), "-");
  row("threads", std::to_string(pv_end.threads), std::to_string(ex_end.threads), "-");
  row("database frozen: /metrics answer (ms)", fmt("%.3f", pv_frozen_ms),
      ex_frozen.status == 0 ? "no answer in 60 s" : fmt("%.0f", ex_frozen.seconds * 1e3), "-");
  row("database frozen: health answer (ms)", fmt("%.3f", pv_health_frozen_ms), "-", "-");
  row("database frozen: time to report down (s)", fmt("%.2f", pv_down_s),
      ex_down_s < 0 ? "never (in the window)" : fmt("%.2f", ex_down_s), "-");
  row("SELECT 1: raw libpq round trip, back to back, p50 (us)", fmt("%.0f", median(raw_us)), "-",
      "-");
  row("SELECT 1: raw libpq round trip, one per 100 ms, p50 (us)", fmt("%.0f", median(paced_us)),
      "-", "-");
  row("SELECT 1: pgvitals probe p50 (us) / vs paced raw", fmt("%.0f", median(probe_us)), "-",
      ratio(median(probe_us), median(paced_us)));
  std::printf("\nsamples: %zu raw round trips, %zu probe results, %d scrapes each, wrk %d s\n",
              raw_us.size(), probe_us.size(), scrapes, wrk_seconds);
  // A run that could not measure something fails, so the CI smoke run means something.
  const bool complete = pv_wrk.rps > 0 && ex_wrk.rps > 0 && pv_gzip.rps > 0 && ex_gzip.rps > 0 &&
                        pv_health.rps > 0 && !probe_us.empty() && !paced_us.empty() &&
                        pv_down_s >= 0;
  if (!complete) std::fprintf(stderr, "compare: some measurements are missing (see the table)\n");
  return complete ? 0 : 1;
}
