#pragma once

#include <string>

#include "config/agent_config.hpp"

namespace pgv::app {

// `pgvitals check`: every probe of every target once, a report for a person (or JSON
// for scripts), exit 0 when every required target is up, 1 when one is not, 2 when the
// configuration is bad.
int run_check(const config::FlagOverrides& flags, const std::string& format);

}  // namespace pgv::app
