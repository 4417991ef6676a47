#include "http/status_json.hpp"

#include <nlohmann/json.hpp>

#include "incidents/record_json.hpp"
#include "telemetry/digest_json.hpp"
#include "version.hpp"

namespace pgv::http {
namespace {

nlohmann::json optional(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

// What the card shows of the activity digest; the whole of it is /debug/activity's.
void add_activity(nlohmann::json& j, const telemetry::TargetState& t) {
  if (!t.activity) {
    j["activity"] = nullptr;
    return;
  }
  const probes::ActivityDigest& a = *t.activity;
  const nlohmann::json full = telemetry::activity_to_json(a);
  j["activity"] = {
      {"time", t.activity_unix},
      {"client_backends", a.client_backends},
      {"max_connections", a.max_connections},
      {"oldest_transaction_seconds", full["oldest_transaction_seconds"]},
      {"oldest_idle_in_transaction_seconds", full["oldest_idle_in_transaction_seconds"]},
      {"oldest_transactions", full["oldest_transactions"]},
      {"blocked", full["blocked"]}};
}

}  // namespace

std::string status_json(const std::vector<TargetStatus>& targets,
                        const std::vector<incidents::IncidentSummary>& incidents,
                        const std::vector<telemetry::FailureRecord>& failures,
                        std::size_t failures_per_target, double now_unix) {
  std::map<std::string, nlohmann::json> recent;
  for (const auto& f : failures) {
    nlohmann::json& list = recent[f.target];
    if (list.size() < failures_per_target) list.push_back(telemetry::failure_to_json(f));
  }
  nlohmann::json out_targets = nlohmann::json::array();
  std::size_t up = 0;
  std::size_t down = 0;
  for (const TargetStatus& s : targets) {
    up += s.state == "up" ? 1 : 0;
    down += s.state == "down" ? 1 : 0;
    nlohmann::json j = {
        {"name", s.name},
        {"state", s.state},
        {"detail", s.detail},
        {"role", s.role},
        {"required", s.required},
        {"latency", optional(s.latency)},
        {"saturation", optional(s.saturation)},
        {"pool",
         {{"in_use", s.pool.in_use},
          {"idle", s.pool.idle},
          {"max", s.pool.max},
          {"waiting", s.pool.waiting}}},
        {"incident", s.incident.empty() ? nlohmann::json() : nlohmann::json(s.incident)}};
    if (s.target != nullptr) add_activity(j, *s.target);
    const auto it = recent.find(s.name);
    j["failures"] = it == recent.end() ? nlohmann::json::array() : it->second;
    out_targets.push_back(std::move(j));
  }
  nlohmann::json open = nlohmann::json::array();
  nlohmann::json closed = nlohmann::json::array();
  for (const auto& i : incidents) (i.closed_unix == 0 ? open : closed).push_back(to_json(i));
  const nlohmann::json body = {
      {"version", kVersion},
      {"time", now_unix},
      {"counts", {{"targets", targets.size()}, {"up", up}, {"down", down}}},
      {"targets", std::move(out_targets)},
      {"incidents", {{"open", std::move(open)}, {"recent", std::move(closed)}}}};
  return incidents::dump(body) + "\n";
}

std::string histories_json(
    const std::map<std::string, std::shared_ptr<const incidents::TargetHistory>>& histories) {
  nlohmann::json targets = nlohmann::json::object();
  for (const auto& [name, h] : histories) {
    nlohmann::json latency = nlohmann::json::array();
    nlohmann::json up = nlohmann::json::array();
    for (const incidents::Sample& s : h->samples) {
      latency.push_back(s.latency >= 0 ? nlohmann::json(s.latency) : nlohmann::json());
      up.push_back(s.up ? 1 : 0);
    }
    targets[name] = {
        {"sample_every", h->sample_every},
        {"last", h->samples.empty() ? nlohmann::json() : nlohmann::json(h->samples.back().t)},
        {"latency", std::move(latency)},
        {"up", std::move(up)}};
  }
  return incidents::dump({{"targets", std::move(targets)}}) + "\n";
}

std::string incident_list_json(const std::vector<incidents::IncidentSummary>& incidents,
                               const std::string& target) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& i : incidents) {
    if (target.empty() || i.target == target) list.push_back(to_json(i));
  }
  return incidents::dump({{"incidents", std::move(list)}}) + "\n";
}

}  // namespace pgv::http
