#include "app/check_report.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "app/applications_report.hpp"
#include "app/pooler_report.hpp"
#include "app/replication_report.hpp"
#include "config/probe_catalog.hpp"
#include "http/debug_json.hpp"
#include "http/health.hpp"
#include "http/pooler_json.hpp"
#include "http/replication_json.hpp"
#include "pg/error.hpp"
#include "telemetry/digest_json.hpp"

namespace pgv::app {
namespace {

std::string ms(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f ms", seconds * 1e3);
  return buf;
}

std::string role_of(const telemetry::TargetState& t) {
  if (!t.in_recovery) return "role unknown";
  return *t.in_recovery ? "replica" : "primary";
}

}  // namespace

CheckSummary summarise(const telemetry::Snapshot& snapshot, const telemetry::FailureRing& failures,
                       Clock::time_point now) {
  CheckSummary s;
  for (const auto& [name, state] : snapshot) {
    TargetSummary t;
    t.state = state;
    const std::string up(config::up_probe().name);
    auto it = state->checks.find(up);
    t.up = it != state->checks.end() && state->fresh(up, it->second, now);
    t.failures = failures.recent(name, 3);
    if (state->required && !t.up) s.healthy = false;
    s.targets.push_back(std::move(t));
  }
  std::stable_sort(s.targets.begin(), s.targets.end(),
                   [](const TargetSummary& a, const TargetSummary& b) { return !a.up && b.up; });
  return s;
}

namespace {

std::string clock_time(double unix_seconds) {
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%SZ", &tm);
  return buf;
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", s);
  return buf;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : " · ") + p;
  return out.empty() ? "-" : out;
}

void render_activity(std::string& out, const telemetry::TargetState& st) {
  if (!st.activity) return;
  const probes::ActivityDigest& a = *st.activity;
  char buf[160];
  std::snprintf(buf, sizeof buf,
                "    connections: %d of %d usable (%.0f%%), max_connections %d, %d reserved\n",
                a.client_backends, a.max_connections - a.reserved_connections, a.saturation() * 100,
                a.max_connections, a.reserved_connections);
  out += buf;
  std::vector<std::string> states;
  for (const auto& [state, n] : a.by_state) states.push_back(state + " " + std::to_string(n));
  out += "    by state: " + join(states) + "\n";
  std::vector<std::string> apps;
  int rest = a.other_application_sessions;
  for (std::size_t i = 0; i < a.top_applications.size(); ++i) {
    const auto& [app, n] = a.top_applications[i];
    if (i < 5) {
      apps.push_back(app + " " + std::to_string(n));
    } else {
      rest += n;
    }
  }
  if (rest > 0) apps.push_back("other " + std::to_string(rest));
  out += "    top applications: " + join(apps) + "\n";
  if (!a.oldest_transactions.empty()) {
    std::vector<std::string> oldest;
    for (std::size_t i = 0; i < a.oldest_transactions.size() && i < 3; ++i) {
      const auto& t = a.oldest_transactions[i];
      oldest.push_back("pid " + std::to_string(t.pid) + " " + t.application + " (" + t.state +
                       ") " + seconds_text(t.transaction_seconds));
    }
    out += "    oldest transactions: " + join(oldest) + "\n";
  }
  if (!a.blocked.empty() || !a.waiting_by_event_type.empty()) {
    out += "    blocked: " + std::to_string(a.blocked.size());
    for (const auto& b : a.blocked) {
      out += " (pid " + std::to_string(b.pid) + " by";
      for (int p : b.blocked_by) out += " " + std::to_string(p);
      out += ")";
    }
    if (a.longest_lock_wait_seconds) {
      out += ", longest lock wait " + seconds_text(*a.longest_lock_wait_seconds);
    }
    out += "; waiting:";
    for (const auto& [type, n] : a.waiting_by_event_type)
      out += " " + type + " " + std::to_string(n);
    out += "\n";
  }
  if (!a.privileged)
    out += "    note: the role lacks pg_monitor; other roles' details are hidden\n";
}

}  // namespace

std::string render_check_text(const CheckSummary& summary) {
  std::string out;
  for (const TargetSummary& t : summary.targets) {
    const telemetry::TargetState& st = *t.state;
    out += t.up ? "[+] " : "[-] ";
    out += st.name + (t.up ? "  up" : "  DOWN");
    if (!st.required) out += " (not required)";
    out += "  " + role_of(st);
    if (st.settings) out += "  PostgreSQL " + st.settings->version;
    // Without an activity digest the connection limit is all there is to show about slots.
    if (st.settings && !st.activity) {
      out += "  max_connections " + std::to_string(st.settings->max_connections);
    }
    auto conn = st.checks.find(std::string(config::up_probe().name));
    if (t.up && conn != st.checks.end()) out += "  latency " + ms(conn->second.seconds);
    out += "\n";
    render_activity(out, st);
    render_replication(out, st);
    render_pooler(out, st);
    render_applications(out, st);
    char pool[96];
    std::snprintf(pool, sizeof pool, "    agent pool: %d/%d in use, %d idle, %d waiting\n",
                  st.pool.in_use, st.pool.max, st.pool.idle, st.pool.waiting);
    out += pool;
    for (const std::string& probe : st.probes) {
      auto it = st.checks.find(probe);
      if (it == st.checks.end() || !it->second.ran) {
        out += "    " + probe + ": skipped\n";
        continue;
      }
      const telemetry::CheckState& c = it->second;
      if (c.ok) {
        out += "    " + probe + ": ok in " + ms(c.seconds) + "\n";
      } else {
        out += "    " + probe + ": FAILED in " + c.phase + " (" + pg::describe_reason(c.reason) +
               (c.sqlstate.empty() ? "" : ", SQLSTATE " + c.sqlstate) + ") after " + ms(c.seconds) +
               ": " + c.message + "\n";
        if (!c.hop.empty()) out += "      failing hop: " + c.hop + " (" + c.hop_detail + ")\n";
      }
    }
    if (!t.failures.empty()) {
      out += "    last failures:\n";
      for (const auto& f : t.failures) {
        out += "      " + clock_time(f.time_unix) + " " + f.probe + " " + f.phase + " " + f.reason +
               (f.hop.empty() ? "" : " at the " + f.hop + " hop") + ": " + f.message + "\n";
      }
    }
  }
  out += summary.healthy ? "healthy\n" : "UNHEALTHY\n";
  return out;
}

std::string render_check_json(const CheckSummary& summary) {
  nlohmann::json body;
  body["healthy"] = summary.healthy;
  body["targets"] = nlohmann::json::array();
  for (const TargetSummary& t : summary.targets) {
    const telemetry::TargetState& st = *t.state;
    nlohmann::json j;
    j["name"] = st.name;
    j["up"] = t.up;
    j["required"] = st.required;
    j["labels"] = st.labels;
    if (st.in_recovery) j["in_recovery"] = *st.in_recovery;
    if (st.settings) {
      j["server"] = {
          {"version", st.settings->version},
          {"version_num", st.settings->version_num},
          {"max_connections", st.settings->max_connections},
          {"superuser_reserved_connections", st.settings->superuser_reserved_connections},
          {"reserved_connections", st.settings->reserved_connections}};
    }
    j["pool"] = {{"idle", st.pool.idle},
                 {"in_use", st.pool.in_use},
                 {"max", st.pool.max},
                 {"waiting", st.pool.waiting}};
    if (st.activity) {
      j["activity"] = telemetry::activity_to_json(*st.activity);
      j["applications"] = http::applications_to_json(*st.activity, st.applications);
    }
    if (st.replication) j["replication"] = http::replication_to_json(*st.replication);
    if (st.pooler) j["pooler"] = http::pooler_to_json(*st.pooler);
    if (!st.via.empty()) j["via"] = st.via;
    j["failures"] = nlohmann::json::array();
    for (const auto& f : t.failures) {
      j["failures"].push_back({{"time", f.time_unix},
                               {"probe", f.probe},
                               {"phase", f.phase},
                               {"reason", f.reason},
                               {"sqlstate", f.sqlstate},
                               {"message", f.message}});
      if (!f.hop.empty()) j["failures"].back()["hop"] = f.hop;
    }
    j["checks"] = nlohmann::json::object();
    for (const auto& [probe, c] : st.checks) {
      nlohmann::json cj = {{"ok", c.ok}, {"seconds", c.seconds}};
      if (!c.ok) {
        cj["reason"] = c.reason;
        cj["phase"] = c.phase;
        cj["sqlstate"] = c.sqlstate;
        cj["message"] = c.message;
        if (!c.hop.empty()) {
          cj["hop"] = c.hop;
          cj["hop_detail"] = c.hop_detail;
        }
      }
      j["checks"][probe] = cj;
    }
    body["targets"].push_back(std::move(j));
  }
  // Replace, not throw: a server message in another encoding must not break the report.
  return body.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace pgv::app
