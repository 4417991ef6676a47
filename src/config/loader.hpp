#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "config/agent_config.hpp"
#include "config/shard.hpp"

namespace pgv::config {

// The process environment (environ), as load_config reads it.
Environment current_environment();

// Layers, each overriding the one before: the YAML file (flags.config_file, else
// PGVITALS_CONFIG), the environment, the flags. Then validates, then keeps this shard's
// targets. Throws ConfigError (exit status 2) naming the key, the value and what is allowed;
// no message ever carries a password. `host_name` gives `shard: {index: auto}` its ordinal
// when PGVITALS_SHARD_INDEX is unset; the first form uses current_host_name().
AgentConfig load_config(const FlagOverrides& flags, const Environment& env);
AgentConfig load_config(const FlagOverrides& flags, const Environment& env,
                        std::string_view host_name);

// For tools that only read what the agent recorded (`check --incident`): the incidents
// section of the file layer (flags.config_file, else PGVITALS_CONFIG), then
// PGVITALS_INCIDENTS_DIR. Needs no target: a file without one and no DATABASE_URL is fine.
// Throws ConfigError as load_config does.
IncidentsConfig load_incidents_config(const FlagOverrides& flags, const Environment& env);

// The listen address as the agent takes it from the environment: PGVITALS_LISTEN when set,
// else `fallback` (the file's). For `pgvitals probe`, which needs no target. Throws
// ConfigError for a bad value.
ListenConfig listen_from_environment(const ListenConfig& fallback, const Environment& env);

// One YAML document, checked, without environment or flags; `source_name` names it in
// messages. A file without targets is accepted here (DATABASE_URL may supply one).
AgentConfig parse_yaml_config(const std::string& yaml_text, const std::string& source_name);

}  // namespace pgv::config
