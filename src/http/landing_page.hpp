#pragma once

#include <string>

#include "telemetry/state.hpp"

namespace pgv::http {

// The landing page at /: links and a one-line state per target, a plain table that works
// without JavaScript. Kept apart from the JSON endpoints: the status page replaces it.
std::string landing_html(const telemetry::Snapshot& snapshot, Clock::time_point now);

}  // namespace pgv::http
