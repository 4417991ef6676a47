#include "app/probe.hpp"

#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "config/duration.hpp"
#include "config/error.hpp"
#include "config/loader.hpp"
#include "config/redact.hpp"
#include "config/values.hpp"

namespace pgv::app {
namespace {

struct Target {
  std::string origin;  // scheme://host:port
  std::string path;
  bool https = false;
};

// scheme://host[:port][/path]; only http and https.
Target parse_url(const std::string& url) {
  Target t;
  const std::size_t sep = url.find("://");
  if (sep == std::string::npos)
    throw config::ConfigError("URL: got '" + url +
                              "'; allowed: http://HOST[:PORT]/PATH or https://...");
  const std::string scheme = url.substr(0, sep);
  if (scheme != "http" && scheme != "https") {
    throw config::ConfigError("URL: scheme '" + scheme + "' not supported; allowed: http, https");
  }
  t.https = scheme == "https";
  const std::size_t slash = url.find('/', sep + 3);
  const std::string authority =
      url.substr(sep + 3, slash == std::string::npos ? std::string::npos : slash - sep - 3);
  if (authority.empty() || authority.find('@') != std::string::npos) {
    throw config::ConfigError("URL: got '" + config::redact(url) +
                              "'; a host is required and credentials go in the config or "
                              "the environment, not the URL");
  }
  t.origin = scheme + "://" + authority;
  t.path = slash == std::string::npos ? "/" : url.substr(slash);
  return t;
}

struct Settings {
  std::string url;
  config::AuthConfig auth;
};

// The agent's own address and credentials: the config file's listen, tls and auth, then
// the environment (PGVITALS_LISTEN and the credentials, which the agent reads too).
Settings settings_for(const ProbeOptions& o, const config::Environment& env) {
  Settings s;
  config::AgentConfig file;
  std::optional<std::string> path = o.config_file;
  if (!path) {
    if (const auto it = env.find("PGVITALS_CONFIG"); it != env.end()) path = it->second;
  }
  if (path) {
    const auto text = config::detail::read_text_file(*path);
    if (!text) throw config::ConfigError("--config: cannot read '" + *path + "'");
    file = config::parse_yaml_config(*text, *path);
  }
  auto from_env = [&](const char* name, std::string& slot) {
    if (const auto it = env.find(name); it != env.end()) slot = it->second;
  };
  s.auth = file.auth;
  from_env("PGVITALS_AUTH_BEARER_TOKEN", s.auth.bearer_token);
  from_env("PGVITALS_AUTH_BASIC_USER", s.auth.basic_user);
  from_env("PGVITALS_AUTH_BASIC_PASSWORD", s.auth.basic_password);
  if (o.url) {
    s.url = *o.url;
  } else {
    // The run command reads PGVITALS_LISTEN over the file; so must its health check.
    const config::ListenConfig listen = config::listen_from_environment(file.listen, env);
    // A wildcard bind answers on loopback; a specific address only on itself.
    const bool wildcard = listen.host.empty() || listen.host == "0.0.0.0" || listen.host == "::";
    const std::string host = wildcard                                     ? "127.0.0.1"
                             : listen.host.find(':') != std::string::npos ? "[" + listen.host + "]"
                                                                          : listen.host;
    const bool tls = !file.tls.cert_file.empty();
    s.url = std::string(tls ? "https" : "http") + "://" + host + ":" + std::to_string(listen.port) +
            "/livez";
  }
  return s;
}

}  // namespace

int run_probe(const ProbeOptions& o) {
  Settings s;
  Target target;
  config::Millis timeout{};
  try {
    s = settings_for(o, config::current_environment());
    target = parse_url(s.url);
    timeout = config::parse_duration("--timeout", o.timeout);
    if (!o.cacert.empty() && !std::filesystem::is_regular_file(o.cacert)) {
      throw config::ConfigError("--cacert: cannot read '" + o.cacert + "'");
    }
  } catch (const config::ConfigError& e) {
    std::fprintf(stderr, "pgvitals probe: %s\n", config::redact(e.what()).c_str());
    return 2;
  }

  httplib::Client client(target.origin);
  const auto secs = std::chrono::duration_cast<std::chrono::microseconds>(timeout);
  client.set_connection_timeout(secs);
  client.set_read_timeout(secs);
  client.set_write_timeout(secs);
  client.set_keep_alive(false);
  if (target.https) {
    client.enable_server_certificate_verification(!o.insecure);
    if (!o.cacert.empty()) client.set_ca_cert_path(o.cacert.c_str());
  }
  if (!s.auth.bearer_token.empty()) {
    client.set_bearer_token_auth(s.auth.bearer_token.c_str());
  } else if (!s.auth.basic_user.empty()) {
    client.set_basic_auth(s.auth.basic_user.c_str(), s.auth.basic_password.c_str());
  }
  const std::string shown = target.origin + target.path;
  const auto res = client.Get(target.path.c_str());
  if (!res) {
    std::fprintf(stderr, "pgvitals probe: %s: no answer (%s error) within %s\n", shown.c_str(),
                 httplib::to_string(res.error()).c_str(), o.timeout.c_str());
    return 1;
  }
  const bool ok = res->status >= 200 && res->status < 300;
  std::FILE* out = ok ? stdout : stderr;
  std::fprintf(out, "%s%s: %d\n", ok ? "" : "pgvitals probe: ", shown.c_str(), res->status);
  return ok ? 0 : 1;
}

}  // namespace pgv::app
