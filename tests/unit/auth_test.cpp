#include "http/auth.hpp"

#include <catch2/catch.hpp>

using pgv::config::AuthConfig;
using pgv::http::auth_enabled;
using pgv::http::authorized;
using pgv::http::base64_decode;

namespace {

AuthConfig basic_only() {
  AuthConfig a;
  a.basic_user = "scraper";
  a.basic_password = "s3cret:pw";
  return a;
}

AuthConfig bearer_only() {
  AuthConfig a;
  a.bearer_token = "tok-123456";
  return a;
}

// base64("scraper:s3cret:pw")
constexpr const char* kGoodBasic = "Basic c2NyYXBlcjpzM2NyZXQ6cHc=";

}  // namespace

TEST_CASE("with no auth configured every request is authorized", "[auth]") {
  const AuthConfig none;
  CHECK_FALSE(auth_enabled(none));
  CHECK(authorized(none, ""));
  CHECK(authorized(none, "Bearer anything"));
  CHECK(authorized(none, "garbage"));
}

TEST_CASE("auth is enabled once a basic user or a bearer token is configured", "[auth]") {
  CHECK(auth_enabled(basic_only()));
  CHECK(auth_enabled(bearer_only()));
}

TEST_CASE("bearer auth accepts the configured token only", "[auth]") {
  const AuthConfig a = bearer_only();
  CHECK(authorized(a, "Bearer tok-123456"));
  CHECK_FALSE(authorized(a, ""));
  CHECK_FALSE(authorized(a, "Bearer "));
  CHECK_FALSE(authorized(a, "Bearer tok-12345"));
  CHECK_FALSE(authorized(a, "Bearer tok-1234567"));
  CHECK_FALSE(authorized(a, "Bearer TOK-123456"));
  CHECK_FALSE(authorized(a, "tok-123456"));
}

TEST_CASE("basic auth accepts the configured user and password only", "[auth]") {
  const AuthConfig a = basic_only();
  CHECK(authorized(a, kGoodBasic));
  // base64("scraper:wrong")
  CHECK_FALSE(authorized(a, "Basic c2NyYXBlcjp3cm9uZw=="));
  // base64("other:s3cret:pw")
  CHECK_FALSE(authorized(a, "Basic b3RoZXI6czNjcmV0OnB3"));
  // base64("scraper:") - the user alone
  CHECK_FALSE(authorized(a, "Basic c2NyYXBlcjo="));
  CHECK_FALSE(authorized(a, ""));
}

TEST_CASE("credentials sent under the wrong scheme are refused", "[auth]") {
  // The token sent as basic credentials, and basic credentials sent as a bearer token.
  CHECK_FALSE(authorized(bearer_only(), "Basic dG9rLTEyMzQ1Ng=="));
  CHECK_FALSE(authorized(bearer_only(), "Token tok-123456"));
  CHECK_FALSE(authorized(basic_only(), "Bearer c2NyYXBlcjpzM2NyZXQ6cHc="));
  CHECK_FALSE(authorized(basic_only(), "Bearer scraper:s3cret:pw"));
  CHECK_FALSE(authorized(basic_only(), "Digest c2NyYXBlcjpzM2NyZXQ6cHc="));
}

TEST_CASE("with basic and bearer both configured either one is accepted", "[auth]") {
  AuthConfig a = basic_only();
  a.bearer_token = "tok-123456";
  CHECK(authorized(a, kGoodBasic));
  CHECK(authorized(a, "Bearer tok-123456"));
  CHECK_FALSE(authorized(a, "Bearer nope-nope"));
  CHECK_FALSE(authorized(a, "Basic c2NyYXBlcjp3cm9uZw=="));
}

TEST_CASE("auth scheme names are case-insensitive", "[auth]") {
  CHECK(authorized(bearer_only(), "bearer tok-123456"));
  CHECK(authorized(bearer_only(), "BEARER tok-123456"));
  CHECK(authorized(basic_only(), "basic c2NyYXBlcjpzM2NyZXQ6cHc="));
  CHECK(authorized(basic_only(), "BaSiC c2NyYXBlcjpzM2NyZXQ6cHc="));
}

TEST_CASE("malformed base64 in basic credentials is refused", "[auth]") {
  const AuthConfig a = basic_only();
  CHECK_FALSE(authorized(a, "Basic "));
  CHECK_FALSE(authorized(a, "Basic !!!!"));
  CHECK_FALSE(authorized(a, "Basic c2NyYXBlcjpz*M2NyZXQ6cHc="));
  CHECK_FALSE(authorized(a, "Basic  c2NyYXBlcjpzM2NyZXQ6cHc="));  // two blanks
  CHECK_FALSE(authorized(a, "Basic"));
}

TEST_CASE("base64_decode decodes padded input and rejects foreign characters", "[auth]") {
  CHECK(base64_decode("") == "");
  CHECK(base64_decode("YQ==") == "a");
  CHECK(base64_decode("YWI=") == "ab");
  CHECK(base64_decode("YWJj") == "abc");
  CHECK(base64_decode("YWI").empty());  // RFC 7617 credentials are padded base64
  CHECK(base64_decode("c2NyYXBlcjpzM2NyZXQ6cHc=") == "scraper:s3cret:pw");
  CHECK(base64_decode("+/+/") == "\xfb\xff\xbf");
  CHECK(base64_decode("YW$i") == "");
  CHECK(base64_decode("YW-i") == "");  // base64url is not accepted
}

TEST_CASE("base64 with trailing junk or broken padding is not a credential", "[auth]") {
  CHECK(pgv::http::base64_decode("dXNlcjpwYXNz") == "user:pass");
  CHECK(pgv::http::base64_decode("dXNlcjpwYXNzx").empty());
  CHECK(pgv::http::base64_decode("dXNlcjpwYQ==junk").empty());
  CHECK(pgv::http::base64_decode("dXNl=jpw").empty());
}
