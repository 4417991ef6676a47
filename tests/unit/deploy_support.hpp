// Reading the Kubernetes manifests of config/kubernetes/ for the deployment tests: documents,
// pod templates, containers (the agent's picked by image), ports and label selectors.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#ifndef PGVITALS_SOURCE_DIR
#error "PGVITALS_SOURCE_DIR must be defined"
#endif

namespace pgv::testing::deploy {

namespace fs = std::filesystem;

inline const fs::path kRoot = PGVITALS_SOURCE_DIR;
inline const fs::path kKube = kRoot / "config" / "kubernetes";
inline constexpr const char* kImage = "ghcr.io/pgvitals/pgvitals";
inline constexpr int kAgentPort = 9188;

inline std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A child that is never an invalid ("zombie") node, so lookups can be chained safely.
inline YAML::Node child(const YAML::Node& node, const std::string& key) {
  if (!node.IsDefined() || !node.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  const YAML::Node found = node[key];
  return found ? found : YAML::Node(YAML::NodeType::Undefined);
}

// Node::operator= writes through to the document; reset() rebinds the handle.
inline YAML::Node at(const YAML::Node& start, std::initializer_list<const char*> keys) {
  YAML::Node node = start;
  for (const char* key : keys) node.reset(child(node, key));
  return node;
}

inline std::string text(const YAML::Node& node) {
  return node.IsScalar() ? node.Scalar() : "";
}

inline bool is_number(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

struct Doc {
  std::string where;  // file#index, for messages
  YAML::Node node;
};

inline std::vector<fs::path> kubernetes_files() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(kKube)) {
    const std::string ext = entry.path().extension().string();
    if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml")) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

inline std::vector<Doc> kubernetes_docs() {
  std::vector<Doc> docs;
  for (const fs::path& file : kubernetes_files()) {
    const std::vector<YAML::Node> nodes = YAML::LoadAllFromFile(file.string());
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (nodes[i].IsNull()) continue;  // an empty document between two ---
      docs.push_back({file.filename().string() + "#" + std::to_string(i), nodes[i]});
    }
  }
  return docs;
}

inline std::vector<Doc> of_kind(const std::vector<Doc>& docs, const std::string& kind) {
  std::vector<Doc> out;
  for (const Doc& d : docs)
    if (text(child(d.node, "kind")) == kind) out.push_back(d);
  return out;
}

struct PodTemplate {
  std::string where;
  YAML::Node metadata;
  YAML::Node spec;
};

inline std::vector<PodTemplate> pod_templates(const std::vector<Doc>& docs) {
  std::vector<PodTemplate> out;
  for (const Doc& d : docs) {
    const std::string kind = text(child(d.node, "kind"));
    if (kind == "Pod") {
      out.push_back({d.where, child(d.node, "metadata"), child(d.node, "spec")});
    } else if (kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet" ||
               kind == "Job" || kind == "ReplicaSet") {
      const YAML::Node tpl = at(d.node, {"spec", "template"});
      out.push_back({d.where, child(tpl, "metadata"), child(tpl, "spec")});
    }
  }
  return out;
}

struct Container {
  std::string where;  // file#doc/container-name
  const PodTemplate* pod;
  YAML::Node node;
};

inline std::vector<Container> containers(const std::vector<PodTemplate>& pods) {
  std::vector<Container> out;
  for (const PodTemplate& p : pods) {
    for (const char* list : {"containers", "initContainers"}) {
      const YAML::Node items = child(p.spec, list);
      if (!items.IsSequence()) continue;
      for (const auto& c : items) out.push_back({p.where + "/" + text(child(c, "name")), &p, c});
    }
  }
  return out;
}

inline bool is_agent(const Container& c) {
  return text(child(c.node, "image")).starts_with(kImage);
}

inline std::vector<Container> agent_containers() {
  static const std::vector<Doc> docs = kubernetes_docs();
  static const std::vector<PodTemplate> pods = pod_templates(docs);
  std::vector<Container> out;
  for (const Container& c : containers(pods))
    if (is_agent(c)) out.push_back(c);
  return out;
}

// A container's port (by name or number) exists among its declared ports.
inline bool container_has_port(const YAML::Node& container, const std::string& port) {
  const YAML::Node ports = child(container, "ports");
  if (!ports.IsSequence()) return false;
  for (const auto& p : ports) {
    if (is_number(port) ? text(child(p, "containerPort")) == port : text(child(p, "name")) == port)
      return true;
  }
  return false;
}

inline bool pod_has_port(const PodTemplate& pod, const std::string& port) {
  const YAML::Node items = child(pod.spec, "containers");
  if (!items.IsSequence()) return false;
  for (const auto& c : items)
    if (container_has_port(c, port)) return true;
  return false;
}

// Every key: value of `selector` is among `labels`.
inline bool selects(const YAML::Node& selector, const YAML::Node& labels) {
  if (!selector.IsMap() || selector.size() == 0) return false;
  for (const auto& kv : selector) {
    if (text(child(labels, kv.first.Scalar())) != text(kv.second)) return false;
  }
  return true;
}

}  // namespace pgv::testing::deploy
