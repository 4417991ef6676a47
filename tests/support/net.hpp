#pragma once

#include <vector>

namespace pgv::testing {

// A loopback port that was free a moment ago.
int free_port();
// One IPv4 TCP socket as the kernel lists it in /proc/net/tcp: what a server holds,
// without the noise of its other descriptors.
struct TcpSocket {
  int local_port = 0;
  bool established = false;
  long send_queue = 0;     // bytes written, not yet acknowledged by the peer
  long receive_queue = 0;  // bytes received, not yet read (a listener: connections to accept)
};
std::vector<TcpSocket> tcp_sockets();

// Established TCP connections whose local end is `port` on 127.0.0.1 (a server's accepted
// sockets).
int established_on(int port);

// A TCP listener that completes handshakes (the kernel does) but never reads or answers:
// what a hung server or a black-holing proxy looks like to a client.
class SilentListener {
 public:
  SilentListener();
  ~SilentListener();
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
  SilentListener(SilentListener&&) = delete;
  SilentListener& operator=(SilentListener&&) = delete;
  int port() const noexcept { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// Counts this process's open file descriptors.
int open_fd_count();

}  // namespace pgv::testing
