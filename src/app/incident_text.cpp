#include "app/incident_text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <set>

#include "config/redact.hpp"

namespace pgv::app {
namespace {

using incidents::IncidentRecord;
using incidents::Moment;

std::string format_time(double unix_seconds, const char* pattern) {
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, pattern, &tm);
  return buf;
}

std::string iso(double t) {
  return format_time(t, "%Y-%m-%dT%H:%M:%SZ");
}
std::string clock_time(double t) {
  return format_time(t, "%H:%M:%SZ");
}

// 850ms, 42s, 4m05s, 2h03m.
std::string span(double seconds) {
  char buf[48];
  const double s = std::fabs(seconds);
  if (s < 0.0005) {
    return "0s";
  } else if (s < 1) {
    std::snprintf(buf, sizeof buf, "%.0fms", s * 1000);
  } else if (s < 60) {
    std::snprintf(buf, sizeof buf, "%.0fs", s);
  } else if (s < 3600) {
    const auto n = static_cast<long>(s);
    std::snprintf(buf, sizeof buf, "%ldm%02lds", n / 60, n % 60);
  } else {
    const auto n = static_cast<long>(s);
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", n / 3600, n % 3600 / 60);
  }
  return buf;
}

std::string relative(double seconds) {
  return (seconds < 0 ? "-" : "+") + span(seconds);
}

std::string ms(double seconds) {
  char buf[32];
  if (seconds < 1) {
    std::snprintf(buf, sizeof buf, "%.1f ms", seconds * 1000);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f s", seconds);
  }
  return buf;
}

std::string padded(const std::string& text, int width) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%-*s", width, text.c_str());
  return buf;
}

template <typename Map>
std::string counts(const Map& m) {
  std::string out;
  for (const auto& [k, n] : m) out += (out.empty() ? "" : ", ") + k + " " + std::to_string(n);
  return out.empty() ? "none" : out;
}

void header(std::string& out, const IncidentRecord& r) {
  out += "Incident " + r.id + "\n";
  out += "  target:       " + r.target + "\n";
  out += "  trigger:      " + r.trigger + "\n";
  out += "  opened:       " + iso(r.opened_unix) + "\n";
  if (r.open()) {
    out += "  closed:       not yet (still open when last written)\n";
  } else {
    out += "  closed:       " + iso(r.closed_unix) + " (lasted " +
           span(r.closed_unix - r.opened_unix) + ")\n";
  }
  if (r.cleared_unix > 0) {
    out += "  cleared:      " + iso(r.cleared_unix) + " (" + span(r.cleared_unix - r.opened_unix) +
           " after opening)\n";
  }
  out += "  first error:  " + (r.first_error.empty() ? "none" : r.first_error) + "\n";
  out += "  ended:        " +
         (r.open()          ? "still open"
          : r.ended.empty() ? "closed"
                            : r.ended) +
         "\n";
}

void timeline(std::string& out, const IncidentRecord& r) {
  out += "\nTimeline\n";
  if (r.transitions.empty()) out += "  (nothing recorded)\n";
  for (const auto& t : r.transitions) {
    out += "  " + padded(relative(t.t - r.opened_unix), 8) + " " + clock_time(t.t) + "  " + t.what +
           "\n";
  }
}

// The last moment at or before the trigger, else the first one after it.
const Moment* moment_at_trigger(const IncidentRecord& r) {
  const Moment* best = nullptr;
  for (const auto& m : r.moments) {
    if (m && m->t <= r.opened_unix && (!best || m->t >= best->t)) best = m.get();
  }
  if (best) return best;
  for (const auto& m : r.moments) {
    if (m && (!best || m->t < best->t)) best = m.get();
  }
  return best;
}

std::string session_name(const probes::ActivityDigest& a, int pid) {
  const auto it = std::find_if(a.oldest_transactions.begin(), a.oldest_transactions.end(),
                               [pid](const probes::SessionInfo& s) { return s.pid == pid; });
  std::string out = "pid " + std::to_string(pid);
  if (it == a.oldest_transactions.end()) return out;
  out += " (" + (it->application.empty() ? "no application" : it->application);
  if (!it->state.empty()) out += ", " + it->state;
  if (it->transaction_seconds > 0) out += ", transaction " + span(it->transaction_seconds);
  return out + ")";
}

// pid ← the sessions holding it up, each followed up the chain a few steps.
std::string blockers(const probes::ActivityDigest& a, const probes::BlockedSession& b,
                     std::set<int>& seen, int depth) {
  std::string out;
  for (const int pid : b.blocked_by) {
    out += (out.empty() ? "" : ", ") + session_name(a, pid);
    const auto up = std::find_if(a.blocked.begin(), a.blocked.end(),
                                 [pid](const probes::BlockedSession& x) { return x.pid == pid; });
    if (up != a.blocked.end() && depth < 4 && seen.insert(pid).second) {
      out += " <- " + blockers(a, *up, seen, depth + 1);
    }
  }
  return out;
}

void activity(std::string& out, const IncidentRecord& r, const Moment* m) {
  out += "\nActivity just before the trigger";
  if (!m || !m->activity) {
    out += "\n  (no pg_stat_activity digest recorded)\n";
    return;
  }
  const probes::ActivityDigest& a = *m->activity;
  const double at = m->activity_unix > 0 ? m->activity_unix : m->t;
  out += " (pg_stat_activity at " + clock_time(at) + ", " + relative(at - r.opened_unix) + ")\n";
  char line[160];
  std::snprintf(line, sizeof line, "  client backends: %d of %d (saturation %.2f)\n",
                a.client_backends, a.max_connections - a.reserved_connections, a.saturation());
  out += line;
  out += "  sessions by state: " + counts(a.by_state) + "\n";
  out += "  applications holding connections:\n";
  for (const auto& [app, n] : a.top_applications) {
    std::map<std::string, int> states;  // of the sessions the digest names
    for (const auto& s : a.oldest_transactions) {
      if (s.application == app) ++states[s.state.empty() ? "unknown" : s.state];
    }
    out += "    " + padded(app.empty() ? "(no application)" : app, 24) + " " +
           padded(std::to_string(n), 5) +
           (states.empty() ? "" : " (of the oldest below: " + counts(states) + ")") + "\n";
  }
  if (a.other_application_sessions > 0) {
    out +=
        "    " + padded("(others)", 24) + " " + std::to_string(a.other_application_sessions) + "\n";
  }
  if (!a.oldest_transactions.empty()) out += "  oldest transactions:\n";
  for (const auto& s : a.oldest_transactions) {
    out += "    pid " + padded(std::to_string(s.pid), 7) + " " +
           padded(s.application.empty() ? "(no application)" : s.application, 20) + " user " +
           padded(s.user, 12) + " age " + padded(span(s.transaction_seconds), 7) + " " + s.state +
           "\n";
  }
  if (!a.blocked.empty()) out += "  blocking chain (blocked <- blocker):\n";
  for (const auto& b : a.blocked) {
    std::set<int> seen{b.pid};
    out += "    " + session_name(a, b.pid) + " <- " + blockers(a, b, seen, 0) + "\n";
  }
  out += "  waits: " + counts(a.waiting_by_event_type);
  if (a.longest_lock_wait_seconds)
    out += "; longest lock wait " + span(*a.longest_lock_wait_seconds);
  out += "\n";
  if (!a.privileged) out += "  (the role lacks pg_monitor: other roles' sessions are hidden)\n";
}

void pool_state(std::string& out, const IncidentRecord& r, const Moment* m) {
  out += "\nPool and connections at the trigger";
  if (!m) {
    out += "\n  (nothing recorded)\n";
    return;
  }
  out += " (" + clock_time(m->t) + ", " + relative(m->t - r.opened_unix) + ")\n";
  char line[160];
  std::snprintf(line, sizeof line, "  pool: %d in use, %d idle, %d waiting, max %d\n",
                m->pool.in_use, m->pool.idle, m->pool.waiting, m->pool.max);
  out += line;
  std::string phases;
  for (const auto& [phase, secs] : m->connect_phases) {
    phases += (phases.empty() ? "" : ", ") + phase + " " + ms(secs);
  }
  out += "  last new connection: " + (phases.empty() ? "no phases recorded" : phases) + "\n";
  for (const auto& [probe, p] : m->probes) {
    out += "  " + padded(probe, 16) + " " +
           (p.ok ? "ok " + ms(p.seconds)
                 : "failed" + (p.phase.empty() ? "" : " at " + p.phase) + ": " + p.reason) +
           "\n";
  }
}

void failures(std::string& out, const IncidentRecord& r) {
  struct Group {
    int count = 0;
    double first = 0;
    double last = 0;
    std::set<std::string> probes;
    std::string message;
  };
  std::map<std::pair<std::string, std::string>, Group> groups;
  for (const auto& f : r.failures) {
    Group& g = groups[{f.phase, f.reason}];
    if (g.count++ == 0 || f.time_unix < g.first) {
      g.first = f.time_unix;
      g.message = f.message;
    }
    g.last = std::max(g.last, f.time_unix);
    g.probes.insert(f.probe);
  }
  out +=
      "\nFailures (" + std::to_string(r.failures.size()) +
      (r.failures_dropped > 0 ? ", " + std::to_string(r.failures_dropped) + " more dropped" : "") +
      ")\n";
  if (groups.empty()) out += "  none recorded\n";
  for (const auto& [key, g] : groups) {
    std::string probes;
    for (const auto& p : g.probes) probes += (probes.empty() ? "" : ", ") + p;
    out += "  " + (key.first.empty() ? "?" : key.first) + " / " +
           (key.second.empty() ? "?" : key.second) + ": " + std::to_string(g.count) + "x, first " +
           clock_time(g.first) + " (" + relative(g.first - r.opened_unix) + "), last " +
           clock_time(g.last) + " (" + relative(g.last - r.opened_unix) + "); probes " + probes +
           "\n";
    if (!g.message.empty()) out += "      e.g. " + g.message + "\n";
  }
}

void samples(std::string& out, const IncidentRecord& r) {
  out += "\nSamples during the incident (" + std::to_string(r.during.size()) + ")\n";
  if (r.during.empty()) {
    out += "  none recorded\n";
    return;
  }
  int up = 0;
  float lo = -1;
  float hi = -1;
  float saturation = -1;
  int waiting = 0;
  for (const auto& s : r.during) {
    up += s.up ? 1 : 0;
    if (s.latency >= 0) {
      lo = lo < 0 ? s.latency : std::min(lo, s.latency);
      hi = std::max(hi, s.latency);
    }
    saturation = std::max(saturation, s.saturation);
    waiting = std::max<int>(waiting, s.pool_waiting);
  }
  char line[200];
  std::snprintf(line, sizeof line, "  up in %.0f%% of samples (%d of %zu)\n",
                100.0 * up / static_cast<double>(r.during.size()), up, r.during.size());
  out += line;
  out += "  latency: " +
         (lo < 0 ? std::string("no successful round trip") : "min " + ms(lo) + ", max " + ms(hi)) +
         "\n";
  if (saturation >= 0) {
    std::snprintf(line, sizeof line, "  highest server connection saturation: %.2f\n", saturation);
    out += line;
  }
  out += "  most pool waiters: " + std::to_string(waiting) + "\n";
}

}  // namespace

std::string render_incident_text(const IncidentRecord& record) {
  std::string out;
  const Moment* at_trigger = moment_at_trigger(record);
  header(out, record);
  timeline(out, record);
  activity(out, record, at_trigger);
  pool_state(out, record, at_trigger);
  failures(out, record);
  samples(out, record);
  return out;
}

}  // namespace pgv::app
