#include "pg/hostaddr.hpp"

#include <catch2/catch.hpp>

#include "dns/cache.hpp"

using pgv::pg::HostEnvironment;
using pgv::pg::names_to_look_up;
using pgv::pg::needs_lookup;
using pgv::pg::Options;
using pgv::pg::with_addresses;
using Names = std::vector<std::string>;

namespace {
std::string option(const Options& o, const std::string& key) {
  for (const auto& [k, v] : o) {
    if (k == key) return v;
  }
  return "<unset>";
}
}  // namespace

TEST_CASE("sockets and IP literals need no lookup, names do", "[hostaddr]") {
  CHECK_FALSE(needs_lookup("/var/run/postgresql"));
  CHECK_FALSE(needs_lookup("@abstract"));
  CHECK_FALSE(needs_lookup(""));
  CHECK_FALSE(needs_lookup("127.0.0.1"));
  CHECK_FALSE(needs_lookup("::1"));
  CHECK_FALSE(needs_lookup("fe80::1:2"));
  CHECK(needs_lookup("localhost"));
  CHECK(needs_lookup("db.example.com"));
  CHECK(needs_lookup("127.0.0.1.nip.io"));
  CHECK(needs_lookup(std::string(300, 'a')));
}

TEST_CASE("one host name becomes hostaddr and keeps host", "[hostaddr]") {
  const Options in = {{"host", "db.test"}, {"port", "5433"}, {"dbname", "app"}};
  CHECK(names_to_look_up(in, {}) == Names{"db.test"});
  const Options out = with_addresses(in, {}, {{"db.test", {"10.0.0.5"}}});
  CHECK(option(out, "host") == "db.test");
  CHECK(option(out, "hostaddr") == "10.0.0.5");
  CHECK(option(out, "port") == "5433");
  CHECK(option(out, "dbname") == "app");
}

TEST_CASE("a name with several addresses becomes one entry per address", "[hostaddr]") {
  const Options in = {{"host", "db.test"}, {"port", "5432"}};
  const Options out = with_addresses(in, {}, {{"db.test", {"10.0.0.5", "2001:db8::5"}}});
  CHECK(option(out, "host") == "db.test,db.test");
  CHECK(option(out, "hostaddr") == "10.0.0.5,2001:db8::5");
  CHECK(option(out, "port") == "5432");  // one port still applies to every entry
}

TEST_CASE("multi-host DSNs keep hosts, ports and target_session_attrs in step", "[hostaddr]") {
  const Options in = {{"host", "a.test,/tmp,b.test,127.0.0.1,a.test"},
                      {"port", "1,2,3,4,5"},
                      {"target_session_attrs", "read-write"}};
  CHECK(names_to_look_up(in, {}) == Names{"a.test", "b.test"});
  const Options out =
      with_addresses(in, {}, {{"a.test", {"10.0.0.1"}}, {"b.test", {"10.0.0.2", "10.0.0.3"}}});
  CHECK(option(out, "host") == "a.test,/tmp,b.test,b.test,127.0.0.1,a.test");
  CHECK(option(out, "hostaddr") == "10.0.0.1,,10.0.0.2,10.0.0.3,,10.0.0.1");
  CHECK(option(out, "port") == "1,2,3,3,4,5");
  CHECK(option(out, "target_session_attrs") == "read-write");
}

TEST_CASE("sockets, literals and an existing hostaddr are left to libpq", "[hostaddr]") {
  for (const Options& in : {Options{{"host", "/var/run/postgresql"}}, Options{{"host", "::1"}},
                            Options{{"host", "10.1.1.1,/tmp"}, {"port", "1,2"}},
                            Options{{"host", "db.test"}, {"hostaddr", "10.9.9.9"}},
                            Options{{"dbname", "app"}}, Options{{"service", "x"}}}) {
    CHECK(names_to_look_up(in, {}).empty());
    CHECK(with_addresses(in, {}, {}) == in);
  }
}

TEST_CASE("PGHOST is looked up when the DSN has no host, unless PGHOSTADDR is set", "[hostaddr]") {
  HostEnvironment env;
  env.host = "env.test";
  const Options in = {{"dbname", "app"}};
  CHECK(names_to_look_up(in, env) == Names{"env.test"});
  const Options out = with_addresses(in, env, {{"env.test", {"10.0.0.7"}}});
  CHECK(option(out, "host") == "env.test");
  CHECK(option(out, "hostaddr") == "10.0.0.7");
  CHECK(names_to_look_up({{"host", "dsn.test"}}, env) == Names{"dsn.test"});
  env.hostaddr = "10.0.0.8";
  CHECK(names_to_look_up(in, env).empty());
}

TEST_CASE("the DNS cache keeps an answer for its TTL only", "[hostaddr][dns]") {
  pgv::dns::Cache cache;
  const auto t0 = pgv::Clock::now();
  cache.put("a.test", {"10.0.0.1"}, 2, t0);
  cache.put("zero.test", {"10.0.0.2"}, 0, t0);
  CHECK(cache.get("a.test", t0 + std::chrono::seconds(1)) == Names{"10.0.0.1"});
  CHECK_FALSE(cache.get("a.test", t0 + std::chrono::seconds(2)));
  CHECK_FALSE(cache.get("zero.test", t0));
  CHECK_FALSE(cache.get("other.test", t0));
}

TEST_CASE("libpq's messages name the looked-up host again", "[hostaddr]") {
  const std::string in =
      "connection to server at \"10.0.0.1\", port 5432 failed: Connection refused\n"
      "connection to server at \"10.0.0.2\", port 5432 failed: timeout\n"
      "connection to server at \"127.0.0.1\", port 5432 failed: refused";
  CHECK(pgv::pg::name_addresses(in, {{"a.test", {"10.0.0.1", "10.0.0.2"}}}) ==
        "connection to server at \"a.test\" (10.0.0.1), port 5432 failed: Connection refused\n"
        "connection to server at \"a.test\" (10.0.0.2), port 5432 failed: timeout\n"
        "connection to server at \"127.0.0.1\", port 5432 failed: refused");
  CHECK(pgv::pg::name_addresses(in, {}) == in);
}
