#include "config/yaml_config.hpp"

#include <yaml-cpp/yaml.h>

#include <optional>

#include "config/applications_yaml.hpp"
#include "config/error.hpp"
#include "config/incidents_yaml.hpp"
#include "config/loader.hpp"
#include "config/shard_yaml.hpp"
#include "config/values.hpp"
#include "config/yaml_reader.hpp"

namespace pgv::config {
namespace detail {
namespace {

constexpr int kMaxDepth = 64;
constexpr std::int64_t kMaxPoolSize = 10'000;

const std::vector<std::string> kTopKeys = {
    "listen",   "tls",     "auth",           "http",         "log",          "echo_sql",
    "interval", "timeout", "settings_every", "workers",      "failure_ring", "activity",
    "shard",    "pool",    "probes",         "applications", "targets",      "incidents"};
const std::vector<std::string> kTargetKeys = {
    "name",        "kind",     "dsn",     "dsn_file", "via",    "labels",
    "required",    "interval", "timeout", "pool",     "probes", "max_replication_lag",
    "applications"};
const std::vector<std::string> kIncidentKeys = {
    "dir",   "keep",       "max_bytes",        "before",
    "after", "saturation", "blocked_sessions", "oldest_transaction"};
const std::vector<std::string> kKinds = {"postgres", "pgbouncer"};
const std::vector<std::string> kPoolKeys = {"size", "max_overflow", "timeout", "recycle",
                                            "pre_ping"};

// Runs before any check, so that a message about one part of the document is scrubbed of
// secrets found anywhere in it, whatever shape they were written in. YAML aliases share
// nodes: each container is walked once, and the walk has a budget, so a self-referencing
// or fanned-out alias costs linear time instead of hanging the loader.
struct SecretWalk {
  Secrets& out;
  std::vector<YAML::Node> seen;
  int budget = 200'000;
};

void collect_secrets(const YAML::Node& node, SecretWalk& walk, int depth) {
  if (depth > kMaxDepth) return;
  if (--walk.budget < 0) {
    throw ConfigError("config: document too large or too deeply aliased to read");
  }
  if (node.IsScalar()) walk.out.add_from_dsn_text(node.Scalar());
  if (node.IsSequence() || node.IsMap()) {
    for (const auto& s : walk.seen) {
      if (s.is(node)) return;
    }
    walk.seen.push_back(node);
  }
  if (node.IsSequence()) {
    for (const auto& item : node) collect_secrets(item, walk, depth + 1);
  }
  if (node.IsMap()) {
    for (const auto& entry : node) {
      collect_secrets(entry.first, walk, depth + 1);
      collect_secrets(entry.second, walk, depth + 1);
      const bool secret_key = entry.first.IsScalar() && (entry.first.Scalar() == "password" ||
                                                         entry.first.Scalar() == "bearer_token");
      if (secret_key && entry.second.IsScalar()) walk.out.add(entry.second.Scalar());
    }
  }
}

// Adds the file position to an error raised by a check that knows only the key.
template <typename Check>
void at(const YamlReader& r, const YAML::Node& node, Check&& check) {
  try {
    check();
  } catch (const ConfigError& e) {
    throw ConfigError(std::string(e.what()) + " (" + r.where(node) + ")");
  }
}

PoolSettings read_pool(const Section& s, PoolSettings out) {
  s.read_int("size", out.size, 1, kMaxPoolSize);
  s.read_int("max_overflow", out.max_overflow, 0, kMaxPoolSize);
  s.read("timeout", out.timeout);
  s.read("recycle", out.recycle);
  s.read("pre_ping", out.pre_ping);
  return out;
}

std::vector<std::string> read_probes(const YamlReader& r, const YAML::Node& node,
                                     const std::string& key,
                                     TargetKind kind = TargetKind::postgres) {
  std::vector<std::string> probes = r.text_list(node, key);
  at(r, node, [&] { check_probes(key, probes, kind); });
  return probes;
}

std::map<std::string, std::string> read_labels(const YamlReader& r, const YAML::Node& node,
                                               const std::string& key) {
  std::map<std::string, std::string> labels;
  if (node.IsNull()) return labels;
  if (!node.IsMap()) r.fail(node, key, "expected a mapping", r.got(node), "name: value pairs");
  for (const auto& entry : node) {
    const std::string name = r.text(entry.first, key + ".?");
    const std::string label_key = key + "." + name;
    at(r, entry.first, [&] { check_label_name(label_key, name); });
    if (!labels.emplace(name, r.text(entry.second, label_key)).second) {
      r.fail(entry.first, label_key, "duplicate label", show_value(name),
             "each label at most once");
    }
  }
  return labels;
}

void read_dsn(const Section& s, TargetConfig& t, Secrets& secrets) {
  const YamlReader& r = s.reader();
  const bool has_dsn = s.has("dsn");
  const bool has_file = s.has("dsn_file");
  if (has_dsn && has_file) {
    r.fail(s.get("dsn_file"), s.key("dsn_file"), "dsn and dsn_file are both set", "",
           "exactly one of dsn or dsn_file");
  }
  if (has_dsn) {
    const std::string key = s.key("dsn");
    const std::string text = r.text(s.get("dsn"), key);
    at(r, s.get("dsn"), [&] { t.dsn = parse_dsn_at(key, text); });
  } else if (has_file) {
    const std::string key = s.key("dsn_file");
    const std::string path = r.text(s.get("dsn_file"), key);
    const std::optional<std::string> content = read_text_file(path);
    if (!content)
      r.fail(s.get("dsn_file"), key, "cannot read file", show_value(path),
             "a readable file holding the DSN");
    secrets.add_from_dsn_text(*content);
    at(r, s.get("dsn_file"), [&] { t.dsn = parse_dsn_at(key, trim(*content)); });
  } else if (t.name != "default") {
    r.fail(s.node(), s.key("dsn"), "missing", "",
           "exactly one of dsn or dsn_file (only a target named default may take DATABASE_URL)");
  }
}

TargetConfig read_target(const YamlReader& r, const YAML::Node& node, const std::string& path,
                         FileConfig& file) {
  const Section s = r.section(node, path, kTargetKeys);
  TargetConfig t;
  t.interval = file.agent.interval;
  t.timeout = file.agent.timeout;
  t.pool = file.pool;
  t.probes = file.probes;
  if (!s.has("name")) r.fail(node, s.key("name"), "missing", "", "a target name such as primary");
  t.name = r.text(s.get("name"), s.key("name"));
  at(r, s.get("name"), [&] { check_target_name(s.key("name"), t.name); });
  if (s.has("kind")) {
    const std::string text = r.text(s.get("kind"), s.key("kind"));
    at(r, s.get("kind"), [&] { parse_choice(s.key("kind"), text, kKinds); });
    t.kind = text == "pgbouncer" ? TargetKind::pgbouncer : TargetKind::postgres;
    // A pooler's admin console runs the pooler's probes, whatever the file's list says.
    if (t.kind == TargetKind::pgbouncer) t.probes = default_probes(t.kind);
  }
  read_dsn(s, t, file.secrets);
  if (s.has("via")) {
    t.via = r.text(s.get("via"), s.key("via"));
    at(r, s.get("via"), [&] { check_target_name(s.key("via"), t.via); });
    if (t.kind == TargetKind::pgbouncer) {
      r.fail(s.get("via"), s.key("via"), "not for a kind: pgbouncer target", show_value(t.via),
             "via only on database targets, naming the pooler in front of them");
    }
  }
  if (s.has("labels")) t.labels = read_labels(r, s.get("labels"), s.key("labels"));
  s.read("required", t.required);
  s.read("interval", t.interval, kMinInterval);
  s.read("timeout", t.timeout);
  if (s.has("pool")) t.pool = read_pool(r.section(s.get("pool"), s.key("pool"), kPoolKeys), t.pool);
  if (s.has("probes")) t.probes = read_probes(r, s.get("probes"), s.key("probes"), t.kind);
  if (s.has("max_replication_lag")) {
    const std::string key = s.key("max_replication_lag");
    const std::string text = r.text(s.get("max_replication_lag"), key);
    at(r, s.get("max_replication_lag"),
       [&] { t.max_replication_lag = parse_lag_limit(key, text); });
  }
  if (s.has("applications")) {
    t.applications = read_applications(r, s.get("applications"), s.key("applications"));
  }
  t.applications.insert(t.applications.end(), file.applications.begin(), file.applications.end());
  return t;
}

void read_targets(const YamlReader& r, const YAML::Node& node, FileConfig& file) {
  if (node.IsNull()) return;
  if (!node.IsSequence()) {
    r.fail(node, "targets", "expected a list of targets", r.got(node),
           "a list of mappings such as - {name: primary, dsn: postgresql://...}");
  }
  std::map<std::string, std::string> seen;  // name -> key path of its first use
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string path = "targets[" + std::to_string(i) + "]";
    TargetConfig t = read_target(r, node[i], path, file);
    const auto [it, fresh] = seen.emplace(t.name, path);
    if (!fresh) {
      r.fail(node[i]["name"], path + ".name", "duplicate target name", show_value(t.name),
             "unique names (" + it->second + " has it already)");
    }
    file.agent.targets.push_back(std::move(t));
  }
}

void read_tls_and_auth(const Section& top, AgentConfig& a) {
  const YamlReader& r = top.reader();
  const Section tls = r.section(top.get("tls"), "tls", {"cert_file", "key_file"});
  tls.read("cert_file", a.tls.cert_file);
  tls.read("key_file", a.tls.key_file);
  if (a.tls.cert_file.empty() != a.tls.key_file.empty()) {
    const char* missing = a.tls.cert_file.empty() ? "tls.cert_file" : "tls.key_file";
    r.fail(tls.node(), missing, "missing", "", "both tls.cert_file and tls.key_file, or neither");
  }
  for (const char* name : {"cert_file", "key_file"}) {
    const std::string& path =
        std::string_view(name) == "cert_file" ? a.tls.cert_file : a.tls.key_file;
    if (!path.empty() && !readable_file(path)) {
      r.fail(tls.get(name), tls.key(name), "cannot read file", show_value(path),
             "a readable PEM file");
    }
  }

  const Section auth =
      r.section(top.get("auth"), "auth", {"basic", "bearer_token", "protect_health"});
  const Section basic = r.section(auth.get("basic"), "auth.basic", {"user", "password"});
  basic.read("user", a.auth.basic_user);
  basic.read("password", a.auth.basic_password);
  if (a.auth.basic_user.empty() != a.auth.basic_password.empty()) {
    const char* missing = a.auth.basic_user.empty() ? "auth.basic.user" : "auth.basic.password";
    r.fail(basic.node(), missing, "missing", "",
           "both auth.basic.user and auth.basic.password, or neither");
  }
  auth.read("bearer_token", a.auth.bearer_token);
  auth.read("protect_health", a.auth.protect_health);
}

void read_settings(const Section& top, FileConfig& file) {
  const YamlReader& r = top.reader();
  AgentConfig& a = file.agent;
  if (top.has("listen")) {
    const std::string text = r.text(top.get("listen"), "listen");
    at(r, top.get("listen"), [&] { a.listen = parse_listen("listen", text); });
  }
  read_tls_and_auth(top, a);
  const Section http = r.section(top.get("http"), "http",
                                 {"read_timeout", "write_timeout", "keep_alive_timeout", "threads",
                                  "max_request_bytes", "max_connections"});
  http.read("read_timeout", a.http.read_timeout);
  http.read("write_timeout", a.http.write_timeout);
  http.read("keep_alive_timeout", a.http.keep_alive_timeout);
  http.read_int("threads", a.http.threads, 1, 256);
  http.read_int("max_request_bytes", a.http.max_request_bytes, 512, 16 << 20);
  http.read_int("max_connections", a.http.max_connections, 16, 1 << 20);

  const Section log = r.section(top.get("log"), "log", {"format", "level"});
  if (log.has("format")) {
    const std::string text = r.text(log.get("format"), "log.format");
    at(r, log.get("format"), [&] { a.log_format = parse_choice("log.format", text, kLogFormats); });
  }
  if (log.has("level")) {
    const std::string text = r.text(log.get("level"), "log.level");
    at(r, log.get("level"), [&] { a.log_level = parse_choice("log.level", text, kLogLevels); });
  }
  top.read("echo_sql", a.echo_sql);
  top.read("interval", a.interval, kMinInterval);
  top.read("timeout", a.timeout);
  top.read_int("settings_every", a.settings_every, 1, 1'000'000);
  top.read_int("workers", a.workers, 0, 64);
  top.read_int("failure_ring", a.failure_ring, 1, 100'000);

  const Section activity =
      r.section(top.get("activity"), "activity", {"top_n", "expose_query_text", "plateau_for"});
  activity.read_int("top_n", a.activity_top_n, 1, 1000);
  activity.read("expose_query_text", a.expose_query_text);
  activity.read("plateau_for", a.plateau_for);
  if (top.has("applications")) {
    file.applications = read_applications(r, top.get("applications"), "applications");
  }

  a.shard = read_shard(r.section(top.get("shard"), "shard", {"index", "count"}));
  a.incidents = read_incidents(r.section(top.get("incidents"), "incidents", kIncidentKeys));
  file.pool = read_pool(r.section(top.get("pool"), "pool", kPoolKeys), file.pool);
  if (top.has("probes")) file.probes = read_probes(r, top.get("probes"), "probes");
}

}  // namespace

FileConfig read_yaml_config(const std::string& yaml_text, const std::string& source_name) {
  FileConfig file;
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    const std::string where = e.mark.is_null()
                                  ? ""
                                  : " line " + std::to_string(e.mark.line + 1) + ", column " +
                                        std::to_string(e.mark.column + 1);
    throw ConfigError("config: " + source_name + where + ": YAML syntax error: " + redact(e.msg));
  }
  SecretWalk walk{file.secrets, {}};
  collect_secrets(root, walk, 0);
  try {
    const YamlReader r(source_name);
    if (root.IsDefined() && !root.IsNull() && !root.IsMap()) {
      r.fail(root, source_name, "expected a mapping of settings", r.got(root),
             "a mapping with keys " + join(kTopKeys));
    }
    const Section top = r.section(root, "", kTopKeys);
    read_settings(top, file);
    if (top.has("targets")) read_targets(r, top.get("targets"), file);
  } catch (const ConfigError& e) {
    throw ConfigError(scrub_message(file.secrets, e.what()));
  } catch (const YAML::Exception& e) {
    throw ConfigError(
        scrub_message(file.secrets, "config: " + source_name + ": cannot read YAML: " + e.msg));
  }
  return file;
}

}  // namespace detail

AgentConfig parse_yaml_config(const std::string& yaml_text, const std::string& source_name) {
  return detail::read_yaml_config(yaml_text, source_name).agent;
}

}  // namespace pgv::config
