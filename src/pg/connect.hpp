#pragma once

#include "async/task.hpp"
#include "pg/connection.hpp"
#include "pg/conninfo.hpp"

namespace pgv::pg {

// Where the time of a new connection went: TCP handshake, TLS negotiation, and the
// rest (authentication and backend start-up). Seconds; zero for a phase not reached.
struct ConnectTiming {
  double tcp = 0;
  double tls = 0;
  double auth = 0;
  double total = 0;
};

// Opens a connection without blocking the thread (PQconnectStartParams + PQconnectPoll),
// failing with Error{phase=connect, reason=timeout} when `deadline` passes first.
// `params` must outlive the awaited task.
async::Task<Connection> connect(const ConnectParams& params, Deadline deadline,
                                ConnectTiming* timing = nullptr);

}  // namespace pgv::pg
