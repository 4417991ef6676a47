#pragma once

#include <memory>
#include <string>
#include <thread>

#include "config/agent_config.hpp"
#include "telemetry/telemetry.hpp"

namespace httplib {
class Server;
}

namespace pgv::http {

// The agent's HTTP(S) server. It only ever reads telemetry (the latest state snapshot,
// the metric registry, the failure ring), never a database, so it answers in
// microseconds however the databases behave.
class HttpServer {
 public:
  HttpServer(const config::AgentConfig& config, telemetry::Telemetry& telemetry);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  HttpServer(HttpServer&&) = delete;
  HttpServer& operator=(HttpServer&&) = delete;

  // Binds and starts serving on a thread of its own. Throws std::runtime_error naming the
  // address when it cannot listen, or the files when TLS cannot load them.
  void start();
  void stop();
  int port() const noexcept { return port_; }
  bool tls() const noexcept { return tls_; }

 private:
  void install_routes();

  config::AgentConfig config_;
  telemetry::Telemetry& telemetry_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  bool tls_ = false;
};

}  // namespace pgv::http
