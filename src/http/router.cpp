#include "http/router.hpp"

#include <charconv>
#include <set>

#include "http/auth.hpp"
#include "http/debug_json.hpp"
#include "http/health.hpp"

namespace pgv::http {
namespace {

constexpr const char* kMetricsType = "text/plain; version=0.0.4; charset=utf-8";

Response text(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

bool wants_json(const Request& req) {
  if (req.has_param("format")) return req.param("format") == "json";
  return req.header("accept").find("application/json") != std::string::npos;
}

std::set<std::string> excludes(const Request& req) {
  const auto v = req.params("exclude");
  return {v.begin(), v.end()};
}

// "/healthz/primary" -> "primary" for prefix "/healthz/"; empty when it does not match.
bool match_target(const std::string& path, std::string_view prefix, std::string& target) {
  if (!path.starts_with(prefix) || path.size() == prefix.size()) return false;
  target = path.substr(prefix.size());
  return target.find('/') == std::string::npos;
}

}  // namespace

Response Router::health(const Request& req, Endpoint endpoint, const std::string& target) const {
  const Clock::time_point now = Clock::now();
  const Report report =
      endpoint == Endpoint::livez
          ? evaluate_liveness(telemetry_.state.liveness(), excludes(req), now)
          : evaluate(*telemetry_.state.snapshot(), endpoint, target, excludes(req), now);
  Response r;
  r.status = !report.found ? 404 : (report.ok ? 200 : 503);
  if (wants_json(req)) {
    r.content_type = kJson;
    r.body = render_json(report, now);
  } else {
    r.body = render_text(report, req.has_param("verbose"));
  }
  return r;
}

Response Router::handle(const Request& req) const {
  if (req.method != "GET" && req.method != "HEAD") {
    Response r = text(405, "only GET and HEAD are served\n");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  const std::string& path = req.path;
  const bool is_health = path == "/livez" || path == "/healthz" || path == "/readyz" ||
                         path.starts_with("/healthz/") || path.starts_with("/readyz/") ||
                         path == "/primary" || path == "/replica";
  const bool known = is_health || path == "/metrics" || path == "/debug/failures" ||
                     path == "/debug/activity" || path == "/";
  if (!known) return text(404, "not found\n");
  if ((!is_health || auth_.protect_health) && !authorized(auth_, req.header("authorization"))) {
    Response r = text(401, "unauthorized\n");
    if (!auth_.basic_user.empty()) {
      r.headers.emplace_back("WWW-Authenticate", R"(Basic realm="pgvitals")");
    }
    if (!auth_.bearer_token.empty()) {
      r.headers.emplace_back("WWW-Authenticate", R"(Bearer realm="pgvitals")");
    }
    return r;
  }

  Response r;
  std::string target;
  if (path == "/livez") {
    r = health(req, Endpoint::livez, "");
  } else if (path == "/healthz" || match_target(path, "/healthz/", target)) {
    r = health(req, Endpoint::healthz, target);
  } else if (path == "/readyz" || match_target(path, "/readyz/", target)) {
    r = health(req, Endpoint::readyz, target);
  } else if (path == "/primary" || path == "/replica") {
    const RoleAnswer a = evaluate_role(*telemetry_.state.snapshot(), req.param("target"),
                                       path == "/primary", Clock::now());
    r = text(a.status, a.body);
  } else if (path == "/metrics") {
    r.content_type = kMetricsType;
    r.shared_body = telemetry_.metrics.exposition();
  } else if (path == "/debug/failures") {
    std::size_t limit = telemetry_.failures.capacity();
    if (req.has_param("limit")) {
      const std::string v = req.param("limit");
      const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), limit);
      if (ec != std::errc() || end != v.data() + v.size()) {
        return text(400, "limit must be a non-negative integer\n");
      }
    }
    r.content_type = kJson;
    r.body = failures_json(telemetry_.failures.recent(req.param("target"), limit),
                           telemetry_.failures.capacity(), telemetry_.failures.total());
  } else if (path == "/debug/activity") {
    const auto snapshot = telemetry_.state.snapshot();
    const std::string t = req.param("target");
    if (!t.empty() && !snapshot->contains(t)) return text(404, "unknown target\n");
    r.content_type = kJson;
    r.body = activity_json(*snapshot, t);
  } else {
    r.content_type = "text/html; charset=utf-8";
    r.body = landing_html(*telemetry_.state.snapshot(), Clock::now());
  }
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace pgv::http
