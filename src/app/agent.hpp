#pragma once

#include "config/agent_config.hpp"

namespace pgv::app {

// `pgvitals run`: loads the configuration, starts HTTP and the scheduler, then waits for
// signals: SIGHUP reloads (a bad reload keeps the running configuration), SIGTERM and
// SIGINT stop cleanly. Returns the process exit status (2 for bad configuration).
int run_agent(const config::FlagOverrides& flags, bool check_config_only);

// Blocks the signals the agent waits for, before any thread exists, so only the main
// thread's sigwait ever receives them.
void block_agent_signals();

}  // namespace pgv::app
