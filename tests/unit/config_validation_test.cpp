#include <catch2/catch.hpp>
#include <string>

#include "config/loader.hpp"
#include "config_test_util.hpp"

using pgv::config::parse_yaml_config;
using pgv::test::config_error;
using pgv::test::TempFile;

namespace {

std::string yaml_error(const std::string& yaml) {
  return config_error([&] { parse_yaml_config(yaml, "test.yaml"); });
}

// One target with a valid DSN; `extra` is appended to its mapping.
std::string target(const std::string& name, const std::string& extra = "") {
  return "  - name: " + name + "\n    dsn: host=db\n" + extra;
}

struct BadCase {
  std::string yaml;
  std::string key;    // the key path the message must start with
  std::string value;  // the bad value it must show
};

}  // namespace

TEST_CASE("every invalid value is reported with its key path first and the bad value", "[config]") {
  const auto c = GENERATE(values<BadCase>({
      {"pool: {size: 0}", "pool.size", "0"},
      {"pool: {max_overflow: -1}", "pool.max_overflow", "-1"},
      {"pool: {timeout: 0s}", "pool.timeout", "0s"},
      {"pool: {recycle: 0ms}", "pool.recycle", "0ms"},
      {"interval: 5ms", "interval", "5ms"},
      {"timeout: 0s", "timeout", "0s"},
      {"workers: 65", "workers", "65"},
      {"failure_ring: 0", "failure_ring", "0"},
      {"failure_ring: 100001", "failure_ring", "100001"},
      {"activity: {top_n: 1001}", "activity.top_n", "1001"},
      {"shard: {count: 0}", "shard.count", "0"},
      {"shard: {index: 2, count: 2}", "shard.index", "2"},
      {"shard: {index: -1, count: 2}", "shard.index", "-1"},
      {"shard: {index: automatic, count: 2}", "shard.index", "automatic"},
      {"log: {format: xml}", "log.format", "xml"},
      {"log: {level: verbose}", "log.level", "verbose"},
      {"listen: nohost", "listen", "nohost"},
      {"listen: 'h:70000'", "listen", "h:70000"},
      {"listen: '::1:9188'", "listen", "::1:9188"},
      {"echo_sql: maybe", "echo_sql", "maybe"},
      {"http: {threads: 0}", "http.threads", "0"},
      {"probes: [connectivity, bogus]", "probes[1]", "bogus"},
      {"probes: [connectivity, settings, settings]", "probes[2]", "settings"},
      {"probes: [settings]", "probes", "settings"},
      {"targets:\n" + target("'pri mary'"), "targets[0].name", "pri mary"},
      {"targets:\n" + target("''"), "targets[0].name", ""},
      {"targets:\n" + target(std::string(64, 'a')), "targets[0].name", std::string(64, 'a')},
      {"targets:\n" + target("'..'"), "targets[0].name", ".."},
      {"targets:\n" + target("a") + target("b") + target("a"), "targets[2].name", "a"},
      {"targets:\n" + target("a", "    interval: 9ms\n"), "targets[0].interval", "9ms"},
      {"targets:\n" + target("a", "    timeout: 0s\n"), "targets[0].timeout", "0s"},
      {"targets:\n" + target("a", "    pool: {size: 0}\n"), "targets[0].pool.size", "0"},
      {"targets:\n" + target("a", "    labels: {1abc: x}\n"), "targets[0].labels.1abc", "1abc"},
      {"targets:\n" + target("a", "    labels: {__meta: x}\n"), "targets[0].labels.__meta",
       "__meta"},
      {"targets:\n" + target("a", "    labels: {target: x}\n"), "targets[0].labels.target",
       "target"},
      {"targets:\n" + target("a", "    labels: {a-b: x}\n"), "targets[0].labels.a-b", "a-b"},
      {"targets:\n" + target("a", "    labels: {via: x}\n"), "targets[0].labels.via", "via"},
      {"targets:\n" + target("a", "    probes: [lifecycle]\n"), "targets[0].probes", "lifecycle"},
      {"targets:\n" + target("a", "    probes: [connectivity, nope]\n"), "targets[0].probes[1]",
       "nope"},
      {"targets:\n" + target("a", "    kind: pgpool\n"), "targets[0].kind", "pgpool"},
      {"targets:\n" + target("a", "    kind: pgbouncer\n    probes: [connectivity, activity]\n"),
       "targets[0].probes[1]", "activity"},
      {"targets:\n" + target("a", "    probes: [connectivity, pooler]\n"), "targets[0].probes[1]",
       "pooler"},
      {"targets:\n" + target("b", "    kind: pgbouncer\n    via: a\n"), "targets[0].via", "a"},
  }));
  INFO(c.yaml);
  const std::string message = yaml_error(c.yaml);
  CHECK_THAT(message, Catch::StartsWith("config: " + c.key + ": ") &&
                          Catch::Contains("got '" + c.value + "'") &&
                          Catch::Contains("; allowed: "));
}

TEST_CASE("unknown keys are errors naming the full key path and the keys allowed there",
          "[config]") {
  CHECK_THAT(yaml_error("listne: 0.0.0.0:1"),
             Catch::StartsWith("config: listne: unknown key: got 'listne'; allowed: listen, tls") &&
                 Catch::Contains("(test.yaml line 1)"));
  CHECK_THAT(yaml_error("targets:\n" + target("a") + target("b", "    dsnn: x\n")),
             Catch::StartsWith("config: targets[1].dsnn: unknown key") &&
                 Catch::Contains("allowed: name, kind, dsn, dsn_file, via, labels") &&
                 Catch::Contains("line 6"));
  CHECK_THAT(yaml_error("targets:\n" + target("a") + target("b", "    pool: {sise: 3}\n")),
             Catch::StartsWith("config: targets[1].pool.sise: unknown key") &&
                 Catch::Contains("allowed: size, max_overflow, timeout, recycle, pre_ping"));
  CHECK_THAT(yaml_error("pool: {size: 3, sise: 3}"),
             Catch::StartsWith("config: pool.sise: unknown key"));
  CHECK_THAT(yaml_error("auth: {basic: {usr: a}}"),
             Catch::StartsWith("config: auth.basic.usr: unknown key") &&
                 Catch::Contains("allowed: user, password"));
  CHECK_THAT(yaml_error("pool: {size: 3, size: 4}"),
             Catch::StartsWith("config: pool.size: duplicate key"));
}

TEST_CASE("YAML type errors name the key and the type expected", "[config]") {
  CHECK_THAT(yaml_error("pool: {size: abc}"),
             Catch::StartsWith("config: pool.size: not an integer: got 'abc'"));
  CHECK_THAT(yaml_error("targets: 3"),
             Catch::StartsWith("config: targets: expected a list of targets: got '3'"));
  CHECK_THAT(yaml_error("targets: {name: a}"),
             Catch::StartsWith("config: targets: expected a list of targets: got a mapping"));
  CHECK_THAT(yaml_error("listen: [a, b]"),
             Catch::StartsWith("config: listen: expected a string: got a list"));
  CHECK_THAT(yaml_error("tls: 5"), Catch::StartsWith("config: tls: expected a mapping: got '5'"));
  CHECK_THAT(yaml_error("targets:\n  - plain"),
             Catch::StartsWith("config: targets[0]: expected a mapping: got 'plain'"));
  CHECK_THAT(yaml_error("probes: connectivity"),
             Catch::StartsWith("config: probes: expected a list: got 'connectivity'"));
  CHECK_THAT(yaml_error("- a\n- b"), Catch::StartsWith("config: test.yaml: expected a mapping"));
}

TEST_CASE("a YAML syntax error names the file and the line", "[config]") {
  CHECK_THAT(yaml_error("listen: 0.0.0.0:1\npool: {size: 2\n"),
             Catch::StartsWith("config: test.yaml line ") && Catch::Contains("YAML syntax error"));
  CHECK_THAT(yaml_error("a: b\n  c: d: e\n"), Catch::StartsWith("config: test.yaml line 2"));
}

TEST_CASE("targets need a name and exactly one of dsn and dsn_file", "[config]") {
  CHECK_THAT(yaml_error("targets:\n  - dsn: host=db"),
             Catch::StartsWith("config: targets[0].name: missing"));
  CHECK_THAT(
      yaml_error("targets:\n  - name: a"),
      Catch::StartsWith("config: targets[0].dsn: missing") && Catch::Contains("dsn or dsn_file"));
  CHECK_THAT(yaml_error("targets:\n  - {name: a, dsn: host=db, dsn_file: /x}"),
             Catch::StartsWith("config: targets[0].dsn_file: dsn and dsn_file are both set"));
  CHECK_THAT(yaml_error("targets:\n  - {name: a, dsn_file: /nonexistent/pgvitals-dsn}"),
             Catch::StartsWith("config: targets[0].dsn_file: cannot read file: got "
                               "'/nonexistent/pgvitals-dsn'"));
  CHECK_THAT(yaml_error("targets:\n  - {name: a, dsn: 'mysql://u@h/db'}"),
             Catch::StartsWith("config: targets[0].dsn: scheme 'mysql'"));
  // DATABASE_URL may give the DSN of `default`; load_config checks that something did.
  CHECK(parse_yaml_config("targets:\n  - name: default", "t").targets.size() == 1);
}

TEST_CASE("basic auth needs both user and password", "[config]") {
  CHECK_THAT(yaml_error("auth: {basic: {user: admin}}"),
             Catch::StartsWith("config: auth.basic.password: missing") &&
                 Catch::Contains("both auth.basic.user and auth.basic.password"));
  CHECK_THAT(
      yaml_error("auth: {basic: {password: s3cret-pw}}"),
      Catch::StartsWith("config: auth.basic.user: missing") && !Catch::Contains("s3cret-pw"));
  const auto ok = parse_yaml_config("auth: {basic: {user: u, password: p}, bearer_token: t}", "t");
  CHECK(ok.auth.basic_user == "u");
  CHECK(ok.auth.basic_password == "p");
  CHECK(ok.auth.bearer_token == "t");
}

TEST_CASE("TLS needs both files and both must be readable", "[config][tls]") {
  const TempFile cert("cert");
  const TempFile key("key");
  CHECK_THAT(yaml_error("tls: {cert_file: " + cert.path() + "}"),
             Catch::StartsWith("config: tls.key_file: missing"));
  CHECK_THAT(yaml_error("tls: {key_file: " + key.path() + "}"),
             Catch::StartsWith("config: tls.cert_file: missing"));
  CHECK_THAT(yaml_error("tls: {cert_file: " + cert.path() + ", key_file: /nonexistent/k.pem}"),
             Catch::StartsWith("config: tls.key_file: cannot read file: got '/nonexistent/k.pem'"));
  const auto ok =
      parse_yaml_config("tls: {cert_file: " + cert.path() + ", key_file: " + key.path() + "}", "t");
  CHECK(ok.tls.cert_file == cert.path());
  CHECK(ok.tls.key_file == key.path());
}

TEST_CASE("an empty document gives the documented defaults", "[config]") {
  const auto c = parse_yaml_config("", "empty.yaml");
  CHECK(c.listen.host == "0.0.0.0");
  CHECK(c.listen.port == 9188);
  CHECK(c.log_format == "text");
  CHECK(c.log_level == "info");
  CHECK(c.interval == pgv::config::Millis{5000});
  CHECK(c.timeout == pgv::config::Millis{2000});
  CHECK(c.failure_ring == 256);
  CHECK(c.shard.count == 1);
  CHECK(c.targets.empty());
}

TEST_CASE("every documented key is read", "[config]") {
  const auto c = parse_yaml_config(R"(
listen: "[::1]:9200"
http: {read_timeout: 1s, write_timeout: 2s, keep_alive_timeout: 3s, threads: 8,
       max_request_bytes: 4096}
log: {format: JSON, level: debug}
echo_sql: yes
settings_every: 3
workers: 2
failure_ring: 10
activity: {top_n: 5, expose_query_text: true}
shard: {index: 1, count: 3}
auth: {protect_health: true}
targets:
  - {name: r1, dsn: host=db, required: false, labels: {cluster: main, role: replica}}
)",
                                   "t");
  CHECK(c.listen.host == "::1");
  CHECK(c.listen.port == 9200);
  CHECK(c.http.read_timeout == pgv::config::Millis{1000});
  CHECK(c.http.write_timeout == pgv::config::Millis{2000});
  CHECK(c.http.keep_alive_timeout == pgv::config::Millis{3000});
  CHECK(c.http.threads == 8);
  CHECK(c.http.max_request_bytes == 4096);
  CHECK(c.log_format == "json");
  CHECK(c.log_level == "debug");
  CHECK(c.echo_sql);
  CHECK(c.settings_every == 3);
  CHECK(c.workers == 2);
  CHECK(c.failure_ring == 10);
  CHECK(c.activity_top_n == 5);
  CHECK(c.expose_query_text);
  CHECK(c.shard.index == 1);
  CHECK(c.shard.count == 3);
  CHECK(c.auth.protect_health);
  REQUIRE(c.targets.size() == 1);
  CHECK_FALSE(c.targets[0].required);
  CHECK(c.targets[0].labels ==
        std::map<std::string, std::string>{{"cluster", "main"}, {"role", "replica"}});
}
