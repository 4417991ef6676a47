#include "http/server.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "async/awaitables.hpp"
#include "http/exchange.hpp"
#include "log/log.hpp"

namespace pgv::http {
namespace {

constexpr int kMaxRequestsPerConnection = 1000;
constexpr int kListenBacklog = 65535;
// Heavy answers waiting for the offload thread, beyond which a request is refused with a
// 503: scrapes arriving during a rendering share its result through the render cache, so
// a queue this long is a flood, not a fleet.
constexpr std::size_t kMaxQueuedHeavy = 64;
// The longest a heavy answer is waited for; past any scrape timeout, so it only bounds a
// rendering that has gone wrong.
constexpr auto kHeavyDeadline = std::chrono::seconds(60);

Response unavailable(std::string body) {
  Response r;
  r.status = 503;
  r.body = std::move(body);
  r.headers.emplace_back("Retry-After", "1");
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

int open_listener(const std::string& host, int port, int* bound_port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (::getaddrinfo(host.c_str(), service.c_str(), &hints, &found) != 0 || found == nullptr) {
    throw std::runtime_error("listen: cannot resolve '" + host + "'");
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(found, ::freeaddrinfo);
  const int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // One listening socket per event loop on the same port; the kernel spreads connections.
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  // The deepest accept queue the kernel allows (it caps the value at net.core.somaxconn): a
  // flood of connections that overflows the queue has the kernel drop SYNs, and a health
  // probe's dropped SYN is retried only after a 1 s retransmission timeout.
  if (fd < 0 || ::bind(fd, found->ai_addr, found->ai_addrlen) != 0 ||
      ::listen(fd, kListenBacklog) != 0) {
    const std::string why = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("listen: cannot bind " + host + ":" + service + ": " + why);
  }
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *bound_port = addr.ss_family == AF_INET6
                    ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                    : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return fd;
}

}  // namespace

HttpServer::HttpServer(const config::AgentConfig& config, telemetry::Telemetry& telemetry,
                       const incidents::IncidentLog* incidents)
    : config_(config), router_(telemetry, config.auth, incidents) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::start() {
  if (!config_.tls.cert_file.empty()) {
    tls_ = std::make_unique<TlsContext>(config_.tls.cert_file, config_.tls.key_file);
  }
  const int threads = std::max(1, config_.http.threads);
  // Connections must fit in the descriptor limit with room left for the databases: raise
  // the soft limit as far as allowed, and cap connections at half of it.
  int cap = config_.http.max_connections;
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0) {
    if (files.rlim_cur < files.rlim_max) {
      files.rlim_cur = files.rlim_max;
      ::setrlimit(RLIMIT_NOFILE, &files);
      ::getrlimit(RLIMIT_NOFILE, &files);
    }
    const auto half = static_cast<long long>(files.rlim_cur / 2);
    if (half < cap) {
      logging::log(logging::LogLevel::warn,
                   "http.max_connections lowered to half the open-file limit",
                   {{"configured", cap},
                    {"open_file_limit", static_cast<long long>(files.rlim_cur)},
                    {"used", half}});
      cap = static_cast<int>(half);
    }
  }
  per_worker_cap_ = static_cast<std::size_t>(std::max(1, (cap + threads - 1) / threads));
  offload_ = std::make_unique<Offload>(kMaxQueuedHeavy);
  int port = config_.listen.port;
  for (int i = 0; i < threads; ++i) {
    auto worker = std::make_unique<Worker>();
    worker->listen_fd = open_listener(config_.listen.host, port, &port_);
    port = port_;  // an ephemeral port is chosen once, then shared
    workers_.push_back(std::move(worker));
  }
  for (auto& w : workers_) {
    Worker* worker = w.get();
    worker->loop.spawn(accept_loop(*worker), 0);
    worker->thread = std::thread([worker] { worker->loop.run(); });
  }
  logging::log(logging::LogLevel::info, "http listening",
               {{"address", config_.listen.host + ":" + std::to_string(port_)},
                {"tls", tls_ != nullptr},
                {"threads", threads},
                {"max_connections", config_.http.max_connections}});
}

void HttpServer::stop() {
  for (auto& w : workers_) w->loop.stop();
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
    if (w->listen_fd >= 0) ::close(w->listen_fd);
    w->listen_fd = -1;
  }
  workers_.clear();
  // After the loops: no connection waits for a job any more, and the running one (which
  // reads telemetry, owned by the caller) ends before this returns.
  if (offload_) offload_->stop();
  offload_.reset();
}

async::Task<void> HttpServer::accept_loop(Worker& worker) {
  for (;;) {
    const async::Outcome outcome = co_await async::wait_io(worker.listen_fd, async::Interest::read,
                                                           Clock::now() + std::chrono::hours(1));
    if (outcome == async::Outcome::cancelled) co_return;
    bool out_of_descriptors = false;
    for (;;) {
      const int fd = ::accept4(worker.listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0) {
        admit(worker, fd);
        continue;
      }
      out_of_descriptors = errno == EMFILE || errno == ENFILE;
      break;
    }
    if (out_of_descriptors) {
      // The listening socket stays readable: free a descriptor by dropping the longest-
      // waiting idle connection, and pause instead of spinning on accept.
      evict(worker);
      const async::Outcome pause =
          co_await async::sleep_until(Clock::now() + std::chrono::milliseconds(10));
      if (pause == async::Outcome::cancelled) co_return;
    }
  }
}

bool HttpServer::evict(Worker& worker) {
  // First the connection that has waited longest without sending a complete request: an
  // idle or dribbling client. When every one is busy, the one busy longest (since its
  // request head, or since its heavy answer was ready): one that lasts is a client that
  // does not read (pipelining /metrics into a closed window) or a scrape queued behind a
  // rendering, and without this such clients would hold every slot until write_timeout
  // and turn away each health probe.
  auto idle = worker.connections.end();
  auto busy = worker.connections.end();
  for (auto it = worker.connections.begin(); it != worker.connections.end(); ++it) {
    const Connection& c = it->second;
    if (!c.busy) {
      if (idle == worker.connections.end() || c.waiting_since < idle->second.waiting_since) {
        idle = it;
      }
    } else if (busy == worker.connections.end() || c.busy_since < busy->second.busy_since) {
      busy = it;
    }
  }
  const auto victim = idle != worker.connections.end() ? idle : busy;
  if (victim == worker.connections.end()) return false;
  worker.loop.cancel_scope(victim->second.scope);
  worker.connections.erase(victim);
  return true;
}

void HttpServer::admit(Worker& worker, int fd) {
  if (worker.connections.size() >= per_worker_cap_ && !evict(worker)) {
    ::close(fd);
    return;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const std::uint64_t id = worker.next_id++;
  Connection c;
  c.scope = async::new_scope();
  c.waiting_since = Clock::now();
  worker.connections.emplace(id, c);
  const async::Scope scope = c.scope;
  worker.loop.spawn(serve(worker, id, fd), scope, [&worker, id, scope](std::exception_ptr) {
    worker.connections.erase(id);
    worker.loop.release_scope(scope);
  });
}

void HttpServer::mark(Worker& worker, std::uint64_t id, bool busy) {
  auto it = worker.connections.find(id);
  if (it == worker.connections.end()) return;
  it->second.busy = busy;
  (busy ? it->second.busy_since : it->second.waiting_since) = Clock::now();
}

std::optional<Response> HttpServer::answer(const Request& request, bool quick) const {
  try {
    if (quick) return router_.handle_quick(request);
    return router_.handle(request);
  } catch (const std::exception& e) {
    logging::log(logging::LogLevel::error, "http handler failed",
                 {{"path", request.path}, {"error", e.what()}});
    Response response;
    response.status = 500;
    response.body = "internal error\n";
    return response;
  }
}

async::Task<std::optional<Response>> HttpServer::answer_off_loop(const Request& request) {
  const std::shared_ptr<OffloadJob> job =
      offload_->submit([this, request] { return *answer(request, false); });
  if (!job) co_return unavailable("busy: too many answers waiting to be rendered\n");
  const async::Outcome outcome =
      co_await async::wait_io(job->fd(), async::Interest::read, Clock::now() + kHeavyDeadline);
  if (outcome == async::Outcome::ready && job->done()) co_return job->take();
  job->abandon();
  if (outcome == async::Outcome::cancelled) co_return std::nullopt;
  co_return unavailable("rendering took too long\n");
}

async::Task<void> HttpServer::serve(Worker& worker, std::uint64_t id, int fd) {
  const config::HttpLimits& limits = config_.http;
  try {
    Stream stream(fd, tls_.get());
    co_await stream.handshake(Clock::now() + limits.read_timeout);
    std::string buffer;
    for (int served = 0; served < kMaxRequestsPerConnection; ++served) {
      // The first request must come within read_timeout; later ones may idle for the
      // keep-alive timeout first. Either way the whole head has one deadline.
      const Deadline deadline =
          Clock::now() + (served == 0 ? limits.read_timeout : limits.keep_alive_timeout);
      Request request;
      const ParseResult parsed =
          co_await read_head(stream, buffer, limits.max_request_bytes, deadline, request);
      if (parsed.status == ParseStatus::incomplete) co_return;  // closed between requests
      mark(worker, id, true);
      const std::optional<Response> refused = refusal(parsed, request, limits);
      if (refused) {
        co_await send(stream, *refused, false, false, Clock::now() + limits.write_timeout);
        co_return;
      }
      buffer.erase(0, parsed.consumed);
      const bool whole = co_await drop_body(stream, buffer, request.content_length, deadline);
      if (!whole) co_return;

      std::optional<Response> answered = answer(request, true);
      if (!answered) {
        answered = co_await answer_off_loop(request);
        if (!answered) co_return;
        mark(worker, id, true);  // from here on, busy writing (see evict)
      }
      const Response& response = *answered;
      // From when the answer is ready: write_timeout bounds a client that does not read, and
      // a long rendering (a fleet's /metrics on a loaded machine took 7 s) must not use it up.
      const Deadline write_deadline = Clock::now() + limits.write_timeout;
      const bool keep_alive = request.keep_alive && served + 1 < kMaxRequestsPerConnection;
      co_await send(stream, response, keep_alive, request.method == "HEAD", write_deadline);
      if (!keep_alive) co_return;
      mark(worker, id, false);
      // A client that pipelines requests and reads fast never makes a read or write wait,
      // so without this it would keep the loop to itself while health checks queue.
      const async::Outcome turn = co_await async::sleep_until(Clock::now());
      if (turn == async::Outcome::cancelled) co_return;
    }
  } catch (const StreamError&) {
    // A slow, vanished or broken peer: dropping it is the whole answer.
  }
}

}  // namespace pgv::http
