#include "config/applications.hpp"

#include <catch2/catch.hpp>

#include "config/loader.hpp"
#include "config_test_util.hpp"
#include "probes/activity.hpp"
#include "telemetry/application_metrics.hpp"
#include "telemetry/plateau.hpp"

using pgv::config::ApplicationBudget;
using pgv::config::glob_match;
using pgv::telemetry::PlateauTracker;
using namespace std::chrono_literals;

TEST_CASE("application globs: * any run, ? any one byte, the rest literal", "[applications]") {
  CHECK(glob_match("orders-api", "orders-api"));
  CHECK_FALSE(glob_match("orders-api", "orders-api2"));
  CHECK(glob_match("orders-*", "orders-"));
  CHECK(glob_match("orders-*", "orders-worker"));
  CHECK_FALSE(glob_match("orders-*", "billing"));
  CHECK(glob_match("*-api", "orders-api"));
  CHECK(glob_match("o?ders*api", "orders-big-api"));
  CHECK(glob_match("*", ""));
  CHECK_FALSE(glob_match("a%b", "axb"));  // LIKE's wildcards are literal here
  CHECK(glob_match("a%b", "a%b"));
  // Linear even when it backtracks a lot.
  CHECK_FALSE(glob_match("*a*a*a*a*a*b", std::string(2000, 'a')));
}

TEST_CASE("a budget's SQL condition is a LIKE with literal %, _ and quotes", "[applications]") {
  ApplicationBudget b;
  b.name = "o'k_%\\*?";
  CHECK(pgv::probes::ActivityProbe::budget_condition(b) == "app LIKE E'o\\'k\\\\_\\\\%\\\\\\\\%_'");
  b.user = "it's";
  CHECK(pgv::probes::ActivityProbe::budget_condition(b).ends_with(
      " AND pg_get_userbyid(usesysid) = E'it\\'s'"));
}

TEST_CASE("applications: are read per target and for all, the target's first", "[applications]") {
  const pgv::test::TempFile file(
      "applications:\n"
      "  - {name: 'orders-*', max_connections: 30, owner: team-orders}\n"
      "targets:\n"
      "  - name: db\n"
      "    dsn: host=db\n"
      "    applications:\n"
      "      - {name: orders-api, user: orders, max_connections: 15, owner: team-orders,\n"
      "         idle_in_transaction_max: 30s}\n"
      "  - {name: other, dsn: host=other}\n");
  pgv::config::FlagOverrides flags;
  flags.config_file = file.path();
  const auto c = pgv::config::load_config(flags, {});
  REQUIRE(c.targets[0].applications.size() == 2);
  CHECK(c.targets[0].applications[0].name == "orders-api");
  CHECK(c.targets[0].applications[0].user == "orders");
  CHECK(c.targets[0].applications[0].idle_in_transaction_max == pgv::config::Millis(30'000));
  CHECK(c.targets[0].applications[1].name == "orders-*");
  REQUIRE(c.targets[1].applications.size() == 1);

  auto error = [](const std::string& yaml) {
    return pgv::test::config_error([&] { pgv::config::parse_yaml_config(yaml, "t.yaml"); });
  };
  CHECK_THAT(error("applications: [{name: a}]"),
             Catch::StartsWith("config: applications[0].max_connections: missing"));
  CHECK_THAT(error("applications: [{name: a, max_connections: 0}]"),
             Catch::StartsWith("config: applications[0].max_connections"));
  CHECK_THAT(error("applications: [{name: a, max_connections: 1}, {name: a, max_connections: 2}]"),
             Catch::StartsWith("config: applications[1].name: duplicate application"));
  CHECK_THAT(error("applications: [{name: a, max_connections: 1, colour: red}]"),
             Catch::StartsWith("config: applications[0].colour: unknown key"));
}

TEST_CASE("declared applications against their budgets, the rest as other", "[applications]") {
  std::vector<ApplicationBudget> budgets(2);
  budgets[0].name = "orders-api";
  budgets[0].max_connections = 15;
  budgets[0].owner = "team-orders";
  budgets[1].name = "billing";
  budgets[1].max_connections = 4;
  pgv::probes::ActivityDigest a;
  a.applications.push_back({0, 15, {{"active", 15}}, std::nullopt, 2});
  a.applications.push_back({-1, 7, {{"idle", 7}}, 12.5, 0});
  const auto rows = pgv::telemetry::ApplicationMetrics::rows(a, budgets);
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].application == "orders-api");
  CHECK(rows[0].sessions == 15);
  CHECK(rows[0].budget == 15);
  CHECK(rows[0].waiting == 2);
  CHECK(rows[1].application == "billing");
  CHECK(rows[1].sessions == 0);  // declared, no sessions: still shown
  CHECK(rows[2].application == "other");
  CHECK(rows[2].budget == 0);
  CHECK(rows[2].oldest_idle_in_transaction_seconds == 12.5);
  CHECK(pgv::telemetry::ApplicationMetrics::rows(a, {}).empty());
}

TEST_CASE("a plateau is a busy session count flat at its recent maximum", "[applications]") {
  PlateauTracker tracker(3s);
  const pgv::Clock::time_point t0{};
  auto at = [&](int second, int flat_sessions, int growing_sessions, bool full = false) {
    return tracker.update(t0 + std::chrono::seconds(second),
                          {{"flat", flat_sessions, flat_sessions},
                           {"growing", growing_sessions, growing_sessions},
                           {"idle-pool", 5, 0}},
                          full);
  };
  for (int s = 0; s < 3; ++s) {
    const auto r = at(s, 15, s + 1);
    CHECK_FALSE(r.at("flat"));  // not flat for 3 s yet
    CHECK_FALSE(r.at("growing"));
  }
  auto r = at(3, 15, 4);
  CHECK(r.at("flat"));
  CHECK_FALSE(r.at("growing"));
  CHECK_FALSE(r.at("idle-pool"));              // flat, but its sessions wait idle in the pool
  CHECK_FALSE(at(4, 15, 5, true).at("flat"));  // the server is full: its ceiling, not theirs
  // Below a higher count seen in the window: not its ceiling.
  at(5, 20, 6);
  for (int s = 6; s < 12; ++s) CHECK_FALSE(at(s, 15, 7).at("flat"));
  // Forgotten once it leaves the top N.
  CHECK(tracker.update(t0 + 13s, {}, false).empty());
}
