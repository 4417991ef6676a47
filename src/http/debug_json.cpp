#include "http/debug_json.hpp"

#include <nlohmann/json.hpp>

#include "http/pooler_json.hpp"
#include "http/replication_json.hpp"
#include "telemetry/application_metrics.hpp"

namespace pgv::http {

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
    // Only a target reached through a pooler has a hop.
    if (!r.hop.empty()) {
      body["failures"].back()["hop"] = r.hop;
      body["failures"].back()["hop_detail"] = r.hop_detail;
    }
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

nlohmann::json applications_to_json(const probes::ActivityDigest& a,
                                    const std::vector<config::ApplicationBudget>& budgets) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& row : telemetry::ApplicationMetrics::rows(a, budgets)) {
    nlohmann::json j = {{"application", row.application},
                        {"sessions", row.sessions},
                        {"waiting", row.waiting},
                        {"oldest_idle_in_transaction_seconds",
                         row.oldest_idle_in_transaction_seconds
                             ? nlohmann::json(*row.oldest_idle_in_transaction_seconds)
                             : nlohmann::json(nullptr)}};
    if (!row.owner.empty()) j["owner"] = row.owner;
    if (!row.user.empty()) j["user"] = row.user;
    if (row.budget > 0) {
      j["budget"] = row.budget;
      j["ratio"] = static_cast<double>(row.sessions) / row.budget;
    }
    out.push_back(std::move(j));
  }
  return out;
}

std::string activity_json(const telemetry::Snapshot& snapshot, const std::string& target) {
  nlohmann::json targets = nlohmann::json::array();
  for (const auto& [name, t] : snapshot) {
    if (!target.empty() && name != target) continue;
    nlohmann::json j = {{"target", name}};
    if (t->activity) {
      j["time"] = t->activity_unix;
      j["activity"] = activity_to_json(*t->activity);
      // Declared applications against their budgets, then the undeclared as "other".
      j["applications"] = applications_to_json(*t->activity, t->applications);
    } else {
      j["activity"] = nullptr;
    }
    // The replication digest (wraparound ages and the database they belong to, standbys,
    // slots) of this cycle, or null.
    j["replication"] = t->replication ? replication_to_json(*t->replication) : nlohmann::json();
    // A PgBouncer target's pools of this cycle.
    if (t->kind == config::TargetKind::pgbouncer) {
      j["pooler"] = t->pooler ? pooler_to_json(*t->pooler) : nlohmann::json();
    }
    targets.push_back(std::move(j));
  }
  return nlohmann::json{{"targets", targets}}.dump(2, ' ', false,
                                                   nlohmann::json::error_handler_t::replace) +
         "\n";
}

}  // namespace pgv::http
