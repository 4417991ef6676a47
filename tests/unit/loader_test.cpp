#include "config/loader.hpp"

#include <stdlib.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <set>
#include <string>

#include "config_test_util.hpp"
#include "scheduler/target_runtime.hpp"

using pgv::config::AgentConfig;
using pgv::config::Environment;
using pgv::config::FlagOverrides;
using pgv::config::known_probes;
using pgv::config::load_config;
using pgv::config::Millis;
using pgv::config::stable_hash;
using pgv::test::config_error;
using pgv::test::TempFile;

namespace {

AgentConfig load(const std::string& yaml, const Environment& env = {}, FlagOverrides flags = {}) {
  const TempFile file(yaml);
  flags.config_file = file.path();
  return load_config(flags, env);
}

std::string load_error(const std::string& yaml, const Environment& env = {},
                       const FlagOverrides& flags = {}) {
  return config_error([&] { load(yaml, env, flags); });
}

const std::string kTwoTargets =
    "targets:\n"
    "  - {name: primary, dsn: 'host=p', interval: 7s, timeout: 3s, pool: {size: 4}}\n"
    "  - {name: replica, dsn: 'host=r'}\n";

}  // namespace

TEST_CASE("layers override in order: file < environment < flags", "[config][loader]") {
  const std::string yaml =
      "listen: 1.1.1.1:1000\ninterval: 10s\nlog: {level: debug}\n" + kTwoTargets;
  const Environment env = {{"PGVITALS_LISTEN", "2.2.2.2:2000"},
                           {"PGVITALS_INTERVAL", "20s"},
                           {"PGVITALS_LOG_FORMAT", "json"}};
  FlagOverrides flags;
  flags.listen = "3.3.3.3:3000";
  flags.log_format = "text";

  const auto file_only = load(yaml);
  CHECK(file_only.listen.host == "1.1.1.1");
  CHECK(file_only.interval == Millis{10'000});
  CHECK(file_only.targets[0].interval == Millis{7000});  // a target's own value beats the default

  const auto with_env = load(yaml, env);
  CHECK(with_env.listen.host == "2.2.2.2");
  CHECK(with_env.listen.port == 2000);
  CHECK(with_env.log_format == "json");
  CHECK(with_env.log_level == "debug");
  CHECK(with_env.interval == Millis{20'000});
  for (const auto& t : with_env.targets) CHECK(t.interval == Millis{20'000});

  const auto with_flags = load(yaml, env, flags);
  CHECK(with_flags.listen.host == "3.3.3.3");
  CHECK(with_flags.log_format == "text");
  CHECK(with_flags.interval == Millis{20'000});
}

TEST_CASE("interval and timeout flags set the default and every target's value",
          "[config][loader]") {
  FlagOverrides flags;
  flags.interval = "30s";
  flags.timeout = "1500ms";
  const auto c =
      load(kTwoTargets, {{"PGVITALS_INTERVAL", "20s"}, {"PGVITALS_TIMEOUT", "4s"}}, flags);
  CHECK(c.interval == Millis{30'000});
  CHECK(c.timeout == Millis{1500});
  for (const auto& t : c.targets) {
    CHECK(t.interval == Millis{30'000});
    CHECK(t.timeout == Millis{1500});
  }
  FlagOverrides bad;
  bad.interval = "5ms";
  CHECK_THAT(load_error(kTwoTargets, {}, bad),
             Catch::StartsWith("config: --interval: too short: got '5ms'"));
  CHECK_THAT(load_error(kTwoTargets, {{"PGVITALS_TIMEOUT", "2"}}),
             Catch::StartsWith("config: PGVITALS_TIMEOUT: missing unit"));
}

TEST_CASE("the config file comes from --config, else PGVITALS_CONFIG", "[config][loader]") {
  const TempFile file("listen: 4.4.4.4:4000\n" + kTwoTargets);
  CHECK(load_config({}, {{"PGVITALS_CONFIG", file.path()}}).listen.host == "4.4.4.4");

  FlagOverrides flags;
  flags.config_file = file.path();
  const Environment env = {{"PGVITALS_CONFIG", "/nonexistent/other.yaml"}};
  CHECK(load_config(flags, env).listen.host == "4.4.4.4");

  CHECK_THAT(config_error([&] { load_config({}, env); }),
             Catch::StartsWith("config: PGVITALS_CONFIG: cannot read config file: got "
                               "'/nonexistent/other.yaml'"));
  flags.config_file = "/nonexistent/flag.yaml";
  CHECK_THAT(config_error([&] { load_config(flags, {}); }),
             Catch::StartsWith("config: --config: cannot read config file"));
}

TEST_CASE("without targets anywhere the error says how to add one", "[config][loader]") {
  CHECK(config_error([] { load_config({}, {}); }) ==
        "config: targets: no targets: set DATABASE_URL or list targets: in the config file");
  CHECK(load_error("listen: 0.0.0.0:9188\n", {{"DATABASE_URL", ""}}) ==
        "config: targets: no targets: set DATABASE_URL or list targets: in the config file");
}

TEST_CASE("DATABASE_URL alone becomes the only target, named default", "[config][loader]") {
  const auto c = load_config({}, {{"DATABASE_URL", "postgresql+asyncpg://user:CANARY@h/db"}});
  REQUIRE(c.targets.size() == 1);
  CHECK(c.targets[0].name == "default");
  CHECK(c.targets[0].dsn.conninfo == "postgresql://user:CANARY@h/db");
  CHECK(c.targets[0].dsn.redacted.find("CANARY") == std::string::npos);
  CHECK(c.targets[0].probes == pgv::config::default_probes(pgv::config::TargetKind::postgres));
  CHECK(pgv::scheduler::pool_options(c.targets[0].pool).min_idle == 1);
}

TEST_CASE("DATABASE_URL's target inherits the file's defaults", "[config][loader]") {
  const auto c = load("interval: 9s\npool: {size: 7}\nprobes: [connectivity, settings]\n",
                      {{"DATABASE_URL", "postgresql://u@h/db"}});
  REQUIRE(c.targets.size() == 1);
  CHECK(c.targets[0].interval == Millis{9000});
  CHECK(c.targets[0].pool.size == 7);
  CHECK(c.targets[0].probes == std::vector<std::string>{"connectivity", "settings"});
}

TEST_CASE("DATABASE_URL replaces the DSN of a file target named default, else is ignored",
          "[config][loader]") {
  const Environment env = {{"DATABASE_URL", "postgresql://u@from-env/db"}};
  const auto replaced =
      load("targets:\n  - {name: default, dsn: 'host=file', labels: {a: b}}\n", env);
  REQUIRE(replaced.targets.size() == 1);
  CHECK(replaced.targets[0].dsn.conninfo == "postgresql://u@from-env/db");
  CHECK(replaced.targets[0].labels.at("a") == "b");

  const auto filled = load("targets:\n  - {name: default, labels: {a: b}}\n", env);
  CHECK(filled.targets[0].dsn.conninfo == "postgresql://u@from-env/db");
  CHECK_THAT(load_error("targets:\n  - {name: default}\n"),
             Catch::StartsWith("config: targets[0].dsn: missing"));

  const auto ignored = load(kTwoTargets, env);
  REQUIRE(ignored.targets.size() == 2);
  CHECK(ignored.targets[0].dsn.conninfo == "host=p");
  CHECK(ignored.targets[1].dsn.conninfo == "host=r");
}

TEST_CASE("pool environment variables and their aliases apply to every target",
          "[config][loader]") {
  const auto c = load(kTwoTargets, {{"DB_POOL_SIZE", "5"},
                                    {"DATABASE_MAX_OVERFLOW", "0"},
                                    {"DB_POOL_TIMEOUT", "45"},
                                    {"DATABASE_POOL_RECYCLE", "2.5"},
                                    {"DB_POOL_PRE_PING", "OFF"},
                                    {"DB_ECHO_SQL", "Yes"}});
  CHECK(c.echo_sql);
  for (const auto& t : c.targets) {
    CHECK(t.pool.size == 5);  // beats the file's pool: {size: 4}
    CHECK(t.pool.max_overflow == 0);
    CHECK(t.pool.timeout == Millis{45'000});  // bare number: seconds, as SQLAlchemy apps set it
    CHECK(t.pool.recycle == Millis{2500});
    CHECK_FALSE(t.pool.pre_ping);
  }
  const auto other = load(kTwoTargets, {{"DATABASE_POOL_SIZE", "6"},
                                        {"DB_MAX_OVERFLOW", "3"},
                                        {"DATABASE_POOL_TIMEOUT", "500ms"},
                                        {"DB_POOL_RECYCLE", "30m"},
                                        {"DATABASE_POOL_PRE_PING", "0"},
                                        {"DB_ECHO_SQL", "off"}});
  CHECK_FALSE(other.echo_sql);
  CHECK(other.targets[1].pool.size == 6);
  CHECK(other.targets[1].pool.max_overflow == 3);
  CHECK(other.targets[1].pool.timeout == Millis{500});
  CHECK(other.targets[1].pool.recycle == Millis{1'800'000});
}

TEST_CASE("bad environment values name the variable and the value", "[config][loader]") {
  CHECK_THAT(load_error(kTwoTargets, {{"DB_POOL_SIZE", "abc"}}),
             Catch::StartsWith("config: DB_POOL_SIZE: not an integer: got 'abc'"));
  CHECK_THAT(load_error(kTwoTargets, {{"DATABASE_POOL_SIZE", "0"}}),
             Catch::StartsWith("config: DATABASE_POOL_SIZE: out of range: got '0'"));
  CHECK_THAT(load_error(kTwoTargets, {{"DB_MAX_OVERFLOW", "-1"}}),
             Catch::StartsWith("config: DB_MAX_OVERFLOW: out of range: got '-1'"));
  CHECK_THAT(load_error(kTwoTargets, {{"DB_POOL_TIMEOUT", "0"}}),
             Catch::StartsWith("config: DB_POOL_TIMEOUT: ") && Catch::Contains("got '0'"));
  CHECK_THAT(load_error(kTwoTargets, {{"DB_POOL_RECYCLE", "soon"}}),
             Catch::StartsWith("config: DB_POOL_RECYCLE: ") && Catch::Contains("got 'soon'"));
  CHECK_THAT(load_error(kTwoTargets, {{"DB_ECHO_SQL", "sometimes"}}),
             Catch::StartsWith("config: DB_ECHO_SQL: not a boolean: got 'sometimes'"));
  CHECK_THAT(load_error(kTwoTargets, {{"PGVITALS_LOG_LEVEL", "loud"}}),
             Catch::StartsWith("config: PGVITALS_LOG_LEVEL: unknown value: got 'loud'"));
  CHECK_THAT(load_error(kTwoTargets, {{"DB_POOL_SIZE", "5"}, {"DATABASE_POOL_SIZE", "6"}}),
             Catch::StartsWith("config: DATABASE_POOL_SIZE: conflicts with DB_POOL_SIZE"));
  CHECK(load(kTwoTargets, {{"DB_POOL_SIZE", "5"}, {"DATABASE_POOL_SIZE", "5"}})
            .targets[0]
            .pool.size == 5);
}

TEST_CASE("dsn_file reads the DSN from a file, trimmed", "[config][loader]") {
  const TempFile secret("  postgresql+psycopg2://app:CANARY@db/app\n");
  const auto c = load("targets:\n  - {name: a, dsn_file: " + secret.path() + "}\n");
  REQUIRE(c.targets.size() == 1);
  CHECK(c.targets[0].dsn.conninfo == "postgresql://app:CANARY@db/app");
  CHECK(c.targets[0].dsn.redacted.find("CANARY") == std::string::npos);

  const TempFile bad("mysql://app:CANARY@db/app\n");
  CHECK_THAT(load_error("targets:\n  - {name: a, dsn_file: " + bad.path() + "}\n"),
             Catch::StartsWith("config: targets[0].dsn_file: scheme 'mysql'") &&
                 !Catch::Contains("CANARY"));
}

TEST_CASE("no configuration error ever shows a password", "[config][loader][secrets]") {
  const TempFile secret_file("mysql://u:CANARY@h/db");
  struct Case {
    std::string yaml;
    Environment env;
  };
  const auto c = GENERATE_REF(values<Case>({
      {"", {{"DATABASE_URL", "mysql://u:CANARY@h/db"}}},
      {"", {{"DATABASE_URL", "postgresql+asyncpg://user:CANARY@h/db?ssl=maybe"}}},
      {"", {{"DATABASE_URL", "postgresql+asyncpg://user:CANARY@h/db"}, {"DB_POOL_SIZE", "0"}}},
      {"targets:\n  - {name: a, dsn: 'postgresql://u:CANARY@h/db?ssl=maybe'}\n", {}},
      {"targets:\n  - {name: a, dsn: {url: 'postgresql://u:CANARY@h/db'}}\n", {}},
      {"targets:\n  - {name: a, dsn: 'host=h password=CANARY', pool: {size: 0}}\n", {}},
      {"targets:\n  - {name: a, dsn_file: " + secret_file.path() + "}\n", {}},
      {"targets:\n  - {name: 'a b', dsn: 'postgresql://u:CANARY@h/db'}\n", {}},
      {"'postgresql://u:CANARY@h/db': 1\n", {}},
      {"auth: {basic: {password: CANARY}}\n", {}},
      // The password pasted into the wrong field is still known and still scrubbed.
      {"auth: {basic: {user: u, password: CANARY}}\nlog: {level: CANARY}\n", {}},
      {"auth: {bearer_token: CANARY-TOKEN}\nlisten: CANARY-TOKEN\n", {}},
  }));
  const std::string message = load_error(c.yaml, c.env);
  INFO(message);
  CHECK_THAT(message, Catch::StartsWith("config: ") && !Catch::Contains("CANARY"));
}

TEST_CASE("stable_hash is FNV-1a 64", "[config][shard]") {
  CHECK(stable_hash("") == 0xcbf29ce484222325ULL);
  CHECK(stable_hash("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(stable_hash("foobar") == 0x85944171f73967e8ULL);
}

TEST_CASE("sharding puts each of 1000 targets in exactly one of 4 shards, none empty",
          "[config][shard]") {
  std::string yaml = "targets:\n";
  for (int i = 0; i < 1000; ++i) yaml += "  - {name: db-" + std::to_string(i) + ", dsn: host=h}\n";
  std::multiset<std::string> seen;
  for (int index = 0; index < 4; ++index) {
    const TempFile shard_file(yaml + "shard: {index: " + std::to_string(index) + ", count: 4}\n");
    FlagOverrides flags;
    flags.config_file = shard_file.path();
    const auto c = load_config(flags, {});
    CHECK_FALSE(c.targets.empty());
    for (const auto& t : c.targets) {
      CHECK(pgv::config::shard_of(t.name, 4) == index);
      seen.insert(t.name);
    }
  }
  CHECK(seen.size() == 1000);
  for (int i = 0; i < 1000; ++i) CHECK(seen.count("db-" + std::to_string(i)) == 1);
}

TEST_CASE("a shard may end up with no targets", "[config][shard]") {
  const int own = pgv::config::shard_of("only", 2);
  const auto other = std::to_string(1 - own);
  CHECK(load("targets: [{name: only, dsn: host=h}]\nshard: {index: " + other + ", count: 2}\n")
            .targets.empty());
}

TEST_CASE("targets inherit interval, timeout, pool and probes key by key", "[config][loader]") {
  const auto c = load(R"(
interval: 10s
timeout: 3s
pool: {size: 5, recycle: 1h, pre_ping: false}
probes: [connectivity, settings]
targets:
  - {name: plain, dsn: host=a}
  - {name: custom, dsn: host=b, interval: 1s, pool: {size: 9}, probes: [connectivity]}
)");
  REQUIRE(c.targets.size() == 2);
  const auto& plain = c.targets[0];
  CHECK(plain.interval == Millis{10'000});
  CHECK(plain.timeout == Millis{3000});
  CHECK(plain.pool.size == 5);
  CHECK(plain.pool.max_overflow == 2);
  CHECK(plain.pool.recycle == Millis{3'600'000});
  CHECK_FALSE(plain.pool.pre_ping);
  CHECK(plain.probes == std::vector<std::string>{"connectivity", "settings"});
  CHECK(plain.required);
  const auto& custom = c.targets[1];
  CHECK(custom.interval == Millis{1000});
  CHECK(custom.timeout == Millis{3000});
  CHECK(custom.pool.size == 9);
  CHECK(custom.pool.recycle == Millis{3'600'000});
  CHECK(pgv::scheduler::pool_options(custom.pool).min_idle == 1);
  CHECK(custom.probes == std::vector<std::string>{"connectivity"});

  const auto bare = load("targets: [{name: a, dsn: host=a}]");
  CHECK(bare.targets[0].probes == pgv::config::default_probes(pgv::config::TargetKind::postgres));
  CHECK(bare.targets[0].pool.size == 2);
  CHECK(bare.targets[0].pool.timeout == Millis{30'000});
}

TEST_CASE("current_environment reads the process environment", "[config][loader]") {
  REQUIRE(::setenv("PGVITALS_TEST_VARIABLE", "a=b", 1) == 0);
  const auto env = pgv::config::current_environment();
  ::unsetenv("PGVITALS_TEST_VARIABLE");
  REQUIRE(env.count("PGVITALS_TEST_VARIABLE") == 1);
  CHECK(env.at("PGVITALS_TEST_VARIABLE") == "a=b");
}

TEST_CASE("kind: pgbouncer targets run the pooler's probes, via must name one",
          "[config][loader]") {
  const auto c = load(
      "probes: [connectivity, activity]\n"
      "targets:\n"
      "  - {name: bouncer, kind: pgbouncer, dsn: 'host=b port=6432 dbname=pgbouncer'}\n"
      "  - {name: app, dsn: 'host=b port=6432 dbname=app', via: bouncer}\n"
      "  - {name: direct, dsn: 'host=db dbname=app'}\n");
  REQUIRE(c.targets.size() == 3);
  CHECK(c.targets[0].kind == pgv::config::TargetKind::pgbouncer);
  // The file's probe list is for databases; a pooler gets its own.
  CHECK(c.targets[0].probes ==
        std::vector<std::string>{"connectivity", "new_connection", "pooler"});
  CHECK(c.targets[1].kind == pgv::config::TargetKind::postgres);
  CHECK(c.targets[1].via == "bouncer");
  CHECK(c.targets[1].probes == std::vector<std::string>{"connectivity", "activity"});

  CHECK_THAT(load_error("targets:\n"
                        "  - {name: app, dsn: 'host=b', via: direct}\n"
                        "  - {name: direct, dsn: 'host=db'}\n"),
             Catch::StartsWith("config: targets[0].via: not a kind: pgbouncer target: got "
                               "'direct'; allowed: the name of a kind: pgbouncer target (there is "
                               "none)"));
  CHECK_THAT(load_error("targets:\n"
                        "  - {name: app, dsn: 'host=b', via: bouncr}\n"
                        "  - {name: bouncer, kind: pgbouncer, dsn: 'host=b dbname=pgbouncer'}\n"),
             Catch::StartsWith("config: targets[0].via: no such target: got 'bouncr'") &&
                 Catch::EndsWith("allowed: the name of a kind: pgbouncer target: bouncer"));
  CHECK_THAT(
      load_error("targets:\n"
                 "  - {name: b, kind: pgbouncer, dsn: 'host=b', max_replication_lag: 1MB}\n"),
      Catch::StartsWith("config: targets[0].max_replication_lag: not for a kind: pgbouncer"));
}

TEST_CASE("sharding keeps a database reached through a pooler in its pooler's shard",
          "[config][shard]") {
  std::string yaml = "targets:\n  - {name: bouncer, kind: pgbouncer, dsn: 'host=b'}\n";
  for (int i = 0; i < 40; ++i) {
    yaml += "  - {name: app" + std::to_string(i) + ", dsn: 'host=b', via: bouncer}\n";
  }
  std::size_t seen = 0;
  for (int index = 0; index < 4; ++index) {
    const auto c = load(yaml + "shard: {index: " + std::to_string(index) + ", count: 4}\n");
    const bool has_pooler = std::any_of(c.targets.begin(), c.targets.end(),
                                        [](const auto& t) { return t.name == "bouncer"; });
    // All 41 in the pooler's shard, none elsewhere.
    CHECK(c.targets.size() == (has_pooler ? 41U : 0U));
    seen += c.targets.size();
  }
  CHECK(seen == 41);
}

TEST_CASE("credentials for the HTTP endpoints can come from the environment (a Secret)",
          "[config][loader]") {
  const auto a = load(kTwoTargets + "auth:\n  basic: {user: file-user, password: file-pw}\n",
                      {{"PGVITALS_AUTH_BEARER_TOKEN", "tok"},
                       {"PGVITALS_AUTH_BASIC_USER", "env-user"},
                       {"PGVITALS_AUTH_BASIC_PASSWORD", "env-pw"}})
                     .auth;
  CHECK(a.bearer_token == "tok");
  CHECK(a.basic_user == "env-user");
  CHECK(a.basic_password == "env-pw");
  CHECK(load(kTwoTargets).auth.bearer_token.empty());
}

TEST_CASE("incidents config alone: no target needed, the environment overrides the file",
          "[config][loader]") {
  using pgv::config::load_incidents_config;
  const TempFile file("incidents: {dir: /var/lib/pgvitals/incidents, keep: 7}\n");
  FlagOverrides flags;
  flags.config_file = file.path();
  const auto from_file = load_incidents_config(flags, {});
  CHECK(from_file.dir == "/var/lib/pgvitals/incidents");
  CHECK(from_file.keep == 7);
  CHECK(load_incidents_config(flags, {{"PGVITALS_INCIDENTS_DIR", "/srv/inc"}}).dir == "/srv/inc");
  CHECK(load_incidents_config({}, {{"PGVITALS_CONFIG", file.path()}}).keep == 7);
  CHECK(load_incidents_config({}, {}).dir.empty());
  const TempFile bad("incidents: {keep: many}\n");
  flags.config_file = bad.path();
  CHECK_THAT(config_error([&] { load_incidents_config(flags, {}); }),
             Catch::Contains("incidents.keep"));
}
