#pragma once

#include "config/incidents.hpp"
#include "config/yaml_reader.hpp"

namespace pgv::config::detail {

// The `incidents:` section.
IncidentsConfig read_incidents(const Section& section);

}  // namespace pgv::config::detail
