#include "pg/error.hpp"

#include <catch2/catch.hpp>

using pgv::pg::classify;
using pgv::pg::parse_verbose_message;
using pgv::pg::Reason;

namespace {

// The label a classified failure gets, as metrics and traces spell it.
std::string label(std::string_view sqlstate, std::string_view message) {
  return pgv::pg::reason_label(classify(sqlstate, message), sqlstate);
}

}  // namespace

TEST_CASE("SQLSTATEs map to the bounded reason set", "[error]") {
  CHECK(label("53300", "") == "too_many_connections");
  CHECK(label("28P01", "") == "auth");
  CHECK(label("28000", "") == "auth");
  CHECK(label("57P01", "") == "shutdown");
  CHECK(label("57P03", "") == "shutdown");
  CHECK(label("57014", "") == "timeout");
  CHECK(label("3D000", "") == "sqlstate_3D");
  CHECK(label("42P01", "") == "sqlstate_42");
}

TEST_CASE("libpq's client-side messages map to reasons", "[error]") {
  CHECK(label("", "connection to server at \"127.0.0.1\", port 1 failed: Connection refused") ==
        "refused");
  CHECK(label("",
              "connection to server on socket \"/x/.s.PGSQL.5432\" failed: No such file or "
              "directory") == "refused");
  CHECK(label("", "fe_sendauth: no password supplied") == "auth");
  CHECK(label("", "server closed the connection unexpectedly") == "shutdown");
  CHECK(label("", "could not translate host name \"nope\" to address") == "dns");
  CHECK(label("", "SSL error: certificate verify failed") == "tls");
  CHECK(label("", "server certificate for \"localhost\" does not match host name \"db\"") == "tls");
  CHECK(label("", "something new") == "other");
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

TEST_CASE("reasons are an enum whose labels keep their spelling", "[error]") {
  CHECK(classify("3D000", "") == Reason::sqlstate);
  // PgBouncer's own errors, all 08P01.
  CHECK(classify("08P01", "FATAL:  not allowed") == Reason::auth);
  CHECK(classify("08P01", "FATAL:  SASL authentication failed") == Reason::auth);
  CHECK(classify("08P01", "FATAL:  no more connections allowed (max_client_conn)") ==
        Reason::too_many_connections);
  CHECK(classify("08P01", "FATAL:  query_wait_timeout") == Reason::timeout);
  CHECK(classify("08P01",
                 "FATAL:  server login has been failing, try again later (server_login_retry)") ==
        Reason::refused);
  CHECK(classify("08P01", "FATAL:  unsupported startup parameter: options") == Reason::sqlstate);
  CHECK(classify("", "fe_sendauth: no password supplied") == Reason::auth);
  CHECK(pgv::pg::to_string(Reason::too_many_connections) == "too_many_connections");
  CHECK(pgv::pg::reason_label(Reason::sqlstate, "42P01") == "sqlstate_42");
  CHECK(pgv::pg::reason_label(Reason::dns, "") == "dns");
  for (Reason r : pgv::pg::kReasons) {
    INFO(pgv::pg::to_string(r));
    CHECK_FALSE(pgv::pg::describe_reason(pgv::pg::reason_label(r, "08006")).empty());
  }
}
