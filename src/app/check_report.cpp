#include "app/check_report.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "http/health.hpp"

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
    auto it = state->checks.find("connectivity");
    t.up = it != state->checks.end() && state->fresh(it->second, now);
    t.failures = failures.recent(name, 3);
    if (state->required && !t.up) s.healthy = false;
    s.targets.push_back(std::move(t));
  }
  std::stable_sort(s.targets.begin(), s.targets.end(),
                   [](const TargetSummary& a, const TargetSummary& b) { return !a.up && b.up; });
  return s;
}

std::string render_check_text(const CheckSummary& summary) {
  std::string out;
  for (const TargetSummary& t : summary.targets) {
    const telemetry::TargetState& st = *t.state;
    out += t.up ? "[+] " : "[-] ";
    out += st.name + (t.up ? "  up" : "  DOWN");
    if (!st.required) out += " (not required)";
    out += "  " + role_of(st);
    if (st.settings) {
      out += "  PostgreSQL " + st.settings->version;
      out += "  max_connections " + std::to_string(st.settings->max_connections);
    }
    out += "  pool " + std::to_string(st.pool.in_use) + "/" + std::to_string(st.pool.max) +
           " in use, " + std::to_string(st.pool.idle) + " idle\n";
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
        out += "    " + probe + ": FAILED in " + c.phase + " (" + http::describe_reason(c.reason) +
               (c.sqlstate.empty() ? "" : ", SQLSTATE " + c.sqlstate) + ") after " + ms(c.seconds) +
               ": " + c.message + "\n";
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
    j["pool"] = {{"idle", st.pool.idle}, {"in_use", st.pool.in_use}, {"max", st.pool.max}};
    j["checks"] = nlohmann::json::object();
    for (const auto& [probe, c] : st.checks) {
      nlohmann::json cj = {{"ok", c.ok}, {"seconds", c.seconds}};
      if (!c.ok) {
        cj["reason"] = c.reason;
        cj["phase"] = c.phase;
        cj["sqlstate"] = c.sqlstate;
        cj["message"] = c.message;
      }
      j["checks"][probe] = cj;
    }
    body["targets"].push_back(std::move(j));
  }
  // Replace, not throw: a server message in another encoding must not break the report.
  return body.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace pgv::app
