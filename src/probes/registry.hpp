#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/agent_config.hpp"
#include "probes/probe.hpp"

namespace pgv::probes {

// Builds a target's enabled probes in the configured order, one per row of the probe table
// (config/probe_catalog.hpp). Registered explicitly (no static initialisers a linker could
// drop). Throws config::ConfigError for a name it does not know.
std::vector<std::unique_ptr<Probe>> make_probes(const config::TargetConfig& target,
                                                const config::AgentConfig& agent);

}  // namespace pgv::probes
