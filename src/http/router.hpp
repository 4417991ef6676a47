#pragma once

#include "config/agent_config.hpp"
#include "http/health.hpp"
#include "http/request.hpp"
#include "http/response.hpp"
#include "telemetry/telemetry.hpp"

namespace pgv::http {

// Maps a request to its answer. Reads only telemetry (the state snapshot, the registry,
// the failure ring); never a database, never blocks. Thread-safe.
class Router {
 public:
  Router(telemetry::Telemetry& telemetry, config::AuthConfig auth)
      : telemetry_(telemetry), auth_(std::move(auth)) {}

  Response handle(const Request& request) const;

 private:
  Response health(const Request& request, Endpoint endpoint, const std::string& target) const;

  telemetry::Telemetry& telemetry_;
  const config::AuthConfig auth_;
};

}  // namespace pgv::http
