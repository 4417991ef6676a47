#include "telemetry/digest_json.hpp"

namespace pgv::telemetry {
namespace {

nlohmann::json optional(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

std::optional<double> optional_from(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return it->get<double>();
}

}  // namespace

const nlohmann::json& list_at(const nlohmann::json& j, const char* key) {
  static const nlohmann::json empty = nlohmann::json::array();
  const auto it = j.find(key);
  return it == j.end() || !it->is_array() ? empty : *it;
}

const nlohmann::json& map_at(const nlohmann::json& j, const char* key) {
  static const nlohmann::json empty = nlohmann::json::object();
  const auto it = j.find(key);
  return it == j.end() || !it->is_object() ? empty : *it;
}

nlohmann::json activity_to_json(const probes::ActivityDigest& a) {
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

probes::ActivityDigest activity_from_json(const nlohmann::json& j) {
  probes::ActivityDigest a;
  a.client_backends = j.value("client_backends", 0);
  a.max_connections = j.value("max_connections", 0);
  a.reserved_connections = j.value("reserved_connections", 0);
  a.by_state = j.value("by_state", std::map<std::string, int>{});
  for (const auto& app : list_at(j, "top_applications")) {
    a.top_applications.emplace_back(app.value("application", ""), app.value("sessions", 0));
  }
  a.other_application_sessions = j.value("other_application_sessions", 0);
  a.distinct_applications = j.value("distinct_applications", 0);
  a.waiting_by_event_type = j.value("waiting_by_event_type", std::map<std::string, int>{});
  a.oldest_transaction_seconds = optional_from(j, "oldest_transaction_seconds");
  a.oldest_idle_in_transaction_seconds = optional_from(j, "oldest_idle_in_transaction_seconds");
  a.longest_query_seconds = optional_from(j, "longest_query_seconds");
  a.longest_lock_wait_seconds = optional_from(j, "longest_lock_wait_seconds");
  for (const auto& b : list_at(j, "blocked")) {
    a.blocked.push_back({b.value("pid", 0), b.value("blocked_by", std::vector<int>{})});
  }
  for (const auto& s : list_at(j, "oldest_transactions")) {
    a.oldest_transactions.push_back({s.value("pid", 0), s.value("application", ""),
                                     s.value("user", ""), s.value("state", ""),
                                     s.value("transaction_seconds", 0.0), s.value("query", "")});
  }
  a.privileged = j.value("privileged", true);
  return a;
}

nlohmann::json failure_to_json(const FailureRecord& r) {
  nlohmann::json phases = nlohmann::json::object();
  for (const auto& [name, secs] : r.phases) phases[name] = secs;
  nlohmann::json j = {{"time", r.time_unix},
                      {"target", r.target},
                      {"probe", r.probe},
                      {"phase", r.phase},
                      {"reason", r.reason},
                      {"sqlstate", r.sqlstate},
                      {"backend_pid", r.backend_pid},
                      {"duration_seconds", r.seconds},
                      {"phases", phases},
                      {"message", r.message}};
  // Only a target reached through a pooler has a hop.
  if (!r.hop.empty()) {
    j["hop"] = r.hop;
    j["hop_detail"] = r.hop_detail;
  }
  return j;
}

FailureRecord failure_from_json(const nlohmann::json& j) {
  FailureRecord r;
  r.time_unix = j.value("time", 0.0);
  r.target = j.value("target", "");
  r.probe = j.value("probe", "");
  r.phase = j.value("phase", "");
  r.reason = j.value("reason", "");
  r.sqlstate = j.value("sqlstate", "");
  r.message = j.value("message", "");
  r.backend_pid = j.value("backend_pid", 0);
  r.seconds = j.value("duration_seconds", 0.0);
  // Phases keep the order they ran in; a JSON object is read back in name order.
  for (const auto& [name, secs] : map_at(j, "phases").items()) {
    r.phases.emplace_back(name, secs.get<double>());
  }
  r.hop = j.value("hop", "");
  r.hop_detail = j.value("hop_detail", "");
  return r;
}

}  // namespace pgv::telemetry
