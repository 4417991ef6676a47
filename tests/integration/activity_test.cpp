#include "probes/activity.hpp"

#include <catch2/catch.hpp>
#include <thread>

#include "helpers.hpp"
#include "pg_cluster.hpp"
#include "pool/pool.hpp"
#include "sessions.hpp"

using namespace std::chrono_literals;
using pgv::Clock;
using pgv::probes::ActivityDigest;
using namespace pgv::testing;

namespace {

// Runs the activity probe once through a real pool, as the scheduler would.
struct ActivityRunner {
  pgv::pg::ConnectParams params;
  pgv::pool::Pool pool;
  pgv::probes::ActivityProbe probe;

  explicit ActivityRunner(const std::string& dsn) : params(params_for(dsn)), pool(params, {}) {}

  ActivityDigest run(int top_n = 20, bool expose_query_text = false) {
    pgv::probes::ProbeContext ctx{"t", pool,  params, Clock::now() + 2s,
                                  0,   false, top_n,  expose_query_text};
    const auto result = pgv::async::run_blocking(probe.run(ctx));
    INFO(result.error_message);
    REQUIRE(result.ok);
    REQUIRE(result.activity);
    return *result.activity;
  }
};

int app_sessions(const ActivityDigest& d, const std::string& app) {
  for (const auto& [name, n] : d.top_applications) {
    if (name == app) return n;
  }
  return 0;
}

}  // namespace

TEST_CASE("sessions idle in transaction show by application, by state and by age",
          "[activity][integration]") {
  PgCluster cluster;
  auto held = open_sessions(cluster, 5, "postgres", "app_x");
  REQUIRE(held.size() == 5);
  for (auto& c : held) query(c, "BEGIN; SELECT txid_current()");
  std::this_thread::sleep_for(1200ms);  // the age under test is the time held

  ActivityRunner runner(cluster.dsn());
  const ActivityDigest first = runner.run();
  CHECK(app_sessions(first, "app_x") >= 5);
  CHECK(first.by_state.at("idle in transaction") >= 5);
  REQUIRE(first.oldest_idle_in_transaction_seconds);
  CHECK(*first.oldest_idle_in_transaction_seconds >= 1.2);
  REQUIRE(first.oldest_transaction_seconds);
  CHECK(*first.oldest_transaction_seconds >= 1.2);
  REQUIRE(!first.oldest_transactions.empty());
  CHECK(first.oldest_transactions.front().application == "app_x");
  CHECK(first.oldest_transactions.front().state == "idle in transaction");
  CHECK(first.oldest_transactions.front().query.empty());  // not exposed by default
  CHECK(first.privileged);

  std::this_thread::sleep_for(500ms);
  const ActivityDigest later = runner.run();
  CHECK(*later.oldest_idle_in_transaction_seconds >=
        *first.oldest_idle_in_transaction_seconds + 0.5);
}

TEST_CASE("query text appears only when exposed, cut to 256 characters",
          "[activity][integration]") {
  PgCluster cluster;
  auto held = open_sessions(cluster, 1, "postgres", "talker");
  REQUIRE(held.size() == 1);
  const std::string long_comment(400, 'x');
  query(held[0], "BEGIN; SELECT 1 /* " + long_comment + " */");
  ActivityRunner runner(cluster.dsn());
  CHECK(runner.run(20, false).oldest_transactions.at(0).query.empty());
  const auto exposed = runner.run(20, true);
  CHECK(exposed.oldest_transactions.at(0).query.size() == 256);
  CHECK(exposed.oldest_transactions.at(0).query.starts_with("BEGIN; SELECT 1 /*"));
}

TEST_CASE("a session blocked behind LOCK TABLE counts as blocked and waiting on Lock",
          "[activity][integration]") {
  PgCluster cluster;
  cluster.admin("CREATE TABLE t (x int)");
  auto holder = open_sessions(cluster, 1, "postgres", "holder");
  auto waiter = open_sessions(cluster, 1, "postgres", "waiter");
  REQUIRE(holder.size() == 1);
  REQUIRE(waiter.size() == 1);
  query(holder[0], "BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE");
  REQUIRE(pgv::pg::send(waiter[0], "SELECT * FROM t"));  // blocks on the server
  const int waiter_pid = waiter[0].backend_pid();
  REQUIRE(eventually([&] {
    return cluster
               .admin("SELECT wait_event_type FROM pg_stat_activity WHERE pid = " +
                      std::to_string(waiter_pid))
               .get(0, 0) == "Lock";
  }));

  ActivityRunner runner(cluster.dsn());
  const ActivityDigest d = runner.run();
  REQUIRE(d.blocked.size() == 1);
  CHECK(d.blocked[0].pid == waiter_pid);
  CHECK(d.blocked[0].blocked_by == std::vector<int>{holder[0].backend_pid()});
  CHECK(d.waiting_by_event_type.at("Lock") == 1);
  REQUIRE(d.longest_query_seconds);
  CHECK(*d.longest_query_seconds >= 0);
  query(holder[0], "ROLLBACK");
}

TEST_CASE("saturation matches the server's own count within one connection",
          "[activity][integration]") {
  ClusterOptions options;
  options.max_connections = 20;
  PgCluster cluster(options);
  auto held = open_sessions(cluster, 10, "pgvitals", "filler");
  REQUIRE(held.size() == 10);
  ActivityRunner runner(cluster.dsn());
  const ActivityDigest d = runner.run();
  CHECK(d.max_connections == 20);
  CHECK(d.reserved_connections == 3);
  const int server_count = server_client_backends(cluster);
  CHECK(std::abs(d.client_backends - server_count) <= 1);
  CHECK(d.saturation() == Approx(static_cast<double>(server_count) / 17).margin(1.0 / 17));
}

TEST_CASE("only the top N applications are named, the rest folded into other",
          "[activity][integration]") {
  PgCluster cluster;
  std::vector<pgv::pg::Connection> held;
  for (int i = 0; i < 8; ++i) {
    auto s = open_sessions(cluster, 1 + i % 3, "postgres", "app" + std::to_string(i));
    for (auto& c : s) held.push_back(std::move(c));
  }
  ActivityRunner runner(cluster.dsn());
  const ActivityDigest d = runner.run(3);
  CHECK(d.top_applications.size() == 3);
  CHECK(d.top_applications[0].second >= d.top_applications[2].second);
  int named = 0;
  for (const auto& [app, n] : d.top_applications) named += n;
  CHECK(named + d.other_application_sessions == d.client_backends);
  CHECK(d.distinct_applications >= 9);  // 8 fillers + the probe itself
}

TEST_CASE("a role without pg_monitor still counts sessions but is flagged",
          "[activity][integration]") {
  PgCluster cluster;
  cluster.admin("CREATE ROLE plain LOGIN PASSWORD '" + cluster.password() + "'");
  auto held = open_sessions(cluster, 3, "postgres", "secretive");
  for (auto& c : held) query(c, "BEGIN; SELECT txid_current()");
  ActivityRunner runner(cluster.dsn("plain"));
  const ActivityDigest d = runner.run();
  CHECK_FALSE(d.privileged);
  CHECK(app_sessions(d, "secretive") == 3);  // application names stay visible
  CHECK(d.by_state.at("unknown") >= 3);      // their state does not
  CHECK(std::abs(d.client_backends - server_client_backends(cluster)) <= 1);
}
