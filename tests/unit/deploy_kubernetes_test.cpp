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
    // docs/BENCHMARKS.md: 14.5 MiB RSS with one target, 58 MiB with 1,000.
    CHECK(mebibytes(limit) >= (sidecar ? 14.5 * 1.5 : 58.0 * 1.5));
  }
}

TEST_CASE("a NetworkPolicy lets only scrapers reach the agent's port") {
  const std::vector<Doc> docs = kubernetes_docs();
  const std::vector<Doc> policies = of_kind(docs, "NetworkPolicy");
  REQUIRE(policies.size() == 1);
  const YAML::Node spec = child(policies[0].node, "spec");
  bool selects_agent = false;
  for (const PodTemplate& p : pod_templates(docs)) {
    bool has_agent = false;
    for (const auto& c : child(p.spec, "containers"))
      has_agent = has_agent || text(child(c, "image")).starts_with(kImage);
    if (has_agent && selects(at(spec, {"podSelector", "matchLabels"}), child(p.metadata, "labels")))
      selects_agent = true;
  }
  CHECK(selects_agent);
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
