#pragma once

#include <string>
#include <vector>

#include "config/agent_config.hpp"
#include "config/redact.hpp"

namespace pgv::config::detail {

// A config file as read: the agent settings, plus the target defaults that a target
// added later (the `default` target from DATABASE_URL) must inherit as well.
struct FileConfig {
  AgentConfig agent;
  PoolSettings pool;
  std::vector<std::string> probes = default_probes(TargetKind::postgres);
  std::vector<ApplicationBudget> applications;  // the file's, after each target's own
  Secrets secrets;  // every secret in the document, scrubbed from any later message
};

// Reads and checks one YAML document. A target named `default` may leave out its DSN
// (DATABASE_URL supplies it); load_config reports it if nothing does.
FileConfig read_yaml_config(const std::string& yaml_text, const std::string& source_name);

}  // namespace pgv::config::detail
