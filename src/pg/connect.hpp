#pragma once

#include "async/task.hpp"
#include "pg/connection.hpp"
#include "pg/conninfo.hpp"

namespace pgv::pg {

// Where the time of a new connection went: name lookup, TCP handshake, TLS negotiation,
// and the rest (authentication and backend start-up). Seconds; zero for a phase not reached
// (dns: no name to look up, or the answer was cached).
struct ConnectTiming {
  double dns = 0;
  double tcp = 0;
  double tls = 0;
  double auth = 0;
  double total = 0;
};

// Opens a connection without blocking the thread (PQconnectStartParams + PQconnectPoll),
// failing with Error{phase=connect, reason=timeout} when `deadline` passes first. Host
// names are looked up first with c-ares under the same deadline (libpq's getaddrinfo
// would block the thread) and handed to libpq as hostaddr; a lookup that fails or outlives
// the deadline is Error{phase=dns, reason=dns}.
// `params` must outlive the awaited task.
async::Task<Connection> connect(const ConnectParams& params, Deadline deadline,
                                ConnectTiming* timing = nullptr);

}  // namespace pgv::pg
