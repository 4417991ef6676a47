#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "async/clock.hpp"
#include "async/task.hpp"
#include "dns/cache.hpp"

namespace pgv::dns {

// A name that did not resolve: the server said so (NXDOMAIN, SERVFAIL, no address), or no
// answer came before the deadline (`timed_out`). The message reads like libpq's own
// ("could not translate host name ...") so logs and traces stay familiar.
class LookupError : public std::runtime_error {
 public:
  LookupError(const std::string& message, bool timed_out)
      : std::runtime_error(message), timed_out_(timed_out) {}
  bool timed_out() const noexcept { return timed_out_; }

 private:
  bool timed_out_;
};

// Looks `name` up (addresses of both families, /etc/hosts first, then the servers of
// /etc/resolv.conf, as the C library would) with c-ares on the calling coroutine's event
// loop: its sockets are waited on like any other, so a slow or silent DNS server only
// parks this coroutine, and `deadline` ends the wait (LookupError with timed_out). Answers
// come from `cache` while their TTL lasts and are stored there. Text addresses, in the
// order to try them.
async::Task<std::vector<std::string>> resolve(std::string name, Deadline deadline, Cache& cache);

// The process-wide cache the connection code uses.
Cache& shared_cache();

}  // namespace pgv::dns
