#include "net.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>

namespace pgv::testing {
namespace {

int bound_loopback_socket(int* port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int err = errno;
    ::close(fd);
    throw std::system_error(err, std::generic_category(), "bind 127.0.0.1:0");
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

}  // namespace

int free_port() {
  int port = 0;
  ::close(bound_loopback_socket(&port));
  return port;
}

SilentListener::SilentListener() {
  fd_ = bound_loopback_socket(&port_);
  ::listen(fd_, 64);
}

SilentListener::~SilentListener() {
  ::close(fd_);
}

int open_fd_count() {
  int count = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') ++count;
    }
    ::closedir(d);
    --count;  // the directory stream itself
  }
  return count;
}

std::vector<TcpSocket> tcp_sockets() {
  std::vector<TcpSocket> out;
  std::ifstream tcp("/proc/net/tcp");
  std::string line;
  std::getline(tcp, line);  // header
  while (std::getline(tcp, line)) {
    std::istringstream in(line);
    std::string slot, local, remote, state, queues;  // queues: tx_queue:rx_queue, hex
    if (!(in >> slot >> local >> remote >> state >> queues)) continue;
    const auto colon = local.rfind(':');
    const auto sep = queues.find(':');
    if (colon == std::string::npos || sep == std::string::npos) continue;
    TcpSocket s;
    s.local_port = std::stoi(local.substr(colon + 1), nullptr, 16);
    s.established = state == "01";
    s.send_queue = std::stol(queues.substr(0, sep), nullptr, 16);
    s.receive_queue = std::stol(queues.substr(sep + 1), nullptr, 16);
    out.push_back(s);
  }
  return out;
}

int established_on(int port) {
  int count = 0;
  for (const TcpSocket& s : tcp_sockets()) count += s.local_port == port && s.established;
  return count;
}

}  // namespace pgv::testing
