#include "config/shard.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "config/loader.hpp"
#include "config_test_util.hpp"

using pgv::config::AgentConfig;
using pgv::config::Environment;
using pgv::config::FlagOverrides;
using pgv::config::host_ordinal;
using pgv::config::jump_hash;
using pgv::config::load_config;
using pgv::config::parse_yaml_config;
using pgv::config::shard_of;
using pgv::config::stable_hash;
using pgv::test::config_error;
using pgv::test::TempFile;

namespace {

std::vector<std::string> names(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back("db-" + std::to_string(i));
  return out;
}

std::string fleet_yaml(int n) {
  std::string yaml = "targets:\n";
  for (const auto& name : names(n)) yaml += "  - {name: " + name + ", dsn: host=h}\n";
  return yaml;
}

AgentConfig load(const std::string& yaml, const Environment& env, const std::string& host) {
  const TempFile file(yaml);
  FlagOverrides flags;
  flags.config_file = file.path();
  return load_config(flags, env, host);
}

std::string load_error(const std::string& yaml, const Environment& env, const std::string& host) {
  return config_error([&] { load(yaml, env, host); });
}

std::set<std::string> target_names(const AgentConfig& c) {
  std::set<std::string> out;
  for (const auto& t : c.targets) out.insert(t.name);
  return out;
}

}  // namespace

TEST_CASE("jump_hash follows Lamping and Veach", "[config][shard]") {
  // One bucket takes everything; the reference implementation's values for key 0..3.
  for (std::uint64_t key = 0; key < 100; ++key) CHECK(jump_hash(key, 1) == 0);
  CHECK(jump_hash(0, 10) == 0);
  CHECK(jump_hash(stable_hash("db-1"), 1'000'000) < 1'000'000);
}

TEST_CASE("every name lands in [0, count) and the shards are balanced", "[config][shard]") {
  const auto all = names(1000);
  for (const int count : {1, 2, 3, 4, 7, 16}) {
    std::vector<int> sizes(static_cast<std::size_t>(count), 0);
    for (const auto& name : all) {
      const int s = shard_of(name, count);
      REQUIRE(s >= 0);
      REQUIRE(s < count);
      ++sizes[static_cast<std::size_t>(s)];
    }
    INFO("count " << count);
    const double fair = 1000.0 / count;
    for (const int size : sizes) {
      CHECK(size > fair * 0.6);
      CHECK(size < fair * 1.4);
    }
  }
}

TEST_CASE("going from N to N+1 shards moves at most about 1/(N+1) of the names, all to the new one",
          "[config][shard]") {
  const auto all = names(1000);
  for (int n = 1; n <= 10; ++n) {
    int moved = 0;
    for (const auto& name : all) {
      const int before = shard_of(name, n);
      const int after = shard_of(name, n + 1);
      if (before == after) continue;
      ++moved;
      CHECK(after == n);  // a name only ever moves to the shard that was added
    }
    INFO(n << " -> " << n + 1 << ": " << moved << " of 1000 moved");
    // Expected 1000/(N+1); the slack is 5 standard deviations of the binomial count.
    const double p = 1.0 / (n + 1);
    CHECK(moved <= 1000 * p + 5 * std::sqrt(1000 * p * (1 - p)));
    CHECK(moved > 0);
  }
}

TEST_CASE("host_ordinal reads a StatefulSet pod's ordinal", "[config][shard]") {
  CHECK(host_ordinal("pgvitals-0") == 0);
  CHECK(host_ordinal("pgvitals-12") == 12);
  CHECK(host_ordinal("my-fleet-agent-3") == 3);
  CHECK(host_ordinal("pgvitals-2.pgvitals-shards.monitoring.svc.cluster.local") == 2);
  CHECK(host_ordinal("pgvitals-99999999999999999999") == INT64_MAX);
  CHECK_FALSE(host_ordinal("vm"));
  CHECK_FALSE(host_ordinal(""));
  CHECK_FALSE(host_ordinal("pgvitals-"));
  CHECK_FALSE(host_ordinal("pgvitals-1a"));
  CHECK_FALSE(host_ordinal("pgvitals-7f9c4d-x2b8q"));  // a Deployment's pod
  CHECK_FALSE(host_ordinal("db1.example-2.com"));      // digits only in a later label
}

TEST_CASE("index: auto takes the host name's ordinal", "[config][shard]") {
  const auto parsed = parse_yaml_config("shard: {index: auto, count: 3}\n", "test.yaml");
  CHECK(parsed.shard.index_auto);
  CHECK(parsed.shard.count == 3);

  const std::string yaml = fleet_yaml(30) + "shard: {index: auto, count: 3}\n";
  std::multiset<std::string> seen;
  for (int i = 0; i < 3; ++i) {
    const auto c = load(yaml, {}, "pgvitals-" + std::to_string(i));
    CHECK(c.shard.index == i);
    CHECK(c.shard.count == 3);
    CHECK(c.shard.index_from == "host name pgvitals-" + std::to_string(i));
    CHECK_FALSE(c.targets.empty());
    for (const auto& t : c.targets) {
      CHECK(shard_of(t.name, 3) == i);
      seen.insert(t.name);
    }
  }
  CHECK(seen.size() == 30);
  CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == 30);
}

TEST_CASE("PGVITALS_SHARD_INDEX and PGVITALS_SHARD_COUNT override the file", "[config][shard]") {
  const std::string yaml = fleet_yaml(30);
  const auto from_env =
      load(yaml + "shard: {index: auto, count: 3}\n", {{"PGVITALS_SHARD_INDEX", "2"}}, "vm");
  CHECK(from_env.shard.index == 2);
  CHECK(from_env.shard.index_from == "PGVITALS_SHARD_INDEX");
  // The variable wins over the host name, and over a fixed index (environment over file).
  CHECK(
      load(yaml + "shard: {index: auto, count: 3}\n", {{"PGVITALS_SHARD_INDEX", "0"}}, "pgvitals-1")
          .shard.index == 0);
  CHECK(load(yaml + "shard: {index: 1, count: 3}\n", {{"PGVITALS_SHARD_INDEX", "0"}}, "vm")
            .shard.index == 0);
  // An empty variable counts as unset.
  CHECK(
      load(yaml + "shard: {index: auto, count: 3}\n", {{"PGVITALS_SHARD_INDEX", ""}}, "pgvitals-1")
          .shard.index == 1);
  const auto counted =
      load(yaml + "shard: {index: auto}\n", {{"PGVITALS_SHARD_COUNT", "4"}}, "pgvitals-3");
  CHECK(counted.shard.count == 4);
  CHECK(counted.shard.index == 3);
  for (const auto& t : counted.targets) CHECK(shard_of(t.name, 4) == 3);
  // A fixed index keeps working, and no host name is needed for it.
  const auto fixed = load(yaml + "shard: {index: 1, count: 3}\n", {}, "");
  CHECK(fixed.shard.index == 1);
  CHECK(target_names(fixed) ==
        target_names(load(yaml + "shard: {index: auto, count: 3}\n", {}, "pgvitals-1")));
}

TEST_CASE("index: auto without a usable ordinal is an error naming the host name and the range",
          "[config][shard]") {
  const std::string yaml = fleet_yaml(3) + "shard: {index: auto, count: 3}\n";
  CHECK(load_error(yaml, {}, "vm") ==
        "config: shard.index: auto, but the host name has no ordinal at its end: got 'vm'; "
        "allowed: a StatefulSet pod's host name ending in -0 to -2 (shard.count is 3), or "
        "PGVITALS_SHARD_INDEX set to 0 to 2");
  CHECK_THAT(load_error(yaml, {}, "pgvitals-3"),
             Catch::StartsWith("config: shard.index: auto, but the host name's ordinal is not "
                               "below shard.count: got 'pgvitals-3'; allowed: a StatefulSet "
                               "pod's host name ending in -0 to -2"));
  CHECK_THAT(load_error(yaml, {}, "pgvitals-7f9c4d-x2b8q"), Catch::Contains("no ordinal"));
  CHECK(load_error(yaml, {{"PGVITALS_SHARD_INDEX", "3"}}, "pgvitals-0") ==
        "config: PGVITALS_SHARD_INDEX: out of range: got '3'; allowed: an integer from 0 to 2");
  CHECK_THAT(load_error(yaml, {{"PGVITALS_SHARD_INDEX", "one"}}, "pgvitals-0"),
             Catch::StartsWith("config: PGVITALS_SHARD_INDEX: not an integer: got 'one'"));
  CHECK_THAT(load_error(yaml, {{"PGVITALS_SHARD_COUNT", "0"}}, "pgvitals-0"),
             Catch::StartsWith("config: PGVITALS_SHARD_COUNT: out of range: got '0'"));
  CHECK(load_error(fleet_yaml(3) + "shard: {index: 2, count: 3}\n", {{"PGVITALS_SHARD_COUNT", "2"}},
                   "vm") ==
        "config: shard.index: not below PGVITALS_SHARD_COUNT: got '2'; allowed: 0 to 1 "
        "(shard.count is 2)");
  CHECK_THAT(load_error(fleet_yaml(3) + "shard: {index: 3, count: 3}\n", {}, "pgvitals-0"),
             Catch::StartsWith("config: shard.index: not below shard.count: got '3'; allowed: 0 "
                               "to 2 (shard.count is 3), or auto"));
}
