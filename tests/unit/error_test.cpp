#include "pg/error.hpp"

#include <catch2/catch.hpp>

using pgv::pg::classify;
using pgv::pg::parse_verbose_message;

TEST_CASE("SQLSTATEs map to the bounded reason set", "[error]") {
  CHECK(classify("53300", "") == "too_many_connections");
  CHECK(classify("28P01", "") == "auth");
  CHECK(classify("28000", "") == "auth");
  CHECK(classify("57P01", "") == "shutdown");
  CHECK(classify("57P03", "") == "shutdown");
  CHECK(classify("57014", "") == "timeout");
  CHECK(classify("3D000", "") == "sqlstate_3D");
  CHECK(classify("42P01", "") == "sqlstate_42");
}

TEST_CASE("libpq's client-side messages map to reasons", "[error]") {
  CHECK(classify("", "connection to server at \"127.0.0.1\", port 1 failed: Connection refused") ==
        "refused");
  CHECK(classify("",
                 "connection to server on socket \"/x/.s.PGSQL.5432\" failed: No such file or "
                 "directory") == "refused");
  CHECK(classify("", "fe_sendauth: no password supplied") == "auth");
  CHECK(classify("", "server closed the connection unexpectedly") == "shutdown");
  CHECK(classify("", "could not translate host name \"nope\" to address") == "dns");
  CHECK(classify("", "SSL error: certificate verify failed") == "tls");
  CHECK(classify("", "server certificate for \"localhost\" does not match host name \"db\"") ==
        "tls");
  CHECK(classify("", "something new") == "other");
}

TEST_CASE("verbose messages give up their SQLSTATE and lose the source location", "[error]") {
  const auto parsed = parse_verbose_message(
      "connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  3D000: database \"x\" "
      "does not exist\nLOCATION:  InitPostgres, postinit.c:948\n");
  CHECK(parsed.sqlstate == "3D000");
  CHECK(parsed.text ==
        "connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  database \"x\" does not "
        "exist");

  const auto plain = parse_verbose_message("Connection refused\n\tIs the server running?\n");
  CHECK(plain.sqlstate.empty());
  CHECK(plain.text == "Connection refused Is the server running?");

  const auto query = parse_verbose_message("ERROR:  42P01: relation \"nope\" does not exist\n");
  CHECK(query.sqlstate == "42P01");
  CHECK(query.text == "ERROR:  relation \"nope\" does not exist");
}

TEST_CASE("phases have stable names for traces and labels", "[error]") {
  CHECK(pgv::pg::to_string(pgv::pg::Phase::connect) == "connect");
  CHECK(pgv::pg::to_string(pgv::pg::Phase::pre_ping) == "pre_ping");
  CHECK(pgv::pg::to_string(pgv::pg::Phase::acquire) == "acquire");
  CHECK(pgv::pg::to_string(pgv::pg::Phase::query) == "query");
}

TEST_CASE("server messages in another encoding become valid UTF-8", "[error]") {
  CHECK(pgv::pg::to_valid_utf8("f\xFCr") == "f\xEF\xBF\xBDr");
  CHECK(pgv::pg::to_valid_utf8("caf\xC3\xA9") == "caf\xC3\xA9");
  CHECK(pgv::pg::to_valid_utf8("\xE2\x82") == "\xEF\xBF\xBD\xEF\xBF\xBD");
  const auto parsed = parse_verbose_message("FATAL:  28P01: Passwort f\xFCr Benutzer falsch\n");
  CHECK(parsed.sqlstate == "28P01");
  CHECK(parsed.text.find('\xFC') == std::string::npos);
}
