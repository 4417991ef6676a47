#include "app/sd_notify.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>

namespace pgv::app {
namespace {

std::optional<long long> env_number(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  char* end = nullptr;
  const long long n = std::strtoll(v, &end, 10);
  if (*end != '\0' || n <= 0) return std::nullopt;
  return n;
}

}  // namespace

SystemdNotifier::SystemdNotifier() {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr) return;
  const std::size_t len = std::strlen(path);
  // A path, or '@' for a name in the abstract namespace (a leading NUL on the wire).
  if (len < 2 || len >= sizeof addr_.sun_path || (path[0] != '/' && path[0] != '@')) return;
  addr_.sun_family = AF_UNIX;
  std::memcpy(addr_.sun_path, path, len);
  if (path[0] == '@') addr_.sun_path[0] = '\0';
  addr_len_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;

  // WATCHDOG_PID names the process the watchdog is meant for; a child that inherited the
  // environment must not ping on its parent's behalf.
  const auto usec = env_number("WATCHDOG_USEC");
  const auto pid = env_number("WATCHDOG_PID");
  if (usec && (!pid || *pid == ::getpid())) {
    watchdog_every_ =
        std::chrono::duration_cast<Clock::duration>(std::chrono::microseconds(*usec / 4));
  }
}

SystemdNotifier::~SystemdNotifier() {
  if (fd_ >= 0) ::close(fd_);
}

bool SystemdNotifier::notify(std::string_view message) const {
  if (fd_ < 0) return false;
  const ssize_t sent = ::sendto(fd_, message.data(), message.size(), MSG_NOSIGNAL,
                                reinterpret_cast<const sockaddr*>(&addr_), addr_len_);
  return sent == static_cast<ssize_t>(message.size());
}

}  // namespace pgv::app
