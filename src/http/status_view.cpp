#include "http/status_view.hpp"

#include <algorithm>
#include <cctype>

#include "http/health.hpp"

namespace pgv::http {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string role_of(const telemetry::TargetState& t) {
  if (t.kind == config::TargetKind::pgbouncer) return "pgbouncer";
  if (!t.in_recovery) return "unknown";
  return *t.in_recovery ? "replica" : "primary";
}

}  // namespace

bool StatusFilter::matches(const TargetStatus& t) const {
  if (!state.empty() && t.state != state) return false;
  return query.empty() || lower(t.name).find(lower(query)) != std::string::npos;
}

std::vector<TargetStatus> target_statuses(const telemetry::Snapshot& snapshot,
                                          const std::vector<incidents::IncidentSummary>& incidents,
                                          Clock::time_point now) {
  std::vector<TargetStatus> out;
  out.reserve(snapshot.size());
  for (const auto& [name, t] : snapshot) {
    TargetStatus s;
    s.name = name;
    s.target = t.get();
    const Check up = up_check(*t, now);
    s.state = up.ok ? "up" : (up.state == nullptr ? "unknown" : "down");
    s.detail = up.detail;
    s.role = role_of(*t);
    s.required = t->required;
    if (up.state != nullptr && up.state->ok) s.latency = up.state->seconds;
    if (t->activity && t->activity->max_connections > 0) {
      s.saturation = t->activity->saturation();
    }
    s.pool = t->pool;
    for (const auto& i : incidents) {
      if (i.target == name && i.closed_unix == 0) {
        s.incident = i.id;
        break;
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<incidents::IncidentSummary> incident_summaries(const incidents::IncidentLog* log,
                                                           std::size_t recent) {
  std::vector<incidents::IncidentSummary> open;
  std::vector<incidents::IncidentSummary> closed;
  if (log == nullptr) return open;
  for (const auto& r : log->list()) {
    if (r->open()) {
      open.push_back(summary_of(*r));
    } else if (closed.size() < recent) {
      closed.push_back(summary_of(*r));
    }
  }
  open.insert(open.end(), closed.begin(), closed.end());
  return open;
}

}  // namespace pgv::http
