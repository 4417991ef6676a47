#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <optional>
#include <string_view>

#include "async/clock.hpp"

namespace pgv::app {

// systemd's readiness and watchdog protocol (sd_notify(3)): one datagram per message to
// the AF_UNIX socket named by $NOTIFY_SOCKET. Written here rather than linking libsystemd:
// the protocol is a stable, documented interface that systemd invites programs to speak
// directly, and libsystemd would add a build dependency and five shared libraries
// (gcrypt, lz4, lzma, zstd, cap) to a process whose size is measured. Without
// NOTIFY_SOCKET every call does nothing.
class SystemdNotifier {
 public:
  // Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID from the environment.
  SystemdNotifier();
  ~SystemdNotifier();
  SystemdNotifier(const SystemdNotifier&) = delete;
  SystemdNotifier& operator=(const SystemdNotifier&) = delete;
  SystemdNotifier(SystemdNotifier&&) = delete;
  SystemdNotifier& operator=(SystemdNotifier&&) = delete;

  bool enabled() const noexcept { return fd_ >= 0; }
  // Sends `message` ("READY=1", "WATCHDOG=1", ...); false if it could not be sent.
  bool notify(std::string_view message) const;
  // How often to ping: a quarter of WATCHDOG_USEC, when systemd set a watchdog for this
  // process; a ping missed by a busy moment then still leaves three before the deadline.
  std::optional<Clock::duration> watchdog_every() const noexcept { return watchdog_every_; }

 private:
  int fd_ = -1;
  sockaddr_un addr_{};
  socklen_t addr_len_ = 0;
  std::optional<Clock::duration> watchdog_every_;
};

}  // namespace pgv::app
