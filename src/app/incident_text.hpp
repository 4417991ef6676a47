#pragma once

#include <string>

#include "incidents/record.hpp"

namespace pgv::app {

// One incident for on-call: the header, the timeline, who held the database just before
// the trigger, the pool and connections then, the failures grouped, the samples during.
std::string render_incident_text(const incidents::IncidentRecord& record);

}  // namespace pgv::app
