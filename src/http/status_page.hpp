#pragma once

#include <string>
#include <vector>

#include "http/response.hpp"
#include "http/status_view.hpp"

namespace pgv::http {

// The status page at /, rendered on the server from assets/status.html: a table of the
// targets `filter` lets through (name, state, role, latency, saturation, pool use, open
// incident) and the incidents, complete without JavaScript; status.js turns it into live
// cards. Every text is escaped.
std::string status_html(const std::vector<TargetStatus>& targets,
                        const std::vector<incidents::IncidentSummary>& incidents,
                        const StatusFilter& filter, double now_unix);

// The headers of every page and asset: a Content-Security-Policy that allows only this
// origin's own files (no inline script or style), nosniff, no referrer.
void add_page_headers(Response& response);

}  // namespace pgv::http
