// The routes of the status page (/, /assets/<name>) and of what it reads: /debug/status,
// /debug/history and /debug/incidents[/<id>]. Each answer carries the page headers (CSP,
// nosniff, no referrer); only assets may be cached.
#include <nlohmann/json.hpp>

#include "http/assets.hpp"
#include "http/router.hpp"
#include "http/status_json.hpp"
#include "http/status_page.hpp"
#include "incidents/record_json.hpp"

namespace pgv::http {
namespace {

// Open incidents are all shown; of the closed ones, the latest few.
constexpr std::size_t kRecentIncidents = 10;
constexpr std::size_t kFailuresPerTarget = 3;

Response json(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = kJson;
  r.body = std::move(body);
  add_page_headers(r);
  return r;
}

Response json_error(int status, const std::string& message) {
  return json(status, incidents::dump({{"error", message}}) + "\n");
}

}  // namespace

Response Router::status_page(const Request& req, const std::string& /*unused*/) const {
  const auto snapshot = telemetry_.state.snapshot();
  const auto incidents = incident_summaries(incidents_, kRecentIncidents);
  const StatusFilter filter{req.param("state"), req.param("q")};
  Response r;
  r.content_type = "text/html; charset=utf-8";
  r.body = status_html(target_statuses(*snapshot, incidents, Clock::now()), incidents, filter,
                       telemetry::unix_now());
  add_page_headers(r);
  return r;
}

Response Router::status(const Request& /*req*/, const std::string& /*unused*/) const {
  const auto snapshot = telemetry_.state.snapshot();
  const auto incidents = incident_summaries(incidents_, kRecentIncidents);
  return json(200, status_json(target_statuses(*snapshot, incidents, Clock::now()), incidents,
                               telemetry_.failures.recent("", telemetry_.failures.capacity()),
                               kFailuresPerTarget, telemetry::unix_now()));
}

Response Router::history(const Request& req, const std::string& /*unused*/) const {
  if (incidents_ == nullptr) return json_error(404, "no history is kept");
  if (!req.has_param("target")) return json(200, histories_json(incidents_->histories()));
  const auto h = incidents_->history(req.param("target"));
  if (!h) return json_error(404, "unknown target");
  return json(200, incidents::dump(incidents::to_json(*h)) + "\n");
}

Response Router::incident_list(const Request& req, const std::string& /*unused*/) const {
  if (incidents_ == nullptr) return json_error(404, "no incidents are kept");
  std::vector<incidents::IncidentSummary> all;
  for (const auto& r : incidents_->list()) all.push_back(summary_of(*r));
  return json(200, incident_list_json(all, req.param("target")));
}

Response Router::incident(const Request& /*req*/, const std::string& id) const {
  if (incidents_ == nullptr) return json_error(404, "no incidents are kept");
  const auto record = incidents_->find(id);
  if (!record) return json_error(404, "unknown incident");
  return json(200, incidents::dump(incidents::to_json(*record)) + "\n");
}

Response Router::asset(const Request& /*req*/, const std::string& name) const {
  const Asset* a = served_asset(name);
  if (a == nullptr) return json_error(404, "unknown asset");
  Response r;
  r.content_type = std::string(a->content_type);
  r.body = std::string(a->bytes);
  add_page_headers(r);
  // The page asks for /assets/<name>?v=<hash of the content>: a changed file has a new URL.
  r.headers.emplace_back("Cache-Control", "private, max-age=86400");
  r.headers.emplace_back("ETag", "\"" + std::string(a->hash) + "\"");
  return r;
}

}  // namespace pgv::http
