#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "async/event_loop.hpp"
#include "config/agent_config.hpp"
#include "http/offload.hpp"
#include "http/router.hpp"
#include "http/stream.hpp"
#include "telemetry/telemetry.hpp"

namespace pgv::http {

// The agent's HTTP(S) server: event-loop threads, each with its own listening socket on
// the shared port (SO_REUSEPORT), each serving many connections as coroutines. Every
// wait has a deadline (the whole request head within read_timeout, the response within
// write_timeout, an idle keep-alive within keep_alive_timeout) and the number of
// connections is capped, the longest-waiting idle one (or, when none is idle, the one
// stuck longest writing to a client that does not read) making room for a new one, so
// idle sockets and slow clients cannot keep a health check waiting. Heavy answers (/metrics,
// the status page) are computed on a thread of their own, so neither can a fleet's
// rendering. It reads only telemetry.
class HttpServer {
 public:
  HttpServer(const config::AgentConfig& config, telemetry::Telemetry& telemetry,
             const incidents::IncidentLog* incidents = nullptr);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  HttpServer(HttpServer&&) = delete;
  HttpServer& operator=(HttpServer&&) = delete;

  // Binds and starts serving. Throws std::runtime_error naming the address when it cannot
  // listen, or the files when TLS cannot load them.
  void start();
  void stop();
  int port() const noexcept { return port_; }
  bool tls() const noexcept { return tls_ != nullptr; }

 private:
  struct Connection {
    async::Scope scope = 0;
    Clock::time_point waiting_since{};  // idle: since the last answer (or the accept)
    Clock::time_point busy_since{};     // busy: since its request head was complete
    bool busy = false;                  // between a complete request head and the end of its answer
  };
  struct Worker {
    async::EventLoop loop;
    std::thread thread;
    int listen_fd = -1;
    std::uint64_t next_id = 1;
    std::map<std::uint64_t, Connection> connections;  // loop thread only
  };

  async::Task<void> accept_loop(Worker& worker);
  void admit(Worker& worker, int fd);
  bool evict(Worker& worker);
  async::Task<void> serve(Worker& worker, std::uint64_t id, int fd);
  // Busy from a complete request head to the end of its answer; eviction spares busy ones.
  static void mark(Worker& worker, std::uint64_t id, bool busy);
  // The router's answer (`quick`: only if it takes no heavy work), or a 500 when a
  // handler throws.
  std::optional<Response> answer(const Request& request, bool quick) const;
  // The full answer computed on offload_, so the loop keeps serving health checks
  // meanwhile. Empty when the connection was dropped while it waited.
  async::Task<std::optional<Response>> answer_off_loop(const Request& request);

  const config::AgentConfig config_;
  const Router router_;
  std::unique_ptr<TlsContext> tls_;
  std::unique_ptr<Offload> offload_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::size_t per_worker_cap_ = 0;
  int port_ = 0;
};

}  // namespace pgv::http
