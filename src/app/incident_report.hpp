#pragma once

#include <optional>
#include <string>

#include "config/agent_config.hpp"

namespace pgv::app {

// `pgvitals check --incident last|ID`: one record from incidents.dir (`incidents_dir`, else
// PGVITALS_INCIDENTS_DIR, else the config file's incidents.dir), for a person or as JSON.
// Needs no running agent and no database. Exit 0 printed, 1 no such incident (or no
// directory), 2 bad configuration or arguments.
int run_incident_report(const config::FlagOverrides& flags, const std::string& which,
                        const std::string& format, const std::optional<std::string>& incidents_dir);

}  // namespace pgv::app
