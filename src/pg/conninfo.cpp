#include "pg/conninfo.hpp"

#include <libpq-fe.h>

#include <cstdlib>

#include "config/error.hpp"

namespace pgv::pg {
namespace {

struct OptionsDeleter {
  void operator()(PQconninfoOption* o) const noexcept { PQconninfoFree(o); }
};
struct MemDeleter {
  void operator()(char* p) const noexcept { PQfreemem(p); }
};

std::string* find(std::vector<std::pair<std::string, std::string>>& options, std::string_view key) {
  for (auto& [k, v] : options) {
    if (k == key) return &v;
  }
  return nullptr;
}

}  // namespace

ConnectParams make_connect_params(const config::Dsn& dsn, const SessionSettings& session) {
  auto secrets = std::make_shared<config::Secrets>(dsn.secrets);
  // libpq may take the password from the environment; it must be scrubbed as well.
  if (const char* env = std::getenv("PGPASSWORD")) secrets->add(env);

  char* raw_error = nullptr;
  std::unique_ptr<PQconninfoOption, OptionsDeleter> parsed(
      PQconninfoParse(dsn.conninfo.c_str(), &raw_error));
  std::unique_ptr<char, MemDeleter> error(raw_error);
  if (!parsed) {
    std::string why = error ? secrets->scrub(error.get()) : "out of memory";
    while (!why.empty() && why.back() == '\n') why.pop_back();
    const std::string key = dsn.key.empty() ? "dsn" : "config: " + dsn.key;
    throw config::ConfigError(key + ": libpq rejected '" + dsn.redacted + "': " + why);
  }

  ConnectParams params;
  for (PQconninfoOption* o = parsed.get(); o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    params.options.emplace_back(o->keyword, o->val);
    if (std::string_view(o->keyword) == "password" ||
        std::string_view(o->keyword) == "sslpassword") {
      secrets->add(o->val);
    }
  }
  // fallback_ lets a DSN that names its own application_name keep it.
  if (!find(params.options, "application_name")) {
    params.options.emplace_back("fallback_application_name", session.application_name);
  }
  if (session.statement_timeout.count() > 0) {
    params.server_settings =
        "-c statement_timeout=" + std::to_string(session.statement_timeout.count());
  }
  params.through_pooler->store(session.through_pooler);
  // Redacted again with what libpq parsed: its reading of the password wins over ours.
  params.redacted = secrets->scrub(dsn.conninfo);
  params.secrets = std::move(secrets);
  return params;
}

Endpoint ConnectParams::endpoint() const {
  auto value = [&](const char* key, const char* env) -> std::string {
    for (const auto& [k, v] : options) {
      if (k == key) return v;
    }
    const char* from_env = std::getenv(env);
    return from_env ? from_env : "";
  };
  auto first = [](const std::string& list) { return list.substr(0, list.find(',')); };
  Endpoint out;
  out.host = first(value("host", "PGHOST"));
  const std::string port = first(value("port", "PGPORT"));
  if (!port.empty()) out.port = std::atoi(port.c_str());
  out.dbname = value("dbname", "PGDATABASE");
  if (out.dbname.empty()) out.dbname = value("user", "PGUSER");
  return out;
}

std::vector<std::pair<std::string, std::string>> ConnectParams::startup_options() const {
  if (server_settings.empty() || through_pooler->load(std::memory_order_relaxed)) return options;
  std::vector<std::pair<std::string, std::string>> out = options;
  if (std::string* opts = find(out, "options")) {
    *opts += " " + server_settings;
  } else {
    out.emplace_back("options", server_settings);
  }
  return out;
}

}  // namespace pgv::pg
