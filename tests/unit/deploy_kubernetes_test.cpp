// The Kubernetes and Prometheus examples keep the properties an operator relies on: one agent
// at a time, memory sized from the fleet benchmark and never CPU-throttled, only scrapers
// allowed in, database certificates verified, and alerts sent somewhere.
#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>
#include <regex>
#include <string>
#include <vector>

#include "deploy_support.hpp"

using namespace pgv::testing::deploy;

namespace {

// Kubernetes memory quantities in MiB (Mi, Gi, M, G or plain bytes).
double mebibytes(const std::string& q) {
  std::smatch m;
  REQUIRE(std::regex_match(q, m, std::regex(R"(([0-9.]+)(Mi|Gi|Ki|M|G|k)?)")));
  const double v = std::stod(m[1]);
  const std::string unit = m[2];
  if (unit == "Gi") return v * 1024;
  if (unit == "Mi") return v;
  if (unit == "Ki") return v / 1024;
  if (unit == "G") return v * 1e9 / (1024 * 1024);
  if (unit == "M") return v * 1e6 / (1024 * 1024);
  if (unit == "k") return v * 1e3 / (1024 * 1024);
  return v / (1024 * 1024);
}

}  // namespace

TEST_CASE("the standalone agent runs one replica, replaced with Recreate") {
  // A rolling update runs old and new agent side by side: two probers, every alert twice.
  int checked = 0;
  for (const Doc& d : of_kind(kubernetes_docs(), "Deployment")) {
    bool agent_only = false;
    for (const auto& c : at(d.node, {"spec", "template", "spec", "containers"}))
      agent_only = text(child(c, "image")).starts_with(kImage) &&
                   at(d.node, {"spec", "template", "spec", "containers"}).size() == 1;
    if (!agent_only) continue;
    ++checked;
    INFO(d.where);
    CHECK(text(at(d.node, {"spec", "replicas"})) == "1");
    CHECK(text(at(d.node, {"spec", "strategy", "type"})) == "Recreate");
  }
  CHECK(checked == 1);
}

TEST_CASE("agent memory request equals its limit, sized from the fleet bench, and no cpu limit") {
  for (const Container& c : agent_containers()) {
    INFO(c.where);
    const std::string request = text(at(c.node, {"resources", "requests", "memory"}));
    const std::string limit = text(at(c.node, {"resources", "limits", "memory"}));
    CHECK(request == limit);
    // CFS throttling delays probes and inflates the latencies the agent reports.
    CHECK_FALSE(at(c.node, {"resources", "limits", "cpu"}).IsDefined());
    const bool sidecar = child(c.pod->spec, "containers").size() > 1;
    // docs/BENCHMARKS.md: 14.5 MiB RSS with one target; 1,000 peak at 153.2 MiB while
    // scrapes render (2026-12-02).
    CHECK(mebibytes(limit) >= (sidecar ? 14.5 * 1.5 : 153.2 * 1.25));
  }
}

TEST_CASE("a NetworkPolicy lets only scrapers reach the agent's port") {
  const std::vector<Doc> docs = kubernetes_docs();
  const std::vector<Doc> policies = of_kind(docs, "NetworkPolicy");
  REQUIRE(policies.size() == 1);
  const YAML::Node spec = child(policies[0].node, "spec");
  // Every pod that is only an agent (the Deployment's and the StatefulSet's), not the
  // applications a sidecar runs beside.
  int standalone = 0;
  for (const PodTemplate& p : pod_templates(docs)) {
    const YAML::Node items = child(p.spec, "containers");
    if (items.size() != 1 || !text(child(items[0], "image")).starts_with(kImage)) continue;
    ++standalone;
    INFO(p.where);
    CHECK(selects(at(spec, {"podSelector", "matchLabels"}), child(p.metadata, "labels")));
  }
  CHECK(standalone == 2);
  bool ingress_type = false;
  for (const auto& t : child(spec, "policyTypes"))
    ingress_type = ingress_type || text(t) == "Ingress";
  CHECK(ingress_type);
  const YAML::Node ingress = child(spec, "ingress");
  REQUIRE(ingress.IsSequence());
  REQUIRE(ingress.size() > 0);
  for (const auto& rule : ingress) {
    // Every rule names its peers (an absent `from` admits everyone) and only the agent port.
    REQUIRE(child(rule, "from").IsSequence());
    CHECK(child(rule, "from").size() > 0);
    const YAML::Node ports = child(rule, "ports");
    REQUIRE(ports.IsSequence());
    for (const auto& port : ports) CHECK(text(child(port, "port")) == std::to_string(kAgentPort));
  }
}

TEST_CASE("example database URLs verify the server certificate (sslmode=verify-full)") {
  int urls = 0;
  for (const fs::path& file : kubernetes_files()) {
    const std::string content = read_text(file);
    const std::regex url(R"((postgres(ql)?(\+[a-z0-9]+)?://[^\s"']+))");
    for (auto it = std::sregex_iterator(content.begin(), content.end(), url);
         it != std::sregex_iterator(); ++it) {
      const std::string u = it->str();
      if (u.find("...") != std::string::npos && u.find('?') == std::string::npos) continue;
      ++urls;
      INFO(file.filename().string() << ": " << u);
      CHECK(u.find("sslmode=verify-full") != std::string::npos);
      CHECK(u.find("sslrootcert=") != std::string::npos);
    }
  }
  CHECK(urls >= 3);
}

TEST_CASE("the Prometheus config sends alerts to an Alertmanager") {
  const YAML::Node cfg =
      YAML::LoadFile((kRoot / "config" / "prometheus" / "prometheus.yml").string());
  const YAML::Node managers = at(cfg, {"alerting", "alertmanagers"});
  REQUIRE(managers.IsSequence());
  REQUIRE(managers.size() > 0);
  int targets = 0;
  for (const auto& m : managers)
    for (const auto& s : child(m, "static_configs"))
      targets += static_cast<int>(child(s, "targets").size());
  CHECK(targets > 0);
}

TEST_CASE("the StatefulSet shards by pod index behind a headless Service that a monitor scrapes") {
  const std::vector<Doc> docs = kubernetes_docs();
  const std::vector<Doc> sets = of_kind(docs, "StatefulSet");
  REQUIRE(sets.size() == 1);
  const YAML::Node set = sets[0].node;
  const std::string replicas = text(at(set, {"spec", "replicas"}));
  REQUIRE(is_number(replicas));
  CHECK(std::stoi(replicas) > 1);
  CHECK(text(at(set, {"spec", "podManagementPolicy"})) == "Parallel");
  const YAML::Node pod_labels = at(set, {"spec", "template", "metadata", "labels"});
  CHECK(selects(at(set, {"spec", "selector", "matchLabels"}), pod_labels));

  // One config for every pod, with the index left to each pod and the count = replicas.
  const YAML::Node agent = at(set, {"spec", "template", "spec", "containers"})[0];
  REQUIRE(text(child(agent, "image")).starts_with(kImage));
  std::string config_map;
  for (const auto& v : at(set, {"spec", "template", "spec", "volumes"}))
    if (at(v, {"configMap", "name"}).IsDefined()) config_map = text(at(v, {"configMap", "name"}));
  YAML::Node config;
  for (const Doc& m : of_kind(docs, "ConfigMap"))
    if (text(at(m.node, {"metadata", "name"})) == config_map)
      config = YAML::Load(text(at(m.node, {"data", "pgvitals.yaml"})));
  INFO("ConfigMap " << config_map);
  REQUIRE(config.IsMap());
  CHECK(text(at(config, {"shard", "index"})) == "auto");
  CHECK(text(at(config, {"shard", "count"})) == replicas);

  // The pod's ordinal through the downward API.
  std::string field;
  for (const auto& e : child(agent, "env"))
    if (text(child(e, "name")) == "PGVITALS_SHARD_INDEX")
      field = text(at(e, {"valueFrom", "fieldRef", "fieldPath"}));
  CHECK(field == "metadata.labels['apps.kubernetes.io/pod-index']");

  // serviceName is a headless Service over these pods, and the only Service over them.
  const std::string service_name = text(at(set, {"spec", "serviceName"}));
  // Kept alive past the loop: `headless` points into it.
  const std::vector<Doc> services = of_kind(docs, "Service");
  const Doc* headless = nullptr;
  for (const Doc& s : services) {
    const bool selects_pods = selects(at(s.node, {"spec", "selector"}), pod_labels);
    INFO(s.where);
    if (text(at(s.node, {"metadata", "name"})) == service_name) {
      headless = &s;
      CHECK(selects_pods);
      CHECK(text(at(s.node, {"spec", "clusterIP"})) == "None");
    } else {
      CHECK_FALSE(selects_pods);  // a second Service would scrape (and alert on) them twice
    }
  }
  REQUIRE(headless != nullptr);

  // A ServiceMonitor selects it (each endpoint, each pod, is scraped) on one of its ports.
  int monitors = 0;
  for (const Doc& m : of_kind(docs, "ServiceMonitor")) {
    if (!selects(at(m.node, {"spec", "selector", "matchLabels"}),
                 at(headless->node, {"metadata", "labels"})))
      continue;
    ++monitors;
    for (const auto& e : at(m.node, {"spec", "endpoints"})) {
      bool port = false;
      for (const auto& sp : at(headless->node, {"spec", "ports"}))
        port = port || text(child(sp, "name")) == text(child(e, "port"));
      CHECK(port);
    }
  }
  CHECK(monitors == 1);
}
