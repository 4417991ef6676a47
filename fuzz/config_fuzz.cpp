// libFuzzer harness for the YAML config reader (pgv::config::parse_yaml_config).
//
// Properties:
//  - the only exception is ConfigError, and its message is non-empty and starts "config: "
//    (pgvitals prints it and exits 2);
//  - a password placed in the document never appears in the message.
//
// Input shapes:
//  - raw: the bytes are the YAML document (the seed files are plain YAML);
//  - structured: a first byte below 0x08 picks a template; the rest up to the first '\n' is
//    the password P, everything after it is the fuzzed rest R, placed by the template
//    around a `password:`, `bearer_token:` or DSN holding P.
// The secrets check applies to P (structured) and to the plain-text values of every
// `password:` and `bearer_token:` key (raw), when at least 3 characters long and found
// nowhere else in the document.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "config/error.hpp"
#include "config/loader.hpp"
#include "config/redact.hpp"
#include "fuzz_util.hpp"

namespace {

constexpr std::string_view kPrefix = "config: ";

[[noreturn]] void die(const char* what, std::string_view input, std::string_view detail) {
  pgv::fuzz::die("config_fuzz", what, input, detail);
}

// The message of the ConfigError that parsing `yaml` throws; empty when it parses.
// Aborts on any other exception and on a message that is not shaped "config: ...".
std::string parse_error(const std::string& yaml) {
  try {
    (void)pgv::config::parse_yaml_config(yaml, "fuzz");
    return {};
  } catch (const pgv::config::ConfigError& e) {
    const std::string message = e.what();
    if (message.empty()) die("empty ConfigError message", yaml, message);
    if (!message.starts_with(kPrefix))
      die("ConfigError message not starting 'config: '", yaml, message);
    return message;
  } catch (const std::exception& e) {
    die("exception other than ConfigError", yaml, e.what());
  } catch (...) {
    die("non-std exception", yaml, "");
  }
}

// Where the template puts P, and which characters P may hold there so that the value the
// reader sees is exactly P (a plain YAML scalar; in a DSN, one URI user-info password or
// one unquoted key=value value). Anything else is still parsed, without the secrets check.
struct Template {
  const char* before;  // text before P
  const char* after;   // text between P and R
  bool rest_first;     // R goes in front of `before` instead of after `after`
  const char* banned;  // characters P must not hold, besides blanks and control characters
};

constexpr Template kTemplates[] = {
    {"auth:\n  basic:\n    user: prometheus\n    password: ", "\n", false, ":#"},
    {"auth:\n  bearer_token: ", "\n", false, ":#"},
    {"targets:\n  - name: primary\n    dsn: postgresql://pgvitals:", "@db.example:5432/app\n",
     false, ":#@/?&\"'\\"},
    {"targets:\n  - name: primary\n    dsn: host=db.example password=", " dbname=app\n", false,
     ":#\"'\\"},
    {"\nauth:\n  basic:\n    user: u\n    password: ", "\n", true, ":#"},
    {"targets:\n  - name: primary\n    dsn: postgresql+asyncpg://u:", "@h/db?ssl=", false,
     ":#@/?&\"'\\"},
    {"targets:\n  - {name: primary, dsn: 'postgresql://u@h/db?password=", "'}\n", false,
     ":#&\"'\\,[]{}"},
    {"listen: ", "\n", true, ""},  // a slot that is not a secret: P needs no protection here
};
constexpr std::size_t kTemplateCount = sizeof kTemplates / sizeof kTemplates[0];

bool usable_password(std::string_view p, const Template& t) {
  if (p.size() < pgv::config::Secrets::kMinScrubLength) return false;
  // Plain scalars that YAML reads as null, not as the text P.
  if (p == "null" || p == "Null" || p == "NULL") return false;
  // A plain scalar cannot start with a YAML indicator.
  if (std::string_view("-?:,[]{}#&*!|>'\"%@`").find(p.front()) != std::string_view::npos) {
    return false;
  }
  for (const char c : p) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return false;
    if (std::string_view(t.banned).find(c) != std::string_view::npos) return false;
  }
  return true;
}

using pgv::fuzz::count;

// P with every letter and digit shifted by one (a->b, z->a, 9->0): the same shape, so the
// reader takes the same path, but a different value.
std::string shifted(std::string_view p) {
  std::string out(p);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c == 'z' ? 'a' : c + 1);
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c == 'Z' ? 'A' : c + 1);
    if (c >= '0' && c <= '9') c = static_cast<char>(c == '9' ? '0' : c + 1);
  }
  return out;
}

std::string build(const Template& t, std::string_view password, std::string_view rest) {
  std::string out;
  if (t.rest_first) out.append(rest);
  out.append(t.before).append(password).append(t.after);
  if (!t.rest_first) out.append(rest);
  return out;
}

// When the message shows `password` and the document does not hold it anywhere else,
// aborts unless `rebuild` (the document with another password) shows it as well.
template <typename Rebuild>
void check_secret(const std::string& yaml, const std::string& message, std::string_view password,
                  Rebuild&& rebuild) {
  // P elsewhere in the document (in R, or overlapping the template) may be shown there.
  if (message.empty() || count(yaml, password) != 1) return;
  if (message.find(password) == std::string::npos) return;
  // P may also be a word of the message's own text ("unknown key", "allowed: ..."): the
  // same document with a different password of the same shape must not show P either.
  const std::string other = shifted(password);
  if (other == password) return;  // no letters or digits: cannot tell
  const std::string other_message = parse_error(rebuild(other));
  if (other_message.find(password) != std::string::npos) return;
  die("password shown in the error message", yaml, message);
}

// The scalar values of every `password:` and `bearer_token:` key, as yaml-cpp reads them
// (a line "password: X" inside a block scalar is text, not a secret). Bounded in nodes
// and depth, since aliases can make a small document a huge or even cyclic graph.
void secret_values(const YAML::Node& node, std::vector<std::string>& out, int& budget,
                   int depth = 0) {
  if (--budget < 0 || depth > 64) return;
  if (node.IsSequence()) {
    for (const auto& item : node) secret_values(item, out, budget, depth + 1);
  } else if (node.IsMap()) {
    for (const auto& entry : node) {
      if (entry.first.IsScalar() && entry.second.IsScalar() &&
          (entry.first.Scalar() == "password" || entry.first.Scalar() == "bearer_token")) {
        out.push_back(entry.second.Scalar());
      }
      secret_values(entry.first, out, budget, depth + 1);
      secret_values(entry.second, out, budget, depth + 1);
    }
  }
}

// Raw documents: the secrets check for every password the document holds as plain text.
void raw(const std::string& yaml) {
  const std::string message = parse_error(yaml);
  if (message.empty()) return;
  std::vector<std::string> secrets;
  try {
    int budget = 10'000;
    secret_values(YAML::Load(yaml), secrets, budget);
  } catch (const std::exception&) {
    return;  // not YAML: no secrets known
  }
  for (const std::string& value : secrets) {
    if (!usable_password(value, kTemplates[0]) || count(yaml, value) != 1) continue;
    const std::size_t at = yaml.find(value);
    check_secret(yaml, message, value, [&](const std::string& other) {
      std::string copy = yaml;
      copy.replace(at, value.size(), other);
      return copy;
    });
  }
}

void structured(std::string_view input) {
  const std::size_t index = static_cast<unsigned char>(input.front()) % kTemplateCount;
  const Template& t = kTemplates[index];
  input.remove_prefix(1);
  const std::size_t newline = input.find('\n');
  const std::string_view password = input.substr(0, newline);
  const std::string_view rest =
      newline == std::string_view::npos ? std::string_view{} : input.substr(newline + 1);

  const std::string yaml = build(t, password, rest);
  const std::string message = parse_error(yaml);
  const bool secret_slot = std::string_view(t.before) != "listen: ";
  if (!secret_slot || !usable_password(password, t)) return;
  check_secret(yaml, message, password,
               [&](const std::string& other) { return build(t, other, rest); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (!input.empty() && static_cast<unsigned char>(input.front()) < 0x08) {
    structured(input);
  } else {
    raw(std::string(input));
  }
  return 0;
}
