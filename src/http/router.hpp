#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/agent_config.hpp"
#include "http/health.hpp"
#include "http/request.hpp"
#include "http/response.hpp"
#include "http/roles.hpp"
#include "incidents/incident_log.hpp"
#include "telemetry/telemetry.hpp"

namespace pgv::http {

// Who may ask for a route. `health`: anyone, unless auth.protect_health (kubelet probes
// and load balancers carry no credentials); `protected_path`: only with credentials when
// auth is configured; `public_path`: anyone, always.
enum class AuthClass { health, protected_path, public_path };

// Maps a request to its answer through one table of routes (see kRoutes in router.cpp):
// a request is matched against it once, and a path that matches no row is 404. Reads only
// telemetry (the state snapshot, the registry, the failure ring); never a database, never
// blocks. Thread-safe.
class Router {
 public:
  // `incidents` (histories and incident records) may be null: those routes then answer 404.
  Router(telemetry::Telemetry& telemetry, config::AuthConfig auth,
         const incidents::IncidentLog* incidents = nullptr)
      : telemetry_(telemetry), auth_(std::move(auth)), incidents_(incidents) {}

  Response handle(const Request& request) const;
  // The answer when it takes no heavy work: every route but the heavy ones (a fleet's
  // /metrics, the status JSON), and /metrics when Metrics::quick() has it. Empty when
  // handle() must run, off the event loop; health and role answers are always here.
  std::optional<Response> handle_quick(const Request& request) const;

 private:
  // `segment` is the path segment a prefix route matched ("primary" in /healthz/primary),
  // empty for an exact route.
  using Handler = Response (Router::*)(const Request&, const std::string& segment) const;
  struct Route {
    std::string_view path;  // exact path, or a prefix ending in '/' when `segment`
    bool segment;           // prefix plus exactly one non-empty segment (not "." or "..")
    AuthClass auth;
    bool heavy;  // see handle_quick()
    Handler handler;
  };
  static const Route kRoutes[];
  static const Route* match(const std::string& path, std::string& segment);
  std::optional<Response> dispatch(const Request& request, bool quick) const;

  Response livez(const Request& request, const std::string& target) const;
  Response healthz(const Request& request, const std::string& target) const;
  Response readyz(const Request& request, const std::string& target) const;
  Response primary(const Request& request, const std::string& unused) const;
  Response replica(const Request& request, const std::string& unused) const;
  Response read_only(const Request& request, const std::string& unused) const;
  Response metrics(const Request& request, const std::string& unused) const;
  // /metrics from Metrics::quick(): the fresh shared rendering, or a cheap one.
  std::optional<Response> cached_metrics(const Request& request) const;
  Response failures(const Request& request, const std::string& unused) const;
  Response activity(const Request& request, const std::string& unused) const;
  // The status page and what it reads (status_routes.cpp).
  Response status_page(const Request& request, const std::string& unused) const;
  Response status(const Request& request, const std::string& unused) const;
  Response history(const Request& request, const std::string& unused) const;
  Response incident_list(const Request& request, const std::string& unused) const;
  Response incident(const Request& request, const std::string& id) const;
  Response asset(const Request& request, const std::string& name) const;

  Response health(const Request& request, Endpoint endpoint, const std::string& target) const;
  Response role(const Request& request, Role want) const;
  bool allowed(AuthClass auth, const Request& request) const;

  telemetry::Telemetry& telemetry_;
  const config::AuthConfig auth_;
  const incidents::IncidentLog* incidents_;
};

}  // namespace pgv::http
