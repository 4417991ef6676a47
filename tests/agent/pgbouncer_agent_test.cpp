// Databases watched through a real PgBouncer (Debian's 1.18, started by the harness), the
// pooler's own admin console as a `kind: pgbouncer` target, and the hop a failure of a
// `via:` target is placed on.
#include <libpq-fe.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "agent_helpers.hpp"
#include "helpers.hpp"
#include "pgbouncer.hpp"

using namespace std::chrono_literals;
using namespace pgv::testing;
using pgv::Clock;

namespace {

using Seconds = std::chrono::duration<double>;
using Conn = std::unique_ptr<PGconn, decltype(&PQfinish)>;
using Res = std::unique_ptr<PGresult, decltype(&PQclear)>;

Conn connect(const std::string& dsn) {
  return Conn(PQconnectdb((dsn + "?connect_timeout=5").c_str()), &PQfinish);
}

std::string scalar(const Conn& conn, const std::string& sql) {
  const Res r(PQexec(conn.get(), sql.c_str()), &PQclear);
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) return PQresultErrorMessage(r.get());
  return PQgetvalue(r.get(), 0, 0);
}

const std::vector<std::string> kDatabaseProbes = {"connectivity", "new_connection", "lifecycle",
                                                  "settings",     "activity",       "replication"};

// A server, a PgBouncer in front of it, and an agent watching the pooler (`bouncer`), the
// database through it (`app`, via: bouncer) and the same server directly (`direct`).
struct Path {
  PgCluster server;
  std::unique_ptr<PgBouncer> bouncer;
  std::unique_ptr<TempFile> config;
  std::unique_ptr<AgentProcess> agent;

  using Extra = std::function<std::string(const PgBouncer&)>;
  explicit Path(PgBouncerOptions options = {}, const Extra& extra = nullptr) {
    bouncer = std::make_unique<PgBouncer>(server, std::move(options));
    config = std::make_unique<TempFile>(
        "interval: 1s\ntimeout: 800ms\ntargets:\n"
        "  - {name: bouncer, kind: pgbouncer, dsn: '" +
        bouncer->admin_dsn() + "'}\n  - {name: app, via: bouncer, dsn: '" + bouncer->dsn() +
        "'}\n  - {name: direct, dsn: '" + server.dsn() + "'}\n" +
        (extra ? extra(*bouncer) : std::string()));
    agent =
        std::make_unique<AgentProcess>(std::vector<std::string>{"--config", config->path()}, Env{});
    REQUIRE(agent->wait_for_status("/healthz", 200, 15s));
  }

  // Until `app` has found `direct` through the pooler's SHOW DATABASES: both hops up and
  // the added latency measured. An agent that has been running a while is there.
  void wait_path_known() const {
    REQUIRE(eventually(
        [&] { return !std::isnan(value("pgvitals_path_added_latency_seconds", "target=\"app\"")); },
        10s));
  }

  std::string metrics() const { return agent->get("/metrics").body; }
  double value(const std::string& metric, const std::string& labels = "") const {
    return metric_value(metrics(), metric, labels);
  }
  bool has_success(const std::string& target, const std::string& probe) const {
    return !std::isnan(value("pgvitals_probe_last_success_timestamp_seconds",
                             "probe=\"" + probe + "\",target=\"" + target + "\""));
  }
  // The newest failure trace of `target` after `since_unix`, or null.
  nlohmann::json failure_after(const std::string& target, double since_unix) const {
    const auto body = nlohmann::json::parse(agent->get("/debug/failures").body, nullptr, false);
    if (body.is_discarded()) return nullptr;
    for (const auto& f : body["failures"]) {
      if (f["target"] == target && f["time"].get<double>() > since_unix) return f;
    }
    return nullptr;
  }
  // Waits for a failure of `target` placed on `hop`; the seconds from `since` it took.
  std::optional<double> hop_detected(const std::string& target, const std::string& hop,
                                     Clock::time_point since, double since_unix,
                                     std::chrono::seconds timeout = 15s) const {
    nlohmann::json last;
    const bool seen = eventually(
        [&] {
          last = failure_after(target, since_unix);
          return !last.is_null() && last.value("hop", "") == hop;
        },
        timeout);
    INFO("last failure: " << last.dump());
    CHECK(seen);
    if (!seen) return std::nullopt;
    return Seconds(Clock::now() - since).count();
  }
};

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

TEST_CASE("pgbouncer: a database through a transaction or session pooler: up, every probe passes",
          "[pgbouncer][integration][matrix]") {
  const std::string mode = GENERATE(std::string("transaction"), std::string("session"));
  INFO("pool_mode " << mode);
  PgBouncerOptions options;
  options.pool_mode = mode;
  options.default_pool_size = 10;
  // A target pointed at the pooler without `via`: the refused `options` parameter is found
  // out at its first connect.
  Path path(options, [](const PgBouncer& b) {
    return "  - {name: undeclared, dsn: '" + b.dsn("postgres") + "'}\n";
  });
  for (const char* target : {"app", "undeclared"}) {
    for (const std::string& probe : kDatabaseProbes) {
      INFO(target << " " << probe);
      CHECK(eventually([&] { return path.has_success(target, probe); }, 10s));
    }
  }
  CHECK(eventually([&] { return path.has_success("bouncer", "pooler"); }, 5s));
  INFO(path.agent->get("/debug/failures").body);
  const std::string m = path.metrics();
  CHECK(metric_value(m, "pgvitals_up", "target=\"app\"") == 1);
  CHECK(metric_value(m, "pgvitals_up", "target=\"undeclared\"") == 1);
  CHECK(metric_value(m, "pgvitals_up", "target=\"bouncer\"") == 1);
  // The pooler's own view: its client count, max_client_conn, the agent's pool in it.
  CHECK(metric_value(m, "pgvitals_pgbouncer_max_client_connections", "target=\"bouncer\"") == 100);
  CHECK(metric_value(m, "pgvitals_pgbouncer_client_connections", "target=\"bouncer\"") >= 2);
  CHECK(metric_value(m, "pgvitals_pgbouncer_pool_size",
                     "database=\"postgres\",target=\"bouncer\"") == 10);
  CHECK(metric_value(
            m, "pgvitals_pgbouncer_clients",
            "database=\"postgres\",state=\"active\",target=\"bouncer\",user=\"pgvitals\"") >= 0);
  CHECK(metric_value(m, "pgvitals_pgbouncer_transactions_total",
                     "database=\"postgres\",target=\"bouncer\"") > 0);
  // Both hops up, and the latency the pooler adds is measured against `direct`.
  CHECK(eventually([&] {
    const std::string now = path.metrics();
    return metric_value(now, "pgvitals_path_hop_up", "hop=\"pooler\",target=\"app\"") == 1 &&
           metric_value(now, "pgvitals_path_hop_up", "hop=\"server\",target=\"app\"") == 1 &&
           !std::isnan(metric_value(now, "pgvitals_path_added_latency_seconds", "target=\"app\""));
  }));
  CHECK(std::isnan(metric_value(m, "pgvitals_path_hop_up", "target=\"direct\"")));
  CHECK(path.agent->get("/healthz/app?verbose").status == 200);
  const CommandResult lint = run_capture({"promtool", "check", "metrics"}, {}, m);
  INFO(lint.output);
  CHECK(lint.exit_code == 0);

  // Nothing the agent did on a server session stays for the next client: with the agent's
  // statement_timeout in force (it sets it only as a startup option, never towards a
  // pooler), this 1.2 s sleep would fail.
  const Conn client = connect(path.bouncer->dsn());
  REQUIRE(PQstatus(client.get()) == CONNECTION_OK);
  for (int i = 0; i < 5; ++i) {
    CHECK(scalar(client, "SHOW statement_timeout") == "0");
    CHECK(scalar(client, "SELECT current_setting('pgvitals.lifecycle', true)") != "set");
  }
  CHECK(scalar(client, "SELECT pg_sleep(1.2)::text") == "");
}

TEST_CASE("pgbouncer: a full pool shows waiting clients, a growing wait and saturation 1",
          "[pgbouncer][integration]") {
  PgBouncerOptions options;
  options.default_pool_size = 2;
  Path path(options);
  const std::string pool = "database=\"postgres\",target=\"bouncer\",user=\"postgres\"";
  // Six clients of their own pool (user postgres), each holding a server connection for 5 s.
  std::vector<std::thread> clients;
  for (int i = 0; i < 6; ++i) {
    clients.emplace_back([&] {
      const Conn c = connect(path.bouncer->dsn("postgres"));
      scalar(c, "SELECT pg_sleep(5)::text");
    });
  }
  double first_wait = 0;
  CHECK(eventually(
      [&] {
        const std::string m = path.metrics();
        first_wait = metric_value(m, "pgvitals_pgbouncer_max_wait_seconds", pool);
        return metric_value(m, "pgvitals_pgbouncer_clients_waiting", pool) >= 3 &&
               metric_value(m, "pgvitals_pgbouncer_pool_saturation_ratio", pool) == 1 &&
               metric_value(m, "pgvitals_pgbouncer_server_connections",
                            "database=\"postgres\",state=\"active\",target=\"bouncer\","
                            "user=\"postgres\"") == 2;
      },
      4s));
  double later_wait = 0;
  CHECK(eventually(
      [&] {
        later_wait = path.value("pgvitals_pgbouncer_max_wait_seconds", pool);
        return later_wait > first_wait;
      },
      3s));
  std::fprintf(stderr, "pgbouncer: longest wait %.2f s, then %.2f s\n", first_wait, later_wait);
  for (auto& t : clients) t.join();
  CHECK(eventually(
      [&] {
        const std::string m = path.metrics();
        return metric_value(m, "pgvitals_pgbouncer_clients_waiting", pool) == 0 &&
               metric_value(m, "pgvitals_pgbouncer_max_wait_seconds", pool) == 0 &&
               metric_value(m, "pgvitals_pgbouncer_pool_saturation_ratio", pool) == 0;
      },
      5s));
}

TEST_CASE("pgbouncer: a frozen pooler is the failing hop, the direct target stays up",
          "[pgbouncer][integration]") {
  Path path;
  path.wait_path_known();
  const double since_unix = unix_now();
  const Clock::time_point since = Clock::now();
  path.bouncer->freeze();
  const auto detected = path.hop_detected("app", "pooler", since, since_unix);
  if (detected)
    std::fprintf(stderr, "pgbouncer: frozen pooler placed on hop pooler after %.2f s\n", *detected);
  CHECK(path.value("pgvitals_up", "target=\"direct\"") == 1);
  CHECK(path.agent->get("/healthz/direct").status == 200);
  CHECK(path.agent->get("/healthz/app").status == 503);
  CHECK(eventually([&] {
    const std::string m = path.metrics();
    return metric_value(m, "pgvitals_path_hop_up", "hop=\"pooler\",target=\"app\"") == 0 &&
           metric_value(m, "pgvitals_path_hop_up", "hop=\"server\",target=\"app\"") == 1 &&
           metric_value(m, "pgvitals_probe_failures_total",
                        "hop=\"pooler\",probe=\"connectivity\",reason=\"timeout\",target=\"app\"") >
               0;
  }));
  path.bouncer->thaw();
  CHECK(path.agent->wait_for_status("/healthz/app", 200, 10s));
}

TEST_CASE("pgbouncer: PostgreSQL stopped behind a running pooler is the failing hop",
          "[pgbouncer][integration]") {
  Path path;
  path.wait_path_known();
  const double since_unix = unix_now();
  const Clock::time_point since = Clock::now();
  path.server.stop();
  const auto detected = path.hop_detected("app", "server", since, since_unix);
  if (detected)
    std::fprintf(stderr, "pgbouncer: stopped server placed on hop server after %.2f s\n",
                 *detected);
  CHECK(path.value("pgvitals_up", "target=\"bouncer\"") == 1);
  CHECK(eventually(
      [&] { return path.value("pgvitals_path_hop_up", "hop=\"server\",target=\"app\"") == 0; }));

  // `check` says it in words, with the hop.
  const CommandResult check =
      run_capture({agent_binary(), "check", "--config", path.config->path()}, {});
  INFO(check.output);
  CHECK(check.exit_code == 1);
  CHECK_THAT(check.output, Catch::Contains("failing hop: server ("));
  CHECK_THAT(check.output, Catch::Contains("pgbouncer: "));

  path.server.start();
  CHECK(path.agent->wait_for_status("/healthz/app", 200, 15s));
}

TEST_CASE("pgbouncer: an admin console refusing the role is an auth failure",
          "[pgbouncer][integration]") {
  PgCluster server;
  PgBouncer bouncer(server);
  // A role in neither stats_users nor admin_users.
  const TempFile config(
      "interval: 1s\ntimeout: 800ms\ntargets:\n"
      "  - {name: bouncer, kind: pgbouncer, dsn: '" +
      bouncer.admin_dsn("nobody") +
      "'}\n"
      // The admin console named as a database by mistake.
      "  - {name: mistaken, dsn: '" +
      bouncer.admin_dsn() + "'}\n");
  AgentProcess agent({"--config", config.path()}, {});
  nlohmann::json failures;
  auto failure_of = [&](const std::string& target) -> nlohmann::json {
    for (const auto& f : failures["failures"]) {
      if (f["target"] == target && f["probe"] == "connectivity") return f;
    }
    return nullptr;
  };
  REQUIRE(eventually([&] {
    failures = nlohmann::json::parse(agent.get("/debug/failures").body, nullptr, false);
    return !failures.is_discarded() && !failure_of("bouncer").is_null() &&
           !failure_of("mistaken").is_null();
  }));
  INFO(failures.dump(2));
  CHECK(failure_of("bouncer")["reason"] == "auth");
  // PgBouncer's own 08P01 for a role it does not know (a known one outside stats_users gets
  // "not allowed"); both are auth, not a protocol error.
  CHECK_THAT(failure_of("bouncer")["message"].get<std::string>(),
             Catch::Contains("authentication failed") || Catch::Contains("not allowed"));
  CHECK_THAT(
      failure_of("mistaken")["message"].get<std::string>(),
      Catch::Contains("names PgBouncer's admin console") && Catch::Contains("kind: pgbouncer"));
  const std::string log = agent.log();
  CHECK(log.find(server.password()) == std::string::npos);
}

TEST_CASE("pgbouncer: a restarted pooler is seen down and back within two intervals",
          "[pgbouncer][integration]") {
  Path path;
  path.bouncer->stop();
  CHECK(path.agent->wait_for_status("/healthz/bouncer", 503, 5s));
  CHECK(eventually([&] { return path.value("pgvitals_up", "target=\"app\"") == 0; }, 5s));
  const Clock::time_point started = Clock::now();
  path.bouncer->start();
  CHECK(eventually(
      [&] {
        const std::string m = path.metrics();
        return metric_value(m, "pgvitals_up", "target=\"bouncer\"") == 1 &&
               metric_value(m, "pgvitals_up", "target=\"app\"") == 1;
      },
      10s));
  const double back = Seconds(Clock::now() - started).count();
  std::fprintf(stderr, "pgbouncer: stop/start recovered in %.2f s\n", back);
  CHECK(back < 2 * 1.0 + 0.8);  // two intervals, the second probe allowed its timeout

  // An online restart (-R) hands the sockets over: no outage at all is the goal, and at
  // worst one failed cycle, recovered within two intervals.
  const double before = unix_now();
  path.bouncer->online_restart();
  std::this_thread::sleep_for(3s);  // three cycles to look at, not synchronisation
  const std::string m = path.metrics();
  CHECK(metric_value(m, "pgvitals_up", "target=\"bouncer\"") == 1);
  CHECK(metric_value(m, "pgvitals_up", "target=\"app\"") == 1);
  const auto failure = path.failure_after("app", before);
  if (!failure.is_null())
    std::fprintf(stderr, "pgbouncer: -R cost one failure: %s\n", failure.dump().c_str());
}
