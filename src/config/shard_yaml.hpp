#pragma once

#include "config/agent_config.hpp"
#include "config/yaml_reader.hpp"

namespace pgv::config::detail {

// The `shard:` section, {index: N|auto, count: M}; a fixed index must be below count.
ShardConfig read_shard(const Section& section);

}  // namespace pgv::config::detail
