#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/agent_config.hpp"
#include "probes/probe.hpp"

namespace pgv::probes {

// The one place that knows every probe: builds a target's enabled probes in the
// configured order. Registered explicitly (no static initialisers a linker could drop).
// Throws config::ConfigError for a name it does not know.
std::vector<std::unique_ptr<Probe>> make_probes(const config::TargetConfig& target,
                                                const config::AgentConfig& agent);

}  // namespace pgv::probes
