#include "http/debug_json.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "config/probe_catalog.hpp"
#include "version.hpp"

namespace pgv::http {
namespace {

std::string escape_html(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::string failures_json(const std::vector<telemetry::FailureRecord>& records,
                          std::size_t capacity, std::uint64_t total) {
  nlohmann::json body;
  body["capacity"] = capacity;
  body["total"] = total;
  body["failures"] = nlohmann::json::array();
  for (const auto& r : records) {
    nlohmann::json phases = nlohmann::json::object();
    for (const auto& [name, secs] : r.phases) phases[name] = secs;
    body["failures"].push_back({{"time", r.time_unix},
                                {"target", r.target},
                                {"probe", r.probe},
                                {"phase", r.phase},
                                {"reason", r.reason},
                                {"sqlstate", r.sqlstate},
                                {"backend_pid", r.backend_pid},
                                {"duration_seconds", r.seconds},
                                {"phases", phases},
                                {"message", r.message}});
  }
  // Replace, not throw: a server message in another encoding must not break the page.
  return body.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

nlohmann::json activity_to_json(const probes::ActivityDigest& a) {
  auto optional = [](const std::optional<double>& v) -> nlohmann::json {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
  };
  nlohmann::json apps = nlohmann::json::array();
  for (const auto& [app, n] : a.top_applications)
    apps.push_back({{"application", app}, {"sessions", n}});
  nlohmann::json blocked = nlohmann::json::array();
  for (const auto& b : a.blocked) blocked.push_back({{"pid", b.pid}, {"blocked_by", b.blocked_by}});
  nlohmann::json oldest = nlohmann::json::array();
  for (const auto& s : a.oldest_transactions) {
    nlohmann::json j = {{"pid", s.pid},
                        {"application", s.application},
                        {"user", s.user},
                        {"state", s.state},
                        {"transaction_seconds", s.transaction_seconds}};
    if (!s.query.empty()) j["query"] = s.query;  // only collected when expose_query_text is on
    oldest.push_back(std::move(j));
  }
  return {{"client_backends", a.client_backends},
          {"max_connections", a.max_connections},
          {"reserved_connections", a.reserved_connections},
          {"saturation", a.saturation()},
          {"by_state", a.by_state},
          {"top_applications", apps},
          {"other_application_sessions", a.other_application_sessions},
          {"distinct_applications", a.distinct_applications},
          {"waiting_by_event_type", a.waiting_by_event_type},
          {"oldest_transaction_seconds", optional(a.oldest_transaction_seconds)},
          {"oldest_idle_in_transaction_seconds", optional(a.oldest_idle_in_transaction_seconds)},
          {"longest_query_seconds", optional(a.longest_query_seconds)},
          {"longest_lock_wait_seconds", optional(a.longest_lock_wait_seconds)},
          {"blocked", blocked},
          {"oldest_transactions", oldest},
          {"privileged", a.privileged}};
}

std::string activity_json(const telemetry::Snapshot& snapshot, const std::string& target) {
  nlohmann::json targets = nlohmann::json::array();
  for (const auto& [name, t] : snapshot) {
    if (!target.empty() && name != target) continue;
    nlohmann::json j = {{"target", name}};
    if (t->activity) {
      j["time"] = t->activity_unix;
      j["activity"] = activity_to_json(*t->activity);
    } else {
      j["activity"] = nullptr;
    }
    targets.push_back(std::move(j));
  }
  return nlohmann::json{{"targets", targets}}.dump(2, ' ', false,
                                                   nlohmann::json::error_handler_t::replace) +
         "\n";
}

std::string landing_html(const telemetry::Snapshot& snapshot, Clock::time_point now) {
  std::string rows;
  for (const auto& [name, t] : snapshot) {
    std::string state = "no result yet";
    std::string latency = "-";
    const std::string up(config::up_probe().name);
    auto it = t->checks.find(up);
    if (it != t->checks.end() && it->second.ran) {
      const auto& c = it->second;
      if (c.ok && t->fresh(up, c, now)) {
        state = "up";
      } else if (c.ok) {
        state = "stale";
      } else {
        state = "down (" + c.reason + ")";
      }
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.2f ms", c.seconds * 1e3);
      latency = buf;
    }
    const std::string role = !t->in_recovery ? "?" : (*t->in_recovery ? "replica" : "primary");
    rows += "<tr><td><a href=\"/healthz/" + escape_html(name) + "?verbose\">" + escape_html(name) +
            "</a></td><td>" + escape_html(state) + "</td><td>" + latency + "</td><td>" + role +
            "</td><td>" + std::to_string(t->pool.in_use) + "/" + std::to_string(t->pool.max) +
            "</td><td>" + (t->required ? "yes" : "no") + "</td></tr>\n";
  }
  return std::string(
             "<!doctype html><html><head><meta charset=\"utf-8\"><title>pgvitals</title>"
             "<style>body{font-family:sans-serif;margin:2em}td,th{padding:.2em .8em;"
             "text-align:left}</style></head><body><h1>pgvitals ") +
         kVersion +
         "</h1><p><a href=\"/healthz?verbose\">/healthz</a> · <a href=\"/readyz?verbose\">/readyz"
         "</a> · <a href=\"/livez?verbose\">/livez</a> · <a href=\"/metrics\">/metrics</a> · "
         "<a href=\"/debug/failures\">/debug/failures</a> · <a "
         "href=\"/debug/activity\">/debug/activity</a></p><table><tr><th>target</th>"
         "<th>state</th><th>last probe</th><th>role</th><th>pool in use</th><th>required</th>"
         "</tr>\n" +
         rows + "</table></body></html>\n";
}

}  // namespace pgv::http
