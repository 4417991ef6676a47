#include "http/debug_json.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

using pgv::http::failures_json;
using pgv::telemetry::FailureRecord;

namespace {

FailureRecord record(std::string target, std::string message) {
  FailureRecord r;
  r.time_unix = 1'700'000'123.5;
  r.target = std::move(target);
  r.probe = "connectivity";
  r.phase = "connect";
  r.reason = "too_many_connections";
  r.sqlstate = "53300";
  r.message = std::move(message);
  r.backend_pid = 4242;
  r.seconds = 0.031;
  r.phases = {{"tcp", 0.001}, {"auth", 0.03}};
  return r;
}

}  // namespace

TEST_CASE("failures_json is JSON with capacity, total and each failure's fields and phases",
          "[debug]") {
  const std::vector<FailureRecord> records = {record("replica", "sorry, too many clients already"),
                                              record("primary", "quote \" and\nnewline")};
  const auto j = nlohmann::json::parse(failures_json(records, 256, 7));
  CHECK(j["capacity"] == 256);
  CHECK(j["total"] == 7);
  REQUIRE(j["failures"].is_array());
  REQUIRE(j["failures"].size() == 2);

  const auto& f = j["failures"][0];
  CHECK(f["time"].get<double>() == Approx(1'700'000'123.5));
  CHECK(f["target"] == "replica");
  CHECK(f["probe"] == "connectivity");
  CHECK(f["phase"] == "connect");
  CHECK(f["reason"] == "too_many_connections");
  CHECK(f["sqlstate"] == "53300");
  CHECK(f["backend_pid"] == 4242);
  CHECK(f["duration_seconds"].get<double>() == Approx(0.031));
  CHECK(f["message"] == "sorry, too many clients already");
  REQUIRE(f["phases"].is_object());
  CHECK(f["phases"].size() == 2);
  CHECK(f["phases"]["tcp"].get<double>() == Approx(0.001));
  CHECK(f["phases"]["auth"].get<double>() == Approx(0.03));

  // Order is kept as given (the ring hands them over newest first).
  CHECK(j["failures"][1]["target"] == "primary");
  CHECK(j["failures"][1]["message"] == "quote \" and\nnewline");
}

TEST_CASE("failures_json with no failures has an empty array", "[debug]") {
  const auto j = nlohmann::json::parse(failures_json({}, 16, 0));
  CHECK(j["capacity"] == 16);
  CHECK(j["total"] == 0);
  CHECK(j["failures"].is_array());
  CHECK(j["failures"].empty());
}

TEST_CASE("failures_json still answers when a server message is not valid UTF-8", "[debug]") {
  // A server whose locale is LATIN1 reports startup errors (before client_encoding applies)
  // in that encoding: "Passwort-Authentifizierung für Benutzer" with a single byte for 'ü'.
  const std::vector<FailureRecord> records = {
      record("db",
             "Passwort-Authentifizierung f\xfcr Benutzer \xbb"
             "app\xab fehlgeschlagen")};
  std::string body;
  REQUIRE_NOTHROW(body = failures_json(records, 256, 1));
  const auto j = nlohmann::json::parse(body);
  CHECK_THAT(j["failures"][0]["message"].get<std::string>(),
             Catch::StartsWith("Passwort-Authentifizierung f"));
}
