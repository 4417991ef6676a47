#include "http/debug_json.hpp"

#include <nlohmann/json.hpp>

#include "http/pooler_json.hpp"
#include "http/replication_json.hpp"
#include "telemetry/application_metrics.hpp"
#include "telemetry/digest_json.hpp"

namespace pgv::http {

std::string failures_json(const std::vector<telemetry::FailureRecord>& records,
                          std::size_t capacity, std::uint64_t total) {
  nlohmann::json body;
  body["capacity"] = capacity;
  body["total"] = total;
  body["failures"] = nlohmann::json::array();
  for (const auto& r : records) body["failures"].push_back(telemetry::failure_to_json(r));
  // Replace, not throw: a server message in another encoding must not break the page.
  return body.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
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
      j["activity"] = telemetry::activity_to_json(*t->activity);
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
