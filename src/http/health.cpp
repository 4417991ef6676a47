#include "http/health.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "config/probe_catalog.hpp"
#include "http/roles.hpp"
#include "pg/error.hpp"

namespace pgv::http {
namespace {

bool enabled(const telemetry::TargetState& t, const std::string& probe) {
  return std::find(t.probes.begin(), t.probes.end(), probe) != t.probes.end();
}

Check probe_check(const telemetry::TargetState& t, const std::string& probe, std::string name,
                  bool counted, Clock::time_point now) {
  Check c;
  c.name = std::move(name);
  c.target = t.name;
  c.counted = counted;
  auto it = t.checks.find(probe);
  if (it == t.checks.end() || !it->second.ran) {
    c.detail = "no result yet";
    return c;
  }
  const telemetry::CheckState& s = it->second;
  c.state = &s;
  if (!s.ok) {
    c.detail = s.sqlstate == "57P03" ? "server is starting up or shutting down"
                                     : pg::describe_reason(s.reason);
    return c;
  }
  const double age = seconds_between(s.last_success, now);
  const double max_age = t.max_age_seconds(probe);
  if (age > max_age) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "stale: last success %.1fs ago (limit %.1fs)", age, max_age);
    c.detail = buf;
    return c;
  }
  c.ok = true;
  return c;
}

void add_target_checks(Report& r, const telemetry::TargetState& t, bool single,
                       Clock::time_point now) {
  const bool counted = single || t.required;
  // One check per health-gated probe of the table: the up/down probe is named after the
  // target, the others after target/probe. A readyz-only probe (new_connection) is shown
  // but not counted by /healthz on purpose: a full server is saturated, not down.
  for (const config::ProbeSpec& spec : config::kProbeTable) {
    if (spec.health == config::HealthGate::none) continue;
    const std::string probe(spec.name);
    const bool up_probe = spec.health == config::HealthGate::healthz;
    if (!up_probe && !enabled(t, probe)) continue;
    const bool counts_here = up_probe || r.endpoint == Endpoint::readyz;
    r.checks.push_back(probe_check(t, probe, up_probe ? t.name : t.name + "/" + probe,
                                   counted && counts_here, now));
  }
  if (r.endpoint == Endpoint::readyz) {
    Check pool;
    pool.name = t.name + "/pool";
    pool.target = t.name;
    pool.counted = counted;
    pool.ok = !(t.pool.max > 0 && t.pool.in_use >= t.pool.max && t.pool.waiting > 0);
    if (!pool.ok) pool.detail = "pool exhausted";
    r.checks.push_back(pool);
    // A standby further behind than max_replication_lag is not ready: a Service drops it.
    if (t.max_replication_lag.set() && t.in_recovery.value_or(false)) {
      Check replication;
      replication.name = t.name + "/replication";
      replication.target = t.name;
      replication.counted = counted;
      const std::optional<std::string> problem = lag_problem(t, t.max_replication_lag, false);
      replication.ok = !problem;
      if (problem) replication.detail = *problem;
      r.checks.push_back(replication);
    }
  }
}

void finish(Report& r, const std::set<std::string>& exclude) {
  std::erase_if(r.checks, [&](const Check& c) { return exclude.contains(c.name); });
  r.ok = r.found && std::all_of(r.checks.begin(), r.checks.end(),
                                [](const Check& c) { return c.ok || !c.counted; });
}

}  // namespace

std::string_view to_string(Endpoint e) noexcept {
  switch (e) {
    case Endpoint::livez:
      return "livez";
    case Endpoint::healthz:
      return "healthz";
    case Endpoint::readyz:
      return "readyz";
  }
  return "healthz";
}

Report evaluate(const telemetry::Snapshot& snapshot, Endpoint endpoint, const std::string& target,
                const std::set<std::string>& exclude, Clock::time_point now) {
  Report r;
  r.endpoint = endpoint;
  if (!target.empty()) {
    auto it = snapshot.find(target);
    if (it == snapshot.end()) {
      r.found = false;
      r.ok = false;
      return r;
    }
    add_target_checks(r, *it->second, true, now);
  } else {
    for (const auto& [name, state] : snapshot) add_target_checks(r, *state, false, now);
  }
  finish(r, exclude);
  return r;
}

Report evaluate_liveness(const telemetry::Liveness& liveness, const std::set<std::string>& exclude,
                         Clock::time_point now) {
  Report r;
  r.endpoint = Endpoint::livez;
  for (std::size_t i = 0; i < liveness.heartbeats.size(); ++i) {
    Check c;
    c.name = "scheduler-" + std::to_string(i);
    const auto age = now - liveness.heartbeats[i];
    c.ok = age <= liveness.max_age;
    if (!c.ok) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "no progress for %.1fs",
                    std::chrono::duration<double>(age).count());
      c.detail = buf;
    }
    r.checks.push_back(c);
  }
  finish(r, exclude);
  return r;
}

std::string render_text(const Report& r, bool verbose) {
  if (!r.found) return "unknown target\n";
  if (r.ok && !verbose) return "ok";
  std::string out;
  for (const Check& c : r.checks) {
    if (c.ok) {
      out += "[+]" + c.name + " ok";
    } else {
      out += "[-]" + c.name + " failed: " + c.detail;
      if (!c.counted) out += " (not counted)";
    }
    out += '\n';
  }
  out += std::string(to_string(r.endpoint)) + (r.ok ? " check passed\n" : " check failed\n");
  return out;
}

std::string render_json(const Report& r, Clock::time_point now) {
  nlohmann::json body;
  body["status"] = r.ok ? "ok" : "failed";
  body["endpoint"] = to_string(r.endpoint);
  if (!r.found) body["error"] = "unknown target";
  body["checks"] = nlohmann::json::array();
  for (const Check& c : r.checks) {
    nlohmann::json j;
    j["name"] = c.name;
    if (!c.target.empty()) j["target"] = c.target;
    j["ok"] = c.ok;
    j["counted"] = c.counted;
    if (!c.ok) j["detail"] = c.detail;
    if (c.state != nullptr) {
      const telemetry::CheckState& s = *c.state;
      j["last_run"] = s.last_run_unix;
      j["duration_seconds"] = s.seconds;
      if (s.last_success_unix > 0) {
        j["last_success"] = s.last_success_unix;
        j["age_seconds"] = seconds_between(s.last_success, now);
      } else {
        j["last_success"] = nullptr;
      }
      if (!s.ok) {
        j["last_error"] = {{"reason", s.reason},
                           {"phase", s.phase},
                           {"sqlstate", s.sqlstate},
                           {"message", s.message}};
      }
    }
    body["checks"].push_back(std::move(j));
  }
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Check up_check(const telemetry::TargetState& t, Clock::time_point now) {
  return probe_check(t, std::string(config::up_probe().name), t.name, true, now);
}

}  // namespace pgv::http
