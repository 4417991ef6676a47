#include <signal.h>

#include <thread>

#include "fault_helpers.hpp"
#include "fault_proxy.hpp"
#include "sessions.hpp"

using namespace std::chrono_literals;
using namespace pgv::testing;

namespace {

// Brings an agent up on `cluster` (directly or through `port`), with a watcher on it, and
// records the baseline the scenario must return to.
struct Rig {
  PgCluster& cluster;
  AgentProcess agent;
  std::unique_ptr<Watcher> watcher;
  int fds_before = 0;

  Rig(PgCluster& c, const std::string& dsn, std::vector<std::string> extra = {})
      : cluster(c), agent(args(std::move(extra)), {{"DATABASE_URL", dsn}}) {
    REQUIRE(agent.wait_for_status("/readyz", 200, 8s));
    watcher = std::make_unique<Watcher>(agent.port());
    // A few watcher rounds before the fault: the baseline is watched, and the descriptor
    // count below includes the watcher's own connections.
    REQUIRE(eventually([&] { return answers(*watcher, "/metrics") >= 3; }, 5s));
    fds_before = agent.open_fds();
  }

  static std::vector<std::string> args(std::vector<std::string> extra) {
    std::vector<std::string> a = {"--interval", "1s", "--timeout", "500ms"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  // After recovery: no descriptor leak in the agent, no session left behind on the server.
  void check_no_growth() {
    CHECK(eventually([&] { return agent.open_fds() <= fds_before + 1; }, 3s));
    CHECK(eventually([&] { return agent_sessions(cluster) <= 2; }, 3s));
    CHECK_FALSE(agent.wait_exit(0ms).has_value());
  }
};

void detect_and_recover(Rig& rig, FaultReport& report, const std::function<void()>& fault,
                        const std::function<void()>& end_fault) {
  const auto t0 = SteadyClock::now();
  fault();
  rig.agent.wait_for_status("/healthz", 503, 3s);
  rig.watcher->catch_up();
  report.detected = rig.watcher->first("/healthz", 503, t0);
  const auto t1 = SteadyClock::now();
  end_fault();
  rig.agent.wait_for_status("/healthz", 200, 4s);
  rig.watcher->catch_up();
  report.recovered = rig.watcher->first("/healthz", 200, t1);
  check_always_answered(*rig.watcher, t0, report);
  report.print();
  REQUIRE(report.detected);
  CHECK(*report.detected <= kInterval + kTimeout + kSlack);
  REQUIRE(report.recovered);
  CHECK(*report.recovered <= 2 * kInterval + kSlack);
}

}  // namespace

TEST_CASE("fault: fast shutdown and restart", "[matrix][fault][integration]") {
  PgCluster cluster;
  Rig rig(cluster, cluster.dsn());
  FaultReport report("fast shutdown");
  detect_and_recover(
      rig, report, [&] { cluster.stop(StopMode::fast); }, [&] { cluster.start(); });
  const auto trace = last_trace(rig.agent);
  INFO(trace.dump());
  CHECK(field(trace, "phase") == "connect");
  CHECK((field(trace, "reason") == "refused" || field(trace, "reason") == "shutdown"));
  rig.check_no_growth();
}

TEST_CASE("fault: immediate shutdown (crash) and restart", "[fault][integration]") {
  PgCluster cluster;
  Rig rig(cluster, cluster.dsn());
  FaultReport report("immediate shutdown");
  detect_and_recover(
      rig, report, [&] { cluster.stop(StopMode::immediate); }, [&] { cluster.start(); });
  CHECK(field(last_trace(rig.agent), "phase") == "connect");
  rig.check_no_growth();
}

TEST_CASE("fault: kill -9 of the postmaster and restart", "[fault][integration]") {
  PgCluster cluster;
  Rig rig(cluster, cluster.dsn());
  FaultReport report("kill -9 postmaster");
  detect_and_recover(
      rig, report, [&] { cluster.kill_postmaster(); }, [&] { cluster.start(); });
  // Refused once the orphaned backends are gone; until then they still hold the listening
  // socket, so a connect is taken by the kernel and then dropped (shutdown). Which one the
  // last trace shows depends on when the restart comes.
  const std::string reason = field(last_trace(rig.agent), "reason");
  CHECK((reason == "refused" || reason == "shutdown"));
  rig.check_no_growth();
}

TEST_CASE("fault: the agent's backends terminated over and over never look like an outage",
          "[matrix][fault][integration]") {
  PgCluster cluster;
  Rig rig(cluster, cluster.dsn());
  const auto t0 = SteadyClock::now();
  int killed = 0;
  while (SteadyClock::now() - t0 < 5s) {
    killed += terminate_agent_sessions(cluster);
    // The stimulus, not a wait: a kill every 250 ms for 5 s, so probes keep meeting pooled
    // sessions that died since the last cycle.
    std::this_thread::sleep_for(250ms);
  }
  FaultReport report("pg_terminate_backend x" + std::to_string(killed));
  check_always_answered(*rig.watcher, t0, report);
  report.print();
  CHECK(killed >= 5);
  // Pre-ping hides it: /healthz never failed, and the discarded sessions are counted.
  CHECK(rig.watcher->count_not("/healthz", 200, t0) == 0);
  CHECK(metric_value(rig.agent.get("/metrics").body, "pgvitals_pool_connections_closed_total",
                     "reason=\"invalidated\"") >= 3);
  rig.check_no_growth();
}

TEST_CASE("fault: a database frozen for several timeouts, then thawed",
          "[matrix][fault][integration]") {
  PgCluster cluster;
  Rig rig(cluster, cluster.dsn());
  FaultReport report("SIGSTOP 4 s");
  // Frozen mid-cycle, a later probe of that cycle (activity) would meet the freeze first.
  wait_cycle_end(rig.agent);
  detect_and_recover(
      rig, report,
      [&] {
        cluster.freeze();
        std::this_thread::sleep_for(4s);  // the stimulus: frozen for 8 probe timeouts
      },
      [&] { cluster.thaw(); });
  CHECK(*report.detected <= kInterval + kTimeout + kSlack);
  // The first failure of the freeze: the pooled session's SELECT ran out of time (the
  // connectivity probe skips the pre-ping; its query is the ping).
  bool query_timeout = false;
  const auto all = nlohmann::json::parse(rig.agent.get("/debug/failures?limit=256").body);
  for (const auto& f : all["failures"]) {
    if (f["probe"] == "connectivity" && f["phase"] == "query" && f["reason"] == "timeout") {
      query_timeout = true;
    }
  }
  INFO(all.dump());
  CHECK(query_timeout);
  rig.check_no_growth();
}

TEST_CASE("fault: added network latency shows in the probe histogram", "[fault][integration]") {
  PgCluster cluster;
  FaultProxy proxy(cluster.port());
  const std::string dsn = "postgresql://pgvitals:" + cluster.password() +
                          "@127.0.0.1:" + std::to_string(proxy.port()) + "/postgres";
  TempFile config("pool: {pre_ping: false}\n");  // one round trip per connectivity probe
  Rig rig(cluster, dsn, {"--config", config.path()});
  const std::string sel = "probe=\"connectivity\"";
  auto probes_done = [&] {
    return metric_value(rig.agent.get("/metrics").body, "pgvitals_probe_duration_seconds_count",
                        sel);
  };
  // The mean duration of the next `probes` successful connectivity probes.
  auto mean_over = [&](int probes) {
    const auto m0 = rig.agent.get("/metrics").body;
    const double n0 = metric_value(m0, "pgvitals_probe_duration_seconds_count", sel);
    std::string m1;
    REQUIRE(eventually(
        [&] {
          m1 = rig.agent.get("/metrics").body;
          return metric_value(m1, "pgvitals_probe_duration_seconds_count", sel) >= n0 + probes;
        },
        std::chrono::seconds(2 * probes + 2)));
    const double n = metric_value(m1, "pgvitals_probe_duration_seconds_count", sel) -
                     metric_value(m0, "pgvitals_probe_duration_seconds_count", sel);
    const double s = metric_value(m1, "pgvitals_probe_duration_seconds_sum", sel) -
                     metric_value(m0, "pgvitals_probe_duration_seconds_sum", sel);
    return n > 0 ? s / n : -1;
  };
  const double before = mean_over(4);
  const double done = probes_done();
  proxy.delay(50ms);
  // The probe in flight when the delay began (if any) is counted by done + 2 at the latest
  // (+1 for it, +1 for one more the cached exposition may not have shown yet): every probe
  // counted after that started under the delay.
  REQUIRE(eventually([&] { return probes_done() >= done + 2; }, 4s));
  const double after = mean_over(4);
  const double added_ms = (after - before) * 1e3;
  std::cout << "fault latency: connectivity mean " << before * 1e3 << " ms -> " << after * 1e3
            << " ms, added " << added_ms << " ms for 50 ms injected\n";
  CHECK(added_ms == Approx(50).margin(5));
  CHECK(rig.agent.get("/healthz").status == 200);  // slow is not down
  proxy.pass();
}

TEST_CASE("fault: a black-holed network is a timeout, and it recovers", "[fault][integration]") {
  PgCluster cluster;
  FaultProxy proxy(cluster.port());
  const std::string dsn = "postgresql://pgvitals:" + cluster.password() +
                          "@127.0.0.1:" + std::to_string(proxy.port()) + "/postgres";
  Rig rig(cluster, dsn);
  FaultReport report("blackhole");
  detect_and_recover(
      rig, report,
      [&] {
        proxy.blackhole();
        std::this_thread::sleep_for(3s);  // the stimulus: black-holed for 6 probe timeouts
      },
      [&] { proxy.pass(); });
  CHECK(field(last_trace(rig.agent), "reason") == "timeout");
  CHECK_FALSE(rig.agent.wait_exit(0ms).has_value());
}

TEST_CASE("fault: connections reset by the network are counted and recovered from",
          "[fault][integration]") {
  PgCluster cluster;
  FaultProxy proxy(cluster.port());
  const std::string dsn = "postgresql://pgvitals:" + cluster.password() +
                          "@127.0.0.1:" + std::to_string(proxy.port()) + "/postgres";
  Rig rig(cluster, dsn);
  FaultReport report("TCP resets");
  detect_and_recover(
      rig, report,
      [&] {
        proxy.reset();
        // The stimulus: every connection reset for 2.5 s, two or three probe cycles.
        std::this_thread::sleep_for(2500ms);
      },
      [&] { proxy.pass(); });
  CHECK(proxy.connections_reset() >= 2);
  const auto m = rig.agent.get("/metrics").body;
  double failures = 0;
  for (const char* reason : {"shutdown", "other", "refused"}) {
    const double v = metric_value(m, "pgvitals_probe_failures_total",
                                  std::string("probe=\"connectivity\",reason=\"") + reason + "\"");
    if (!std::isnan(v)) failures += v;
  }
  CHECK(failures >= 1);
}

TEST_CASE("fault: every connection slot taken, then released", "[fault][integration]") {
  ClusterOptions options;
  options.max_connections = 20;
  PgCluster cluster(options);
  Rig rig(cluster, cluster.dsn());
  const auto t0 = SteadyClock::now();
  auto fillers = open_sessions(cluster, 40, "pgvitals", "filler");
  REQUIRE(rig.agent.wait_for_status("/readyz", 503, 8s));
  CHECK(rig.agent.get("/healthz").status == 200);  // saturated, not down
  CHECK(field(last_trace(rig.agent, "new_connection"), "sqlstate") == "53300");
  fillers.clear();
  CHECK(rig.agent.wait_for_status("/readyz", 200, 8s));
  FaultReport report("slots full");
  check_always_answered(*rig.watcher, t0, report);
  report.print();
  rig.check_no_growth();
}

TEST_CASE("fault: the password changed under the agent, then restored", "[fault][integration]") {
  PgCluster cluster;
  Rig rig(cluster, cluster.dsn());
  FaultReport report("password changed");
  detect_and_recover(
      rig, report,
      [&] {
        cluster.admin("ALTER ROLE pgvitals PASSWORD 'changed-under-the-agent'");
        // Pooled sessions outlive a password change; only new connections meet it.
        terminate_agent_sessions(cluster);
      },
      [&] { cluster.admin("ALTER ROLE pgvitals PASSWORD '" + cluster.password() + "'"); });
  const auto trace = last_trace(rig.agent);
  INFO(trace.dump());
  CHECK(field(trace, "reason") == "auth");
  CHECK(field(trace, "sqlstate") == "28P01");
  CHECK(rig.agent.log().find(cluster.password()) == std::string::npos);
  rig.check_no_growth();
}

TEST_CASE("fault: a host name that does not resolve spares the other targets",
          "[fault][integration]") {
  PgCluster cluster;
  TempFile config(
      "interval: 1s\ntimeout: 500ms\ntargets:\n  - name: good\n    dsn: " + cluster.dsn() +
      "\n  - name: lost\n    dsn: postgresql://u:pw@no-such-host.invalid:5432/db\n"
      "    required: false\n");
  AgentProcess agent({"--config", config.path()}, {});
  REQUIRE(agent.wait_for_status("/healthz/good", 200, 5s));
  REQUIRE(agent.wait_for_status("/healthz/lost", 503, 5s));
  CHECK(agent.get("/healthz").status == 200);  // lost is not required
  const auto failures = agent.get("/debug/failures?target=lost&limit=1").body;
  INFO(failures);
  CHECK(failures.find("could not translate host name") != std::string::npos);
  CHECK(failures.find("\"reason\": \"dns\"") != std::string::npos);
  CHECK(failures.find("\"phase\": \"dns\"") != std::string::npos);
  Watcher watcher(agent.port());
  const auto t0 = SteadyClock::now();
  // Watched over two more cycles of the lost target (each ends with a failed lookup).
  auto lost_cycle = [&] {
    return metric_value(agent.get("/metrics").body,
                        "pgvitals_scheduler_last_cycle_timestamp_seconds", "target=\"lost\"");
  };
  double cycle0 = 0;
  REQUIRE(eventually([&] { return !std::isnan(cycle0 = lost_cycle()); }));
  REQUIRE(eventually([&] { return lost_cycle() >= cycle0 + 1.5; }, 5s));
  watcher.catch_up();
  FaultReport report("unresolvable host");
  check_always_answered(watcher, t0, report);
  report.print();
}

TEST_CASE("fault: many stop and start cycles leave no fd or memory growth",
          "[fault][integration]") {
  PgCluster cluster;
  Rig rig(cluster, cluster.dsn());
  const long rss_before = rss_kib(rig.agent.pid());
  const auto t0 = SteadyClock::now();
  for (int i = 0; i < 8; ++i) {
    cluster.stop(i % 2 == 0 ? StopMode::fast : StopMode::immediate);
    // Generous deadlines: under ASan on a loaded CI machine one recovery was not seen within 4 s,
    // and this case is about what the cycles leave behind, not how fast each is seen.
    REQUIRE(rig.agent.wait_for_status("/healthz", 503, 10s));
    cluster.start();
    REQUIRE(rig.agent.wait_for_status("/healthz", 200, 10s));
  }
  FaultReport report("8 stop/start cycles");
  check_always_answered(*rig.watcher, t0, report);
  report.print();
  rig.check_no_growth();
  const long rss_after = rss_kib(rig.agent.pid());
  std::cout << "fault cycles: RSS " << rss_before << " KiB -> " << rss_after << " KiB\n";
  if (!kSanitized) CHECK(rss_after - rss_before < 1024);
}
