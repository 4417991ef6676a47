#include "http/router.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include "config/error.hpp"
#include "http/auth.hpp"
#include "http/debug_json.hpp"
#include "http/encoding.hpp"
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

}  // namespace

// Every route the agent serves; a new endpoint is one row.
const Router::Route Router::kRoutes[] = {
    {"/livez", false, AuthClass::health, false, &Router::livez},
    {"/healthz", false, AuthClass::health, false, &Router::healthz},
    {"/healthz/", true, AuthClass::health, false, &Router::healthz},
    {"/readyz", false, AuthClass::health, false, &Router::readyz},
    {"/readyz/", true, AuthClass::health, false, &Router::readyz},
    {"/primary", false, AuthClass::health, false, &Router::primary},
    {"/replica", false, AuthClass::health, false, &Router::replica},
    {"/read-only", false, AuthClass::health, false, &Router::read_only},
    {"/metrics", false, AuthClass::protected_path, true, &Router::metrics},
    {"/debug/failures", false, AuthClass::protected_path, true, &Router::failures},
    {"/debug/activity", false, AuthClass::protected_path, true, &Router::activity},
    {"/debug/status", false, AuthClass::protected_path, true, &Router::status},
    {"/debug/history", false, AuthClass::protected_path, true, &Router::history},
    {"/debug/incidents", false, AuthClass::protected_path, true, &Router::incident_list},
    {"/debug/incidents/", true, AuthClass::protected_path, true, &Router::incident},
    {"/assets/", true, AuthClass::protected_path, false, &Router::asset},
    {"/", false, AuthClass::protected_path, true, &Router::status_page},
};

const Router::Route* Router::match(const std::string& path, std::string& segment) {
  for (const Route& route : kRoutes) {
    if (!route.segment) {
      if (path == route.path) return &route;
      continue;
    }
    if (!path.starts_with(route.path)) continue;
    const std::string_view rest = std::string_view(path).substr(route.path.size());
    if (rest.empty() || rest == "." || rest == ".." || rest.find('/') != std::string_view::npos) {
      continue;
    }
    segment = std::string(rest);
    return &route;
  }
  return nullptr;
}

bool Router::allowed(AuthClass auth, const Request& req) const {
  switch (auth) {
    case AuthClass::public_path:
      return true;
    case AuthClass::health:
      return !auth_.protect_health || authorized(auth_, req.header("authorization"));
    case AuthClass::protected_path:
      return authorized(auth_, req.header("authorization"));
  }
  return false;
}

Response Router::handle(const Request& req) const {
  return *dispatch(req, false);
}

std::optional<Response> Router::handle_quick(const Request& req) const {
  return dispatch(req, true);
}

std::optional<Response> Router::dispatch(const Request& req, bool quick) const {
  if (req.method != "GET" && req.method != "HEAD") {
    Response r = text(405, "only GET and HEAD are served\n");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  std::string segment;
  const Route* route = match(req.path, segment);
  if (route == nullptr) return text(404, "not found\n");
  if (!allowed(route->auth, req)) {
    Response r = text(401, "unauthorized\n");
    if (!auth_.basic_user.empty()) {
      r.headers.emplace_back("WWW-Authenticate", R"(Basic realm="pgvitals")");
    }
    if (!auth_.bearer_token.empty()) {
      r.headers.emplace_back("WWW-Authenticate", R"(Bearer realm="pgvitals")");
    }
    return r;
  }
  std::optional<Response> answer;
  if (!quick || !route->heavy) {
    answer = (this->*(route->handler))(req, segment);
  } else if (route->handler == &Router::metrics) {
    answer = cached_metrics(req);
  }
  if (!answer) return std::nullopt;
  // Answers are live state; only a handler that says otherwise (an asset) may be cached.
  const bool cache_set = std::any_of(answer->headers.begin(), answer->headers.end(),
                                     [](const auto& h) { return h.first == "Cache-Control"; });
  if (!cache_set) answer->headers.emplace_back("Cache-Control", "no-store");
  return answer;
}

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

Response Router::livez(const Request& req, const std::string& /*target*/) const {
  return health(req, Endpoint::livez, "");
}

Response Router::healthz(const Request& req, const std::string& target) const {
  return health(req, Endpoint::healthz, target);
}

Response Router::readyz(const Request& req, const std::string& target) const {
  return health(req, Endpoint::readyz, target);
}

Response Router::role(const Request& req, Role want) const {
  RoleQuery query;
  query.want = want;
  if (want == Role::replica) {
    // Patroni's parameters; a value we cannot honour is a 400, never a silent default.
    if (req.has_param("lag")) {
      try {
        query.lag = config::parse_lag_limit("lag", req.param("lag"));
      } catch (const config::ConfigError& e) {
        return text(400, std::string(e.what()) + "\n");
      }
    }
    if (req.has_param("replication_state")) {
      if (req.param("replication_state") != "streaming") {
        return text(400, "replication_state: only streaming is supported\n");
      }
      query.require_streaming = true;
    }
  }
  const RoleAnswer a =
      evaluate_role(*telemetry_.state.snapshot(), req.param("target"), query, Clock::now());
  return text(a.status, a.body);
}

Response Router::primary(const Request& req, const std::string& /*unused*/) const {
  return role(req, Role::primary);
}

Response Router::replica(const Request& req, const std::string& /*unused*/) const {
  return role(req, Role::replica);
}

Response Router::read_only(const Request& req, const std::string& /*unused*/) const {
  return role(req, Role::read_only);
}

namespace {

// Prometheus always asks for gzip: a fleet's megabytes of text shrink tenfold, and are
// compressed as they are rendered; other clients keep plain text.
telemetry::Metrics::Encoding encoding_for(const Request& req) {
  return accepts_gzip(req.header("accept-encoding")) ? telemetry::Metrics::Encoding::gzip
                                                     : telemetry::Metrics::Encoding::identity;
}

Response metrics_answer(telemetry::Metrics::Encoding encoding, bool inflate,
                        std::shared_ptr<const std::string> body) {
  Response r;
  r.content_type = kMetricsType;
  r.shared_body = std::move(body);
  r.inflate = inflate;
  if (encoding == telemetry::Metrics::Encoding::gzip) {
    r.headers.emplace_back("Content-Encoding", "gzip");
  }
  r.headers.emplace_back("Vary", "Accept-Encoding");
  return r;
}

// A fleet's text goes to a plain client from the gzip rendering, inflated as it is sent:
// building 15 MiB of text for it would take the agent that much over its steady size, and
// the rendering is shared with Prometheus' scrapes.
bool from_gzip(const telemetry::Metrics& metrics, telemetry::Metrics::Encoding wanted) {
  return wanted == telemetry::Metrics::Encoding::identity && metrics.large();
}

}  // namespace

Response Router::metrics(const Request& req, const std::string& /*unused*/) const {
  const auto encoding = encoding_for(req);
  const bool inflate = from_gzip(telemetry_.metrics, encoding);
  return metrics_answer(
      encoding, inflate,
      telemetry_.metrics.exposition(inflate ? telemetry::Metrics::Encoding::gzip : encoding));
}

std::optional<Response> Router::cached_metrics(const Request& req) const {
  const auto encoding = encoding_for(req);
  const bool inflate = from_gzip(telemetry_.metrics, encoding);
  auto body = telemetry_.metrics.quick(inflate ? telemetry::Metrics::Encoding::gzip : encoding);
  if (!body) return std::nullopt;
  return metrics_answer(encoding, inflate, std::move(body));
}

Response Router::failures(const Request& req, const std::string& /*unused*/) const {
  std::size_t limit = telemetry_.failures.capacity();
  if (req.has_param("limit")) {
    const std::string v = req.param("limit");
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), limit);
    if (ec != std::errc() || end != v.data() + v.size()) {
      return text(400, "limit must be a non-negative integer\n");
    }
  }
  Response r;
  r.content_type = kJson;
  r.body = failures_json(telemetry_.failures.recent(req.param("target"), limit),
                         telemetry_.failures.capacity(), telemetry_.failures.total());
  return r;
}

Response Router::activity(const Request& req, const std::string& /*unused*/) const {
  const auto snapshot = telemetry_.state.snapshot();
  const std::string t = req.param("target");
  if (!t.empty() && !snapshot->contains(t)) return text(404, "unknown target\n");
  Response r;
  r.content_type = kJson;
  r.body = activity_json(*snapshot, t);
  return r;
}

}  // namespace pgv::http
