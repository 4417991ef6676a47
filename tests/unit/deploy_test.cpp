// The deployment files (config/, Dockerfile) checked statically: they parse, and the parts that
// must agree with the agent and with each other do (endpoints, ports, paths, security).
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#ifndef PGVITALS_SOURCE_DIR
#error "PGVITALS_SOURCE_DIR must be defined"
#endif
#ifndef PGVITALS_BINARY
#error "PGVITALS_BINARY must be defined"
#endif

#include "deploy_support.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace pgv::testing::deploy;
using pgv::testing::TempDir;

namespace {

// The health paths the agent serves (src/http/server.cpp).
bool is_health_path(const std::string& path) {
  static const std::regex kPath(R"(/livez|/(healthz|readyz)(/[A-Za-z0-9_.\-]+)?)");
  return std::regex_match(path, kPath);
}

struct Run {
  int status = -1;
  std::string output;
};

// Runs the agent binary with exactly `env` as its environment; stdout and stderr captured.
Run run_agent(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::vector<std::string> argv_s = {PGVITALS_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s = env;
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  Run r;
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) r.output.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Dockerfile instructions, continuation lines joined and comments dropped: {KEYWORD, rest}.
std::vector<std::pair<std::string, std::string>> dockerfile_instructions() {
  std::istringstream in(read_text(kRoot / "Dockerfile"));
  std::vector<std::pair<std::string, std::string>> out;
  std::string line;
  std::string pending;
  while (std::getline(in, line)) {
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    if (line.ends_with("\\")) {
      pending += line.substr(0, line.size() - 1) + " ";
      continue;
    }
    std::string full = pending + line;
    pending.clear();
    full = full.substr(full.find_first_not_of(" \t"));
    const auto space = full.find_first_of(" \t");
    std::string keyword = full.substr(0, space);
    std::transform(keyword.begin(), keyword.end(), keyword.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    out.emplace_back(keyword, space == std::string::npos ? "" : full.substr(space + 1));
  }
  return out;
}

// systemd unit: every Key=value line of the [Service] section, in order.
std::vector<std::pair<std::string, std::string>> unit_service_settings() {
  std::istringstream in(read_text(kRoot / "config" / "systemd" / "pgvitals.service"));
  std::vector<std::pair<std::string, std::string>> out;
  std::string line;
  std::string section;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line[0] == '[') {
      section = line;
      continue;
    }
    const auto eq = line.find('=');
    if (section == "[Service]" && eq != std::string::npos)
      out.emplace_back(line.substr(0, eq), line.substr(eq + 1));
  }
  return out;
}

}  // namespace

TEST_CASE("every Kubernetes manifest parses and every document names its kind and object") {
  const std::vector<fs::path> files = kubernetes_files();
  std::set<std::string> names;
  for (const auto& f : files) names.insert(f.filename().string());
  for (const char* expected :
       {"deployment.yaml", "secret.yaml", "configmap.yaml", "sidecar-example.yaml",
        "servicemonitor.yaml", "networkpolicy.yaml", "statefulset.yaml"}) {
    INFO("config/kubernetes/" << expected);
    CHECK(names.contains(expected));
  }
  for (const fs::path& file : files) {
    INFO(file.filename().string());
    std::vector<YAML::Node> docs;
    REQUIRE_NOTHROW(docs = YAML::LoadAllFromFile(file.string()));
    std::size_t objects = 0;
    for (const YAML::Node& d : docs) {
      if (d.IsNull()) continue;
      ++objects;
      REQUIRE(d.IsMap());
      CHECK_FALSE(text(child(d, "apiVersion")).empty());
      CHECK_FALSE(text(child(d, "kind")).empty());
      CHECK_FALSE(text(at(d, {"metadata", "name"})).empty());
      // Namespace-agnostic: kubectl apply -n decides.
      CHECK_FALSE(at(d, {"metadata", "namespace"}).IsDefined());
    }
    CHECK(objects > 0);
  }
}

TEST_CASE("every agent container probe calls an agent health endpoint on the container's port") {
  const std::vector<Container> agents = agent_containers();
  REQUIRE(agents.size() >= 2);  // the standalone Deployment and the sidecar
  for (const Container& c : agents) {
    for (const char* probe : {"livenessProbe", "readinessProbe", "startupProbe"}) {
      INFO(c.where << " " << probe);
      const YAML::Node get = at(c.node, {probe, "httpGet"});
      REQUIRE(get.IsMap());
      const std::string path = text(child(get, "path"));
      CHECK(is_health_path(path));
      const std::string port = text(child(get, "port"));
      CHECK(container_has_port(c.node, port));
    }
    INFO(c.where);
    CHECK(container_has_port(c.node, std::to_string(kAgentPort)));
  }
}

TEST_CASE("no agent probe restarts or unreadies pods because a database is saturated") {
  // A liveness or startup probe that fails while the database is down restarts the agent in a
  // loop exactly when its metrics are needed: both use /livez. The standalone agent's
  // readiness is its own (/livez), so its rollouts finish during an outage; a sidecar gates
  // its application on /healthz, never /readyz, whose new_connection check would take every
  // application pod out at once when the database's slots fill up.
  int sidecars = 0;
  for (const Container& c : agent_containers()) {
    INFO(c.where);
    CHECK(text(at(c.node, {"livenessProbe", "httpGet", "path"})) == "/livez");
    CHECK(text(at(c.node, {"startupProbe", "httpGet", "path"})) == "/livez");
    const std::string readiness = text(at(c.node, {"readinessProbe", "httpGet", "path"}));
    CHECK_FALSE(readiness.starts_with("/readyz"));
    const bool sidecar = child(c.pod->spec, "containers").size() > 1;
    sidecars += sidecar ? 1 : 0;
    CHECK(readiness == (sidecar ? "/healthz" : "/livez"));
  }
  CHECK(sidecars >= 1);
}

TEST_CASE("every container runs as non-root with a read-only root and no privilege escalation") {
  const std::vector<Doc> docs = kubernetes_docs();
  const std::vector<PodTemplate> pods = pod_templates(docs);
  const std::vector<Container> all = containers(pods);
  REQUIRE_FALSE(all.empty());
  for (const Container& c : all) {
    INFO(c.where);
    const YAML::Node pod_sc = child(c.pod->spec, "securityContext");
    const YAML::Node sc = child(c.node, "securityContext");
    REQUIRE(sc.IsMap());
    // Container settings override the pod's.
    auto effective = [&](const char* key) {
      const YAML::Node own = child(sc, key);
      return own.IsDefined() ? text(own) : text(child(pod_sc, key));
    };
    CHECK(effective("runAsNonRoot") == "true");
    const std::string uid = effective("runAsUser");
    CHECK((uid.empty() || (is_number(uid) && uid != "0")));
    CHECK(text(child(sc, "readOnlyRootFilesystem")) == "true");
    CHECK(text(child(sc, "allowPrivilegeEscalation")) == "false");
    CHECK(text(child(sc, "privileged")) != "true");
    bool drops_all = false;
    const YAML::Node drop = at(sc, {"capabilities", "drop"});
    if (drop.IsSequence()) {
      for (const auto& d : drop) drops_all = drops_all || text(d) == "ALL";
    }
    CHECK(drops_all);
  }
  for (const Container& c : agent_containers()) {
    INFO(c.where);
    CHECK(text(at(c.node, {"securityContext", "runAsUser"})) == "65532");
    const std::string seccomp = text(at(c.node, {"securityContext", "seccompProfile", "type"}));
    const std::string pod_seccomp =
        text(at(c.pod->spec, {"securityContext", "seccompProfile", "type"}));
    CHECK((seccomp == "RuntimeDefault" || (seccomp.empty() && pod_seccomp == "RuntimeDefault")));
  }
}

TEST_CASE("every container requests cpu and memory and limits memory") {
  const std::vector<Doc> docs = kubernetes_docs();
  const std::vector<PodTemplate> pods = pod_templates(docs);
  for (const Container& c : containers(pods)) {
    INFO(c.where);
    CHECK_FALSE(text(at(c.node, {"resources", "requests", "cpu"})).empty());
    CHECK_FALSE(text(at(c.node, {"resources", "requests", "memory"})).empty());
    CHECK_FALSE(text(at(c.node, {"resources", "limits", "memory"})).empty());
  }
}

TEST_CASE("agent pods use the release image and stop quickly") {
  for (const Container& c : agent_containers()) {
    INFO(c.where);
    CHECK(text(child(c.node, "image")) == std::string(kImage) + ":0.1.0");
    const std::string grace = text(child(c.pod->spec, "terminationGracePeriodSeconds"));
    REQUIRE(is_number(grace));
    CHECK(std::stoi(grace) <= 30);
  }
}

TEST_CASE("no agent pod is scraped twice, by a monitor and by its prometheus.io annotations") {
  // A pod selected by a PodMonitor, or by a Service a ServiceMonitor selects, must not also
  // invite annotation-based discovery: two scrapes mean two `up` series and every alert twice.
  const std::vector<Doc> docs = kubernetes_docs();
  const std::vector<PodTemplate> pods = pod_templates(docs);
  int monitored = 0;
  for (const PodTemplate& p : pods) {
    bool selected = false;
    for (const Doc& m : of_kind(docs, "PodMonitor"))
      selected = selected || selects(at(m.node, {"spec", "selector", "matchLabels"}),
                                     child(p.metadata, "labels"));
    for (const Doc& m : of_kind(docs, "ServiceMonitor")) {
      for (const Doc& s : of_kind(docs, "Service")) {
        selected =
            selected || (selects(at(m.node, {"spec", "selector", "matchLabels"}),
                                 at(s.node, {"metadata", "labels"})) &&
                         selects(at(s.node, {"spec", "selector"}), child(p.metadata, "labels")));
      }
    }
    if (!selected) continue;
    ++monitored;
    INFO(p.where);
    CHECK(text(at(p.metadata, {"annotations", "prometheus.io/scrape"})) != "true");
  }
  CHECK(monitored >= 2);
}

TEST_CASE("every Service selects a pod template and targets a port that exists in it") {
  const std::vector<Doc> docs = kubernetes_docs();
  const std::vector<PodTemplate> pods = pod_templates(docs);
  const std::vector<Doc> services = of_kind(docs, "Service");
  REQUIRE_FALSE(services.empty());
  for (const Doc& s : services) {
    INFO(s.where);
    const PodTemplate* target = nullptr;
    for (const PodTemplate& p : pods)
      if (selects(at(s.node, {"spec", "selector"}), child(p.metadata, "labels"))) target = &p;
    REQUIRE(target != nullptr);
    const YAML::Node ports = at(s.node, {"spec", "ports"});
    REQUIRE(ports.IsSequence());
    for (const auto& port : ports) {
      const YAML::Node tp = child(port, "targetPort");
      const std::string wanted = tp.IsDefined() ? text(tp) : text(child(port, "port"));
      INFO("targetPort " << wanted);
      CHECK(pod_has_port(*target, wanted));
    }
  }
}

TEST_CASE("the ServiceMonitor scrapes /metrics on a port name its Service has") {
  const std::vector<Doc> docs = kubernetes_docs();
  const std::vector<Doc> monitors = of_kind(docs, "ServiceMonitor");
  const std::vector<Doc> services = of_kind(docs, "Service");
  REQUIRE_FALSE(monitors.empty());
  for (const Doc& m : monitors) {
    INFO(m.where);
    const Doc* service = nullptr;
    for (const Doc& s : services) {
      if (selects(at(m.node, {"spec", "selector", "matchLabels"}),
                  at(s.node, {"metadata", "labels"})))
        service = &s;
    }
    REQUIRE(service != nullptr);
    const YAML::Node endpoints = at(m.node, {"spec", "endpoints"});
    REQUIRE(endpoints.IsSequence());
    for (const auto& e : endpoints) {
      const std::string port = text(child(e, "port"));
      INFO("port " << port);
      bool found = false;
      for (const auto& sp : at(service->node, {"spec", "ports"}))
        found = found || text(child(sp, "name")) == port;
      CHECK(found);
      const YAML::Node path = child(e, "path");
      CHECK((!path.IsDefined() || text(path) == "/metrics"));
    }
  }
}

TEST_CASE("the PodMonitor scrapes /metrics on an agent container port of the pods it selects") {
  const std::vector<Doc> docs = kubernetes_docs();
  const std::vector<PodTemplate> pods = pod_templates(docs);
  for (const Doc& m : of_kind(docs, "PodMonitor")) {
    INFO(m.where);
    std::vector<const PodTemplate*> selected;
    for (const PodTemplate& p : pods) {
      if (selects(at(m.node, {"spec", "selector", "matchLabels"}), child(p.metadata, "labels")))
        selected.push_back(&p);
    }
    REQUIRE_FALSE(selected.empty());
    for (const auto& e : at(m.node, {"spec", "podMetricsEndpoints"})) {
      const std::string port = text(child(e, "port"));
      for (const PodTemplate* p : selected) {
        bool agent_port = false;
        for (const Container& c : agent_containers())
          agent_port = agent_port || (c.pod->where == p->where && container_has_port(c.node, port));
        INFO(p->where << " port " << port);
        CHECK(agent_port);
      }
      const YAML::Node path = child(e, "path");
      CHECK((!path.IsDefined() || text(path) == "/metrics"));
    }
  }
}

TEST_CASE("every secretKeyRef and configMap volume names an object and key defined here") {
  const std::vector<Doc> docs = kubernetes_docs();
  std::map<std::string, YAML::Node> secrets;
  for (const Doc& s : of_kind(docs, "Secret"))
    secrets.emplace(text(at(s.node, {"metadata", "name"})), s.node);
  std::set<std::string> config_maps;
  for (const Doc& c : of_kind(docs, "ConfigMap"))
    config_maps.insert(text(at(c.node, {"metadata", "name"})));
  const std::vector<PodTemplate> pods = pod_templates(docs);
  int refs = 0;
  for (const Container& c : containers(pods)) {
    const YAML::Node env = child(c.node, "env");
    if (!env.IsSequence()) continue;
    for (const auto& e : env) {
      const YAML::Node ref = at(e, {"valueFrom", "secretKeyRef"});
      if (!ref.IsDefined()) continue;
      ++refs;
      const std::string name = text(child(ref, "name"));
      const std::string key = text(child(ref, "key"));
      INFO(c.where << " " << text(child(e, "name")) << " from " << name << "/" << key);
      REQUIRE(secrets.contains(name));
      const YAML::Node& secret = secrets.at(name);
      const bool has_key = child(child(secret, "stringData"), key).IsDefined() ||
                           child(child(secret, "data"), key).IsDefined();
      CHECK((has_key || text(child(ref, "optional")) == "true"));
    }
  }
  CHECK(refs >= 2);
  for (const PodTemplate& p : pods) {
    const YAML::Node volumes = child(p.spec, "volumes");
    if (!volumes.IsSequence()) continue;
    for (const auto& v : volumes) {
      const YAML::Node cm = child(v, "configMap");
      if (!cm.IsDefined()) continue;
      INFO(p.where << " volume " << text(child(v, "name")));
      CHECK(config_maps.contains(text(child(cm, "name"))));
    }
  }
}

TEST_CASE("the standalone agent's --config file is the ConfigMap key mounted at that path") {
  const std::vector<Doc> docs = kubernetes_docs();
  std::map<std::string, YAML::Node> config_maps;
  for (const Doc& c : of_kind(docs, "ConfigMap"))
    config_maps.emplace(text(at(c.node, {"metadata", "name"})), c.node);
  int checked = 0;
  for (const Container& c : agent_containers()) {
    const YAML::Node args = child(c.node, "args");
    if (!args.IsSequence()) continue;
    for (std::size_t i = 0; i + 1 < args.size(); ++i) {
      if (text(args[i]) != "--config") continue;
      ++checked;
      const fs::path file = text(args[i + 1]);
      INFO(c.where << " --config " << file.string());
      std::string volume;
      for (const auto& m : child(c.node, "volumeMounts"))
        if (fs::path(text(child(m, "mountPath"))) == file.parent_path())
          volume = text(child(m, "name"));
      REQUIRE_FALSE(volume.empty());
      std::string config_map;
      for (const auto& v : child(c.pod->spec, "volumes"))
        if (text(child(v, "name")) == volume) config_map = text(at(v, {"configMap", "name"}));
      REQUIRE(config_maps.contains(config_map));
      CHECK(at(config_maps.at(config_map), {"data", file.filename().c_str()}).IsScalar());
    }
  }
  CHECK(checked >= 1);
}

namespace {

// The workloads whose pod template mounts a ConfigMap (by name) as a volume.
std::vector<const Doc*> workloads_mounting(const std::vector<Doc>& docs, const std::string& name) {
  std::vector<const Doc*> out;
  for (const Doc& d : docs) {
    for (const auto& v : at(d.node, {"spec", "template", "spec", "volumes"}))
      if (text(at(v, {"configMap", "name"})) == name) out.push_back(&d);
  }
  return out;
}

// The target names a `--check-config` run lists, one per line after the summary.
std::set<std::string> listed_targets(const std::string& output) {
  std::set<std::string> names;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("  ")) continue;
    std::istringstream words(line);
    std::string name;
    words >> name;
    names.insert(name);
  }
  return names;
}

}  // namespace

TEST_CASE("every ConfigMap's pgvitals.yaml passes --check-config with the Secret's DATABASE_URL") {
  const std::vector<Doc> docs = kubernetes_docs();
  const std::vector<Doc> maps = of_kind(docs, "ConfigMap");
  const std::vector<Doc> secrets = of_kind(docs, "Secret");
  REQUIRE(maps.size() == 2);  // configmap.yaml's and statefulset.yaml's
  REQUIRE(secrets.size() == 1);
  const std::string url = text(at(secrets[0].node, {"stringData", "DATABASE_URL"}));
  REQUIRE_FALSE(url.empty());
  for (const Doc& map : maps) {
    INFO(map.where);
    const std::string yaml = text(at(map.node, {"data", "pgvitals.yaml"}));
    REQUIRE_FALSE(yaml.empty());
    const TempDir dir("pgvitals-deploy");
    const fs::path file = std::filesystem::path(dir.path()) / "pgvitals.yaml";
    std::ofstream(file) << yaml;
    const std::vector<std::string> args = {"run", "--check-config", "--config", file.string()};
    const std::vector<std::string> env = {"DATABASE_URL=" + url, "PATH=/usr/bin:/bin"};
    const YAML::Node shard = child(YAML::Load(yaml), "shard");
    if (text(child(shard, "index")) != "auto") {
      const Run r = run_agent(args, env);
      INFO(r.output);
      CHECK(r.status == 0);
      CHECK(r.output.find("configuration ok") != std::string::npos);
      // The Secret's placeholder password is never echoed.
      CHECK(r.output.find("CHANGE-ME") == std::string::npos);
      continue;
    }
    // A sharded config, run as each pod of its StatefulSet would run it: every pod passes,
    // and together they watch every target exactly once.
    const std::vector<const Doc*> sets =
        workloads_mounting(docs, text(at(map.node, {"metadata", "name"})));
    REQUIRE(sets.size() == 1);
    const std::string replicas = text(at(sets[0]->node, {"spec", "replicas"}));
    REQUIRE(is_number(replicas));
    CHECK(text(child(shard, "count")) == replicas);
    std::set<std::string> all;
    for (const auto& t : child(YAML::Load(yaml), "targets")) all.insert(text(child(t, "name")));
    std::multiset<std::string> watched;
    for (int pod = 0; pod < std::stoi(replicas); ++pod) {
      const Run r =
          run_agent(args, {env[0], env[1], "PGVITALS_SHARD_INDEX=" + std::to_string(pod)});
      INFO("pod " << pod << ": " << r.output);
      CHECK(r.status == 0);
      const std::set<std::string> own = listed_targets(r.output);
      CHECK_FALSE(own.empty());  // the example's names spread over every shard
      watched.insert(own.begin(), own.end());
    }
    CHECK(std::set<std::string>(watched.begin(), watched.end()) == all);
    CHECK(watched.size() == all.size());
    // One pod more than the count is refused, naming the variable and the range.
    const Run extra = run_agent(args, {env[0], env[1], "PGVITALS_SHARD_INDEX=" + replicas});
    INFO(extra.output);
    CHECK(extra.status == 2);
    CHECK(extra.output.find("PGVITALS_SHARD_INDEX") != std::string::npos);
  }
}

TEST_CASE("the Prometheus config scrapes pgvitals /metrics every 15s and loads the alert rules") {
  const YAML::Node cfg =
      YAML::LoadFile((kRoot / "config" / "prometheus" / "prometheus.yml").string());
  const YAML::Node jobs = child(cfg, "scrape_configs");
  REQUIRE(jobs.IsSequence());
  std::optional<YAML::Node> job;
  for (const auto& j : jobs)
    if (text(child(j, "job_name")) == "pgvitals") job.emplace(j);
  REQUIRE(job.has_value());
  const YAML::Node path = child(*job, "metrics_path");
  CHECK((!path.IsDefined() || text(path) == "/metrics"));
  CHECK(text(child(*job, "scrape_interval")) == "15s");
  const YAML::Node statics = child(*job, "static_configs");
  REQUIRE(statics.IsSequence());
  bool agent_port = false;
  for (const auto& s : statics)
    for (const auto& t : child(s, "targets"))
      agent_port = agent_port || text(t).ends_with(":" + std::to_string(kAgentPort));
  CHECK(agent_port);
  const YAML::Node rules = child(cfg, "rule_files");
  REQUIRE(rules.IsSequence());
  bool alerts = false;
  for (const auto& r : rules) alerts = alerts || text(r).find("alerts/") != std::string::npos;
  CHECK(alerts);
}

TEST_CASE("the Dockerfile builds with install-deps in one stage and runs non-root in another") {
  const auto instructions = dockerfile_instructions();
  std::size_t from_count = 0;
  std::size_t last_from = 0;
  for (std::size_t i = 0; i < instructions.size(); ++i) {
    if (instructions[i].first == "FROM") {
      ++from_count;
      last_from = i;
    }
  }
  CHECK(from_count >= 2);

  bool install_deps = false;
  for (const auto& [kw, rest] : instructions)
    install_deps =
        install_deps || (kw == "RUN" && rest.find("scripts/install-deps") != std::string::npos);
  CHECK(install_deps);

  // The final stage: a non-root USER, the agent's port, a HEALTHCHECK running the agent.
  std::string user;
  bool exposes = false;
  bool healthcheck = false;
  bool entrypoint = false;
  for (std::size_t i = last_from + 1; i < instructions.size(); ++i) {
    const auto& [kw, rest] = instructions[i];
    if (kw == "USER") user = rest;
    if (kw == "EXPOSE")
      exposes = exposes || rest.find(std::to_string(kAgentPort)) != std::string::npos;
    // The agent's liveness through `pgvitals probe`, never `check`: that asks the databases,
    // and a database outage must not get the agent restarted.
    if (kw == "HEALTHCHECK")
      healthcheck = rest.find("CMD") != std::string::npos &&
                    rest.find("\"probe\"") != std::string::npos &&
                    rest.find("\"check\"") == std::string::npos;
    if (kw == "ENTRYPOINT") entrypoint = rest.find("pgvitals") != std::string::npos;
  }
  INFO("USER " << user);
  const std::string uid = user.substr(0, user.find(':'));
  CHECK_FALSE(uid.empty());
  CHECK(uid != "root");
  CHECK(uid != "0");
  CHECK(exposes);
  CHECK(healthcheck);
  CHECK(entrypoint);
}

// scripts/image-test runs the image; this is the cheap static half. The runtime packages are
// those of the binary's NEEDED libraries (the Dockerfile's comment lists them): libssl3 and
// zlib1g since HTTPS and gzip /metrics, not only as dependencies of libpq5.
TEST_CASE("the Dockerfile builds with --build-only and installs every linked library's package") {
  const auto instructions = dockerfile_instructions();
  bool build_only = false;
  std::string runtime_install;
  bool runtime_stage = false;
  for (const auto& [kw, rest] : instructions) {
    if (kw == "FROM") runtime_stage = rest.find(" AS runtime") != std::string::npos;
    if (kw != "RUN") continue;
    if (rest.find("scripts/install-deps --build-only") != std::string::npos) build_only = true;
    if (runtime_stage && rest.find("apt-get install") != std::string::npos) runtime_install = rest;
  }
  CHECK(build_only);
  REQUIRE_FALSE(runtime_install.empty());
  for (const char* package :
       {"libpq5", "libc-ares2", "libyaml-cpp0.7", "libspdlog1.10", "libprometheus-cpp-core1.0",
        "libcpp-httplib0.11", "libssl3", "zlib1g", "libstdc++6", "libgcc-s1"}) {
    INFO(package);
    CHECK(runtime_install.find(std::string(" ") + package + " ") != std::string::npos);
  }
}

TEST_CASE("the Dockerfile bakes in no secret and the build context leaves out .git and build/") {
  static const std::regex kSecret(R"((PASSWORD|SECRET|TOKEN|DATABASE_URL|PGPASS)\w*\s*=)",
                                  std::regex::icase);
  for (const auto& [kw, rest] : dockerfile_instructions()) {
    if (kw != "ENV" && kw != "ARG") continue;
    INFO(kw << " " << rest);
    CHECK_FALSE(std::regex_search(rest, kSecret));
  }
  std::set<std::string> ignored;
  std::istringstream in(read_text(kRoot / ".dockerignore"));
  for (std::string line; std::getline(in, line);) ignored.insert(line);
  CHECK(ignored.contains(".git"));
  CHECK((ignored.contains("build*") || ignored.contains("build*/")));
}

TEST_CASE("the systemd unit sets NoNewPrivileges=yes and never runs as root") {
  const auto settings = unit_service_settings();
  std::map<std::string, std::string> last;
  for (const auto& [k, v] : settings) last[k] = v;
  CHECK(last["NoNewPrivileges"] == "yes");
  const bool dynamic = last["DynamicUser"] == "yes";
  const std::string user = last["User"];
  CHECK((dynamic || !user.empty()));
  CHECK(user != "root");
  CHECK(user != "0");
  CHECK(last["ProtectSystem"] == "strict");
  REQUIRE(last.contains("CapabilityBoundingSet"));  // present and empty: no capabilities
  CHECK(last["CapabilityBoundingSet"].empty());
  CHECK(last["ExecStart"].find("pgvitals run") != std::string::npos);
}

TEST_CASE("every agent container writes incidents to a volume, never to its read-only root") {
  const auto agents = agent_containers();
  REQUIRE_FALSE(agents.empty());
  for (const Container& c : agents) {
    INFO(c.where);
    std::string dir;
    for (const auto& e : child(c.node, "env")) {
      if (text(child(e, "name")) == "PGVITALS_INCIDENTS_DIR") dir = text(child(e, "value"));
    }
    REQUIRE_FALSE(dir.empty());
    CHECK(text(at(c.node, {"securityContext", "readOnlyRootFilesystem"})) == "true");
    std::string volume;
    for (const auto& m : child(c.node, "volumeMounts")) {
      if (text(child(m, "mountPath")) == dir) {
        volume = text(child(m, "name"));
        CHECK(text(child(m, "readOnly")) != "true");
      }
    }
    REQUIRE_FALSE(volume.empty());
    bool writable = false;
    for (const auto& v : child(c.pod->spec, "volumes")) {
      if (text(child(v, "name")) != volume) continue;
      const YAML::Node empty_dir = child(v, "emptyDir");
      // On disk: a memory-backed emptyDir would count against the container's memory limit.
      writable = (empty_dir.IsDefined() && text(child(empty_dir, "medium")) != "Memory") ||
                 child(v, "persistentVolumeClaim").IsDefined();
    }
    CHECK(writable);
  }
}

TEST_CASE("the systemd unit gives incidents.dir a StateDirectory, the one writable place") {
  std::map<std::string, std::string> last;
  std::vector<std::string> environment;
  for (const auto& [k, v] : unit_service_settings()) {
    last[k] = v;
    if (k == "Environment") environment.push_back(v);
  }
  CHECK(last["StateDirectory"] == "pgvitals/incidents");
  CHECK(std::find(environment.begin(), environment.end(),
                  "PGVITALS_INCIDENTS_DIR=/var/lib/pgvitals/incidents") != environment.end());
  CHECK(last["ProtectSystem"] == "strict");
}
