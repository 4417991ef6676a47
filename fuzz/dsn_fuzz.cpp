// libFuzzer harness for DSN parsing and redaction.
//
// Properties, on the bytes as a DSN:
//  - parse_dsn and make_connect_params (libpq's parser) throw nothing but ConfigError;
//  - the redacted DSN does not show a password (>= 3 characters) that libpq parsed from it;
//  - redact() never crashes and is idempotent: redact(redact(x)) == redact(x).
// And, on the bytes split into user, password P and host (FuzzedDataProvider):
//  - redact("postgresql://" + user + ":" + P + "@" + host + "/db") and
//    redact("host=" + host + " password=" + P) do not show P, unless P is in user or host.
#include <fuzzer/FuzzedDataProvider.h>

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include "config/dsn.hpp"
#include "config/error.hpp"
#include "config/redact.hpp"
#include "fuzz_util.hpp"
#include "pg/conninfo.hpp"

namespace {

[[noreturn]] void die(const char* what, std::string_view input, std::string_view detail) {
  pgv::fuzz::die("dsn_fuzz", what, input, detail);
}

using pgv::fuzz::count;

// The passwords libpq itself found in the DSN must not be shown by its redacted form.
void check_redacted(std::string_view text, const pgv::config::Dsn& dsn,
                    const pgv::pg::ConnectParams& params) {
  for (const auto& [key, value] : params.options) {
    if (key != "password" && key != "sslpassword") continue;
    if (value.size() < pgv::config::Secrets::kMinScrubLength) continue;
    // Shown legitimately when it is also, say, the user name; "***" is the marker itself.
    if (count(dsn.conninfo, value) != 1 || value.find('*') != std::string::npos) continue;
    if (params.redacted.find(value) != std::string::npos) {
      die("the redacted DSN shows the password libpq parsed", text,
          key + "=" + value + "\nredacted: " + params.redacted);
    }
  }
}

void check_parse(std::string_view text) {
  try {
    const pgv::config::Dsn dsn = pgv::config::parse_dsn(text);
    const pgv::pg::ConnectParams params = pgv::pg::make_connect_params(dsn, {});
    check_redacted(text, dsn, params);
  } catch (const pgv::config::ConfigError& e) {
    if (std::string_view(e.what()).empty()) die("empty ConfigError message", text, "");
  } catch (const std::exception& e) {
    die("exception other than ConfigError", text, e.what());
  } catch (...) {
    die("non-std exception", text, "");
  }
}

void check_idempotent(std::string_view text) {
  const std::string once = pgv::config::redact(text);
  const std::string twice = pgv::config::redact(once);
  if (once != twice) {
    die("redact is not idempotent", text, "redact(x):\n" + once + "\nredact(redact(x)):\n" + twice);
  }
}

bool is_blank(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

// Characters a URI password must percent-encode, or that end a key=value value.
bool banned_in_password(char c) {
  return c == '@' || c == '/' || c == '?' || c == '&' || c == '\'' || c == '"' || c == '\\' ||
         is_blank(c);
}

// A URI user-info cannot hold the characters that end the authority; a real URI
// percent-encodes them, and with them raw P is not the password for libpq either.
bool banned_in_user(char c) {
  return c == '/' || c == '?' || c == '"' || is_blank(c);
}

template <typename Banned>
std::string without(std::string text, Banned banned) {
  std::erase_if(text, banned);
  return text;
}

// text = before + password + after.
void check_secret(std::string_view input, const std::string& before, const std::string& password,
                  const std::string& after, const std::string& user, const std::string& host) {
  const std::string text = before + password + after;
  const std::string redacted = pgv::config::redact(text);
  if (redacted.find(password) == std::string::npos) return;
  if (user.find(password) != std::string::npos || host.find(password) != std::string::npos) return;
  // P may also be made of the template ("postgresql://", " password=", "***") and what
  // surrounds it: then the same text with a placeholder password shows it as well.
  if (pgv::config::redact(before + "\x01\x02\x03" + after).find(password) != std::string::npos) {
    return;
  }
  die("password shown by redact()", input, "text:\n" + text + "\nredact(text):\n" + redacted);
}

void check_secrets(std::string_view input) {
  FuzzedDataProvider fdp(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
  const std::string password = without(fdp.ConsumeRandomLengthString(64), banned_in_password);
  const std::string user = fdp.ConsumeRandomLengthString(64);
  const std::string host = fdp.ConsumeRemainingBytesAsString();
  if (password.size() < pgv::config::Secrets::kMinScrubLength) return;

  const std::string uri_user = without(user, banned_in_user);
  check_secret(input, "postgresql://" + uri_user + ":", password, "@" + host + "/db", uri_user,
               host);
  check_secret(input, "host=" + host + " password=", password, "", user, host);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_parse(input);
  check_secrets(input);
  check_idempotent(input);
  return 0;
}
