#include "dns/resolver.hpp"

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <mutex>
#include <system_error>

#include "async/awaitables.hpp"

namespace pgv::dns {
namespace {

std::string failure(const std::string& name, const std::string& why) {
  return "could not translate host name \"" + name + "\" to address: " + why;
}

// What one ares_getaddrinfo left behind; it outlives the channel that fills it.
struct Answer {
  bool done = false;
  int status = ARES_SUCCESS;
  std::vector<std::string> addresses;
  int ttl = INT_MAX;
};

void on_answer(void* arg, int status, int /*timeouts*/, ares_addrinfo* result) {
  auto* answer = static_cast<Answer*>(arg);
  answer->done = true;
  answer->status = status;
  if (result == nullptr) return;
  for (const ares_addrinfo_node* node = result->nodes; node != nullptr; node = node->ai_next) {
    std::array<char, INET6_ADDRSTRLEN> text{};
    const void* addr = nullptr;
    if (node->ai_family == AF_INET) {
      addr = &reinterpret_cast<const sockaddr_in*>(node->ai_addr)->sin_addr;
    } else if (node->ai_family == AF_INET6) {
      addr = &reinterpret_cast<const sockaddr_in6*>(node->ai_addr)->sin6_addr;
    }
    if (addr == nullptr || inet_ntop(node->ai_family, addr, text.data(), text.size()) == nullptr) {
      continue;
    }
    std::string a(text.data());
    if (std::find(answer->addresses.begin(), answer->addresses.end(), a) ==
        answer->addresses.end()) {
      answer->addresses.push_back(std::move(a));
    }
    answer->ttl = std::min(answer->ttl, node->ai_ttl);
  }
  ares_freeaddrinfo(result);
}

// A private epoll set holding c-ares' sockets: the event loop waits on this one
// descriptor, whatever sockets (UDP per server, TCP on truncation) the lookup opens.
class SocketSet {
 public:
  SocketSet() : fd_(epoll_create1(EPOLL_CLOEXEC)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  }
  ~SocketSet() { ::close(fd_); }
  SocketSet(const SocketSet&) = delete;
  SocketSet& operator=(const SocketSet&) = delete;
  SocketSet(SocketSet&&) = delete;
  SocketSet& operator=(SocketSet&&) = delete;

  int fd() const noexcept { return fd_; }

  static void on_socket_state(void* data, ares_socket_t sock, int readable, int writable) {
    const int epfd = static_cast<SocketSet*>(data)->fd_;
    if (!readable && !writable) {
      epoll_ctl(epfd, EPOLL_CTL_DEL, sock, nullptr);
      return;
    }
    epoll_event ev{};
    ev.events = (readable ? EPOLLIN : 0U) | (writable ? EPOLLOUT : 0U);
    ev.data.fd = sock;
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, sock, &ev) != 0) epoll_ctl(epfd, EPOLL_CTL_ADD, sock, &ev);
  }

 private:
  int fd_;
};

class Channel {
 public:
  explicit Channel(SocketSet& sockets) {
    static std::once_flag library;
    std::call_once(library, [] { ares_library_init(ARES_LIB_INIT_ALL); });
    ares_options options{};
    options.sock_state_cb = &SocketSet::on_socket_state;
    options.sock_state_cb_data = &sockets;
    // A fresh channel per lookup reads /etc/resolv.conf each time, so a changed
    // resolver configuration is followed without a restart.
    const int status = ares_init_options(&channel_, &options, ARES_OPT_SOCK_STATE_CB);
    if (status != ARES_SUCCESS) {
      throw LookupError(std::string("c-ares: ") + ares_strerror(status), false);
    }
  }
  // Ends a lookup still under way (its callback sees ARES_EDESTRUCTION).
  ~Channel() { ares_destroy(channel_); }
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  Channel(Channel&&) = delete;
  Channel& operator=(Channel&&) = delete;

  ares_channel raw() const noexcept { return channel_; }

  // When c-ares next needs to run for its own retries, at the latest `limit`.
  Deadline next_wake(Deadline limit) const {
    timeval tv{};
    if (ares_timeout(channel_, nullptr, &tv) == nullptr) return limit;
    const Deadline wake =
        Clock::now() + std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
    return std::min(limit, wake);
  }

  void process(const SocketSet& sockets) {
    std::array<epoll_event, 16> events{};
    const int n = epoll_wait(sockets.fd(), events.data(), static_cast<int>(events.size()), 0);
    for (int i = 0; i < n; ++i) {
      const epoll_event& ev = events[static_cast<std::size_t>(i)];
      const bool read = (ev.events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0;
      const bool write = (ev.events & EPOLLOUT) != 0;
      ares_process_fd(channel_, read ? ev.data.fd : ARES_SOCKET_BAD,
                      write ? ev.data.fd : ARES_SOCKET_BAD);
    }
    ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // retries that are due
  }

 private:
  ares_channel channel_ = nullptr;
};

}  // namespace

Cache& shared_cache() {
  static Cache cache;
  return cache;
}

async::Task<std::vector<std::string>> resolve(std::string name, Deadline deadline, Cache& cache) {
  if (auto hit = cache.get(name, Clock::now())) co_return std::move(*hit);
  // Declared in this order so the channel goes first: destroying it calls back into
  // `answer` and closes sockets registered in `sockets`.
  Answer answer;
  SocketSet sockets;
  Channel channel(sockets);
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  ares_getaddrinfo(channel.raw(), name.c_str(), nullptr, &hints, &on_answer, &answer);
  while (!answer.done) {
    const async::Outcome outcome =
        co_await async::wait_io(sockets.fd(), async::Interest::read, channel.next_wake(deadline));
    if (outcome == async::Outcome::cancelled) throw async::Cancelled();
    channel.process(sockets);
    if (!answer.done && Clock::now() >= deadline) {
      throw LookupError(failure(name, "no answer from DNS before the deadline"), true);
    }
  }
  if (answer.status != ARES_SUCCESS)
    throw LookupError(failure(name, ares_strerror(answer.status)), false);
  if (answer.addresses.empty()) throw LookupError(failure(name, "no address"), false);
  cache.put(name, answer.addresses, answer.ttl, Clock::now());
  co_return std::move(answer.addresses);
}

}  // namespace pgv::dns
