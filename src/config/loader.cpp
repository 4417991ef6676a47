#include "config/loader.hpp"

#include <unistd.h>

#include <algorithm>
#include <functional>
#include <optional>

#include "config/error.hpp"
#include "config/values.hpp"
#include "config/yaml_config.hpp"

extern "C" char** environ;

namespace pgv::config {
namespace {

using detail::fail;
using detail::FileConfig;
using detail::show_value;

// An empty variable counts as unset: deployment templates often render `NAME=` for
// values they do not have.
std::optional<std::string> lookup(const Environment& env, const std::string& name) {
  const auto it = env.find(name);
  if (it == env.end() || detail::trim(it->second).empty()) return std::nullopt;
  return it->second;
}

struct Setting {
  std::string key;  // the variable that was used, for messages
  std::string value;
};

// Both spellings are in use; when both are set they must agree, since picking one
// silently would hide a deployment mistake.
std::optional<Setting> lookup_alias(const Environment& env, const std::string& first,
                                    const std::string& second) {
  const auto a = lookup(env, first);
  const auto b = lookup(env, second);
  if (a && b && detail::trim(*a) != detail::trim(*b)) {
    fail(second, "conflicts with " + first, show_value(*b),
         "the same value as " + first + " (" + show_value(*a) + "), or only one of them");
  }
  if (a) return Setting{first, *a};
  if (b) return Setting{second, *b};
  return std::nullopt;
}

FileConfig read_file_layer(const FlagOverrides& flags, const Environment& env) {
  std::string key = "--config";
  std::optional<std::string> path = flags.config_file;
  if (!path) {
    key = "PGVITALS_CONFIG";
    path = lookup(env, key);
  }
  if (!path) return FileConfig{};
  const std::optional<std::string> text = detail::read_text_file(*path);
  if (!text) fail(key, "cannot read config file", show_value(*path), "a readable YAML file");
  return detail::read_yaml_config(*text, *path);
}

void set_interval(FileConfig& file, Millis interval) {
  file.agent.interval = interval;
  for (auto& t : file.agent.targets) t.interval = interval;
}

void set_timeout(FileConfig& file, Millis timeout) {
  file.agent.timeout = timeout;
  for (auto& t : file.agent.targets) t.timeout = timeout;
}

void set_pool(FileConfig& file, const std::function<void(PoolSettings&)>& change) {
  change(file.pool);
  for (auto& t : file.agent.targets) change(t.pool);
}

// DATABASE_URL names the target `default`, as the applications that set it mean it:
// with no targets in the file it becomes the only target; a file target named `default`
// takes its DSN; a file that lists only other targets ignores it, because adding a
// target the file does not mention would watch a database nobody asked for.
void apply_database_url(FileConfig& file, const std::string& url) {
  auto& targets = file.agent.targets;
  if (targets.empty()) {
    TargetConfig t;
    t.name = "default";
    t.dsn = detail::parse_dsn_at("DATABASE_URL", url);
    t.interval = file.agent.interval;
    t.timeout = file.agent.timeout;
    t.pool = file.pool;
    t.probes = file.probes;
    t.applications = file.applications;
    targets.push_back(std::move(t));
    return;
  }
  for (auto& t : targets) {
    if (t.name == "default") t.dsn = detail::parse_dsn_at("DATABASE_URL", url);
  }
}

void apply_pool_environment(FileConfig& file, const Environment& env) {
  if (const auto s = lookup_alias(env, "DB_POOL_SIZE", "DATABASE_POOL_SIZE")) {
    const int size = static_cast<int>(detail::parse_int(s->key, s->value, 1, 10'000));
    set_pool(file, [&](PoolSettings& p) { p.size = size; });
  }
  if (const auto s = lookup_alias(env, "DB_MAX_OVERFLOW", "DATABASE_MAX_OVERFLOW")) {
    const int overflow = static_cast<int>(detail::parse_int(s->key, s->value, 0, 10'000));
    set_pool(file, [&](PoolSettings& p) { p.max_overflow = overflow; });
  }
  if (const auto s = lookup_alias(env, "DATABASE_POOL_TIMEOUT", "DB_POOL_TIMEOUT")) {
    const Millis timeout = detail::parse_seconds_or_duration(s->key, s->value);
    set_pool(file, [&](PoolSettings& p) { p.timeout = timeout; });
  }
  if (const auto s = lookup_alias(env, "DATABASE_POOL_RECYCLE", "DB_POOL_RECYCLE")) {
    const Millis recycle = detail::parse_seconds_or_duration(s->key, s->value);
    set_pool(file, [&](PoolSettings& p) { p.recycle = recycle; });
  }
  if (const auto s = lookup_alias(env, "DATABASE_POOL_PRE_PING", "DB_POOL_PRE_PING")) {
    const bool pre_ping = detail::parse_bool(s->key, s->value);
    set_pool(file, [&](PoolSettings& p) { p.pre_ping = pre_ping; });
  }
}

void apply_environment(FileConfig& file, const Environment& env) {
  AgentConfig& a = file.agent;
  a.listen = listen_from_environment(a.listen, env);
  if (const auto v = lookup(env, "PGVITALS_LOG_FORMAT")) {
    a.log_format = detail::parse_choice("PGVITALS_LOG_FORMAT", *v, detail::kLogFormats);
  }
  if (const auto v = lookup(env, "PGVITALS_LOG_LEVEL")) {
    a.log_level = detail::parse_choice("PGVITALS_LOG_LEVEL", *v, detail::kLogLevels);
  }
  if (const auto v = lookup(env, "PGVITALS_INCIDENTS_DIR")) a.incidents.dir = *v;
  // Credentials from a Secret, for the agent and for `pgvitals probe` alike.
  if (const auto v = lookup(env, "PGVITALS_AUTH_BEARER_TOKEN")) a.auth.bearer_token = *v;
  if (const auto v = lookup(env, "PGVITALS_AUTH_BASIC_USER")) a.auth.basic_user = *v;
  if (const auto v = lookup(env, "PGVITALS_AUTH_BASIC_PASSWORD")) a.auth.basic_password = *v;
  if (const auto v = lookup(env, "DB_ECHO_SQL")) a.echo_sql = detail::parse_bool("DB_ECHO_SQL", *v);
  if (const auto v = lookup(env, "DATABASE_URL")) apply_database_url(file, *v);
  if (const auto v = lookup(env, "PGVITALS_INTERVAL")) {
    set_interval(file, parse_duration("PGVITALS_INTERVAL", *v, detail::kMinInterval));
  }
  if (const auto v = lookup(env, "PGVITALS_TIMEOUT")) {
    set_timeout(file, parse_duration("PGVITALS_TIMEOUT", *v));
  }
  apply_pool_environment(file, env);
}

void apply_flags(FileConfig& file, const FlagOverrides& flags) {
  AgentConfig& a = file.agent;
  if (flags.listen) a.listen = detail::parse_listen("--listen", *flags.listen);
  if (flags.log_format) {
    a.log_format = detail::parse_choice("--log-format", *flags.log_format, detail::kLogFormats);
  }
  if (flags.log_level) {
    a.log_level = detail::parse_choice("--log-level", *flags.log_level, detail::kLogLevels);
  }
  if (flags.interval) {
    set_interval(file, parse_duration("--interval", *flags.interval, detail::kMinInterval));
  }
  if (flags.timeout) set_timeout(file, parse_duration("--timeout", *flags.timeout));
}

// What only the merged layers can tell; each value was checked where it was read.
void validate(const AgentConfig& a) {
  if (a.targets.empty()) {
    fail("targets", "no targets: set DATABASE_URL or list targets: in the config file", "", "");
  }
  for (std::size_t i = 0; i < a.targets.size(); ++i) {
    const TargetConfig& t = a.targets[i];
    const std::string key = "targets[" + std::to_string(i) + "]";
    if (t.dsn.conninfo.empty()) {
      fail(key + ".dsn", "missing", "",
           "dsn or dsn_file, or DATABASE_URL for the target named default");
    }
    if (t.kind == TargetKind::pgbouncer && t.max_replication_lag.set()) {
      fail(key + ".max_replication_lag", "not for a kind: pgbouncer target", "", "no value");
    }
    if (t.via.empty()) continue;
    const auto pooler = std::find_if(a.targets.begin(), a.targets.end(),
                                     [&](const TargetConfig& o) { return o.name == t.via; });
    std::string poolers;
    for (const TargetConfig& o : a.targets) {
      if (o.kind == TargetKind::pgbouncer) poolers += (poolers.empty() ? "" : ", ") + o.name;
    }
    const std::string allowed = poolers.empty()
                                    ? "the name of a kind: pgbouncer target (there is none)"
                                    : "the name of a kind: pgbouncer target: " + poolers;
    if (pooler == a.targets.end()) fail(key + ".via", "no such target", show_value(t.via), allowed);
    if (pooler->kind != TargetKind::pgbouncer) {
      fail(key + ".via", "not a kind: pgbouncer target", show_value(t.via), allowed);
    }
  }
}

}  // namespace

Environment current_environment() {
  Environment env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const std::size_t eq = text.find('=');
    if (eq != std::string_view::npos) env.emplace(text.substr(0, eq), text.substr(eq + 1));
  }
  return env;
}

AgentConfig load_config(const FlagOverrides& flags, const Environment& env) {
  return load_config(flags, env, current_host_name());
}

AgentConfig load_config(const FlagOverrides& flags, const Environment& env,
                        std::string_view host_name) {
  Secrets secrets;
  if (const auto url = lookup(env, "DATABASE_URL")) secrets.add_from_dsn_text(*url);
  try {
    FileConfig file = read_file_layer(flags, env);
    secrets.merge(file.secrets);
    apply_environment(file, env);
    apply_flags(file, flags);
    validate(file.agent);
    detail::resolve_shard(file.agent.shard, env, host_name);
    detail::keep_own_shard(file.agent);
    return std::move(file.agent);
  } catch (const ConfigError& e) {
    throw ConfigError(detail::scrub_message(secrets, e.what()));
  }
}

ListenConfig listen_from_environment(const ListenConfig& fallback, const Environment& env) {
  if (const auto v = lookup(env, "PGVITALS_LISTEN")) {
    return detail::parse_listen("PGVITALS_LISTEN", detail::trim(*v));
  }
  return fallback;
}

IncidentsConfig load_incidents_config(const FlagOverrides& flags, const Environment& env) {
  Secrets secrets;
  try {
    FileConfig file = read_file_layer(flags, env);
    secrets.merge(file.secrets);
    if (const auto v = lookup(env, "PGVITALS_INCIDENTS_DIR")) file.agent.incidents.dir = *v;
    return file.agent.incidents;
  } catch (const ConfigError& e) {
    throw ConfigError(detail::scrub_message(secrets, e.what()));
  }
}

}  // namespace pgv::config
