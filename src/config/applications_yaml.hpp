#pragma once

#include <string>
#include <vector>

#include "config/applications.hpp"
#include "config/yaml_reader.hpp"

namespace pgv::config::detail {

// `applications:` (top level or a target's): a list of budgets. Names must be unique in one
// list; max_connections is required.
std::vector<ApplicationBudget> read_applications(const YamlReader& r, const YAML::Node& node,
                                                 const std::string& key);

}  // namespace pgv::config::detail
