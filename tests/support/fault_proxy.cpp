#include "fault_proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <deque>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace pgv::testing {
namespace {

using Clock = std::chrono::steady_clock;

struct Chunk {
  Clock::time_point due;
  std::string bytes;
};

struct Pipe {
  int client = -1;
  int server = -1;
  std::deque<Chunk> to_client;  // held back by the delay
  bool closed = false;
};

void close_with_reset(int fd) {
  linger l{1, 0};  // linger 0: close sends RST instead of FIN
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

int connect_upstream(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool forward(int from, int to) {
  char buf[16384];
  const ssize_t n = ::recv(from, buf, sizeof buf, MSG_DONTWAIT);
  if (n <= 0) return false;
  ssize_t sent = 0;
  while (sent < n) {
    const ssize_t w = ::send(to, buf + sent, static_cast<size_t>(n - sent), MSG_NOSIGNAL);
    if (w <= 0) return false;
    sent += w;
  }
  return true;
}

}  // namespace

FaultProxy::FaultProxy(int upstream_port) : upstream_port_(upstream_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 128) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("fault proxy: cannot listen");
  }
  port_ = ntohs(addr.sin_port);
  if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("pipe2");
  thread_ = std::thread([this] { run(); });
}

FaultProxy::~FaultProxy() {
  stop_ = true;
  [[maybe_unused]] auto n = ::write(wake_[1], "x", 1);
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

void FaultProxy::set(Mode mode, std::chrono::milliseconds delay) {
  delay_ms_ = delay.count();
  mode_ = mode;
  [[maybe_unused]] auto n = ::write(wake_[1], "x", 1);
}

void FaultProxy::run() {
  std::vector<std::unique_ptr<Pipe>> pipes;
  while (!stop_) {
    const Mode mode = mode_.load();
    if (mode == Mode::reset) {
      for (auto& p : pipes) {
        close_with_reset(p->client);
        ::close(p->server);
        ++resets_;
      }
      pipes.clear();
    }
    std::vector<pollfd> fds = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    int timeout_ms = 100;
    const auto now = Clock::now();
    for (auto& p : pipes) {
      const bool flowing = mode != Mode::blackhole;
      fds.push_back({p->client, static_cast<short>(flowing ? POLLIN : 0), 0});
      fds.push_back({p->server, static_cast<short>(flowing ? POLLIN : 0), 0});
      if (!p->to_client.empty()) {
        const auto wait =
            std::chrono::duration_cast<std::chrono::milliseconds>(p->to_client.front().due - now)
                .count();
        timeout_ms = std::min<int>(timeout_ms, static_cast<int>(std::max<long>(0, wait)));
      }
    }
    ::poll(fds.data(), fds.size(), timeout_ms);
    // Pipes accepted below have no entry in fds yet; they are polled from the next turn.
    const std::size_t polled = pipes.size();
    if (fds[1].revents & POLLIN) {
      char drain[64];
      while (::read(wake_[0], drain, sizeof drain) > 0) {
      }
    }
    if (fds[0].revents & POLLIN) {
      const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client >= 0) {
        ++accepted_;
        if (mode_ == Mode::reset) {
          close_with_reset(client);
          ++resets_;
        } else {
          const int server = connect_upstream(upstream_port_);
          if (server < 0) {
            close_with_reset(client);
          } else {
            auto p = std::make_unique<Pipe>();
            p->client = client;
            p->server = server;
            pipes.push_back(std::move(p));
          }
        }
      }
    }
    const auto t = Clock::now();
    const auto hold = std::chrono::milliseconds(mode_ == Mode::delay ? delay_ms_.load() : 0);
    for (std::size_t i = 0; i < polled; ++i) {
      Pipe& p = *pipes[i];
      const short crev = fds[2 + 2 * i].revents;
      const short srev = fds[3 + 2 * i].revents;
      if (crev & (POLLIN | POLLHUP | POLLERR)) {
        if (!forward(p.client, p.server)) p.closed = true;
      }
      if (srev & (POLLIN | POLLHUP | POLLERR)) {
        char buf[16384];
        const ssize_t n = ::recv(p.server, buf, sizeof buf, MSG_DONTWAIT);
        if (n <= 0) {
          p.closed = p.to_client.empty();
          if (!p.closed) ::shutdown(p.server, SHUT_RD);
        } else {
          p.to_client.push_back({t + hold, std::string(buf, static_cast<size_t>(n))});
        }
      }
      while (!p.to_client.empty() && p.to_client.front().due <= Clock::now()) {
        const std::string& b = p.to_client.front().bytes;
        if (::send(p.client, b.data(), b.size(), MSG_NOSIGNAL) < 0) p.closed = true;
        p.to_client.pop_front();
      }
    }
    for (auto it = pipes.begin(); it != pipes.end();) {
      if ((*it)->closed) {
        ::close((*it)->client);
        ::close((*it)->server);
        it = pipes.erase(it);
      } else {
        ++it;
      }
    }
    open_ = static_cast<int>(pipes.size());
  }
  for (auto& p : pipes) {
    ::close(p->client);
    ::close(p->server);
  }
}

}  // namespace pgv::testing
