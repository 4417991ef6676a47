#pragma once

#include "pg/connection.hpp"

namespace pgv::pg {

// Asks the server to cancel what `conn` is running, without waiting for the answer.
// libpq 15's PQcancel blocks until the server closes the cancel socket, and a frozen
// server never does, so each request runs on a short-lived thread of its own; at most
// kMaxCancelsInFlight exist, beyond that the session's statement_timeout is the backstop.
// Returns whether a request was dispatched.
inline constexpr int kMaxCancelsInFlight = 8;
bool cancel_in_background(const Connection& conn);
int cancels_in_flight() noexcept;

}  // namespace pgv::pg
