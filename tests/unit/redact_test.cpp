#include "config/redact.hpp"

#include <catch2/catch.hpp>

using pgv::config::redact;
using pgv::config::Secrets;

namespace {
constexpr const char* kCanary = "CANARY-s3cr3t";
}

TEST_CASE("redact removes the password of a URI's user-info", "[redact]") {
  CHECK(redact("postgresql://app:CANARY-s3cr3t@db:5432/x") == "postgresql://app:***@db:5432/x");
  CHECK(redact("postgresql+asyncpg://app:CANARY-s3cr3t@db/x?ssl=true") ==
        "postgresql+asyncpg://app:***@db/x?ssl=true");
  // A raw '@' inside the password: the user-info ends at the authority's last '@'.
  CHECK(redact("postgres://app:p@ss@db/x") == "postgres://app:***@db/x");
  // No password: nothing to hide, nothing changed.
  CHECK(redact("postgresql://app@db/x") == "postgresql://app@db/x");
  CHECK(redact("postgresql://db:5432/x") == "postgresql://db:5432/x");
}

TEST_CASE("redact removes password: and bearer_token: values written as YAML or JSON", "[redact]") {
  // A config file quoted by mistake is one scalar, and its error message shows it.
  CHECK(redact("auth: basic: user: u password: s~/Srutpw") == "auth: basic: user: u password: ***");
  CHECK(redact("password: two words\nnext: line") == "password: ***\nnext: line");
  CHECK(redact("{\"password\": \"x y\", \"user\": \"u\"}") ==
        "{\"password\": ***, \"user\": \"u\"}");
  CHECK(redact("bearer_token: abc.def") == "bearer_token: ***");
  // A URI whose user is called "password" keeps its shape; only the password goes.
  CHECK(redact("postgresql://password:pw@db/x") == "postgresql://password:***@db/x");
  CHECK(redact("the password: field is required") == "the password: ***");
  // A dotted key path is one of our own messages naming a setting, not a value.
  CHECK(redact("config: auth.basic.password: missing") == "config: auth.basic.password: missing");
  CHECK(redact("FATAL:  password authentication failed for user \"app\"") ==
        "FATAL:  password authentication failed for user \"app\"");
}

TEST_CASE("redact removes password= values in key=value strings and URI queries", "[redact]") {
  CHECK(redact("host=db password=CANARY-s3cr3t user=app") == "host=db password=*** user=app");
  CHECK(redact("host=db password = 'with space' user=app") == "host=db password = *** user=app");
  CHECK(redact("host=db password='it\\'s' user=app") == "host=db password=*** user=app");
  CHECK(redact("postgresql://db/x?user=a&password=CANARY&sslmode=require") ==
        "postgresql://db/x?user=a&password=***&sslmode=require");
  CHECK(redact("sslpassword=keypass host=db") == "sslpassword=*** host=db");
  CHECK(redact("PASSWORD=upper host=db") == "PASSWORD=*** host=db");
  // Words that merely contain "password" are not pairs.
  CHECK(redact("password authentication failed for user \"app\"") ==
        "password authentication failed for user \"app\"");
  CHECK(redact("mypassword=x") == "mypassword=x");
}

TEST_CASE("Secrets scrub every known secret, raw or percent-encoded", "[redact]") {
  Secrets secrets;
  secrets.add("p@ss word/1");
  const std::string text =
      "failed: p@ss word/1 and p%40ss%20word%2F1 and postgresql://u:zzz@h/ and password=abc";
  const std::string out = secrets.scrub(text);
  CHECK(out.find("p@ss word/1") == std::string::npos);
  CHECK(out.find("p%40ss%20word%2F1") == std::string::npos);
  CHECK(out.find("zzz") == std::string::npos);
  CHECK(out.find("abc") == std::string::npos);
  CHECK(out.find("failed: ***") == 0);
}

TEST_CASE("Secrets found in DSN text cover every DSN form", "[redact]") {
  const std::vector<std::string> forms = {
      std::string("postgresql://app:") + kCanary + "@db/x",
      std::string("postgresql+psycopg2://app:") + kCanary + "@db/x",
      std::string("host=db user=app password=") + kCanary,
      std::string("host=db user=app password='") + kCanary + "'",
      "postgresql://app@db/x?password=" + pgv::config::percent_encode(kCanary),
      "postgresql://app:" + pgv::config::percent_encode(std::string(kCanary) + "@/") + "@db/x",
  };
  for (const auto& dsn : forms) {
    Secrets secrets;
    secrets.add_from_dsn_text(dsn);
    // A message that quotes the password outside any recognisable shape.
    const std::string message = std::string("server said: ") + kCanary + "@/ !";
    INFO(dsn);
    CHECK(secrets.scrub(message).find(kCanary) == std::string::npos);
    CHECK(secrets.scrub(dsn).find(kCanary) == std::string::npos);
  }
}

TEST_CASE("very short secrets are left to shape-based redaction", "[redact]") {
  Secrets secrets;
  secrets.add("ab");
  CHECK(secrets.empty());
  CHECK(secrets.scrub("password=ab") == "password=***");
}

TEST_CASE("percent_decode and percent_encode round-trip", "[redact]") {
  CHECK(pgv::config::percent_decode("a%40b%2Fc%zz%4") == "a@b/c%zz%4");
  CHECK(pgv::config::percent_decode(pgv::config::percent_encode("x y@z:/?")) == "x y@z:/?");
}
