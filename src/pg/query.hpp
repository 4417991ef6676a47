#pragma once

#include <string>

#include "async/task.hpp"
#include "pg/connection.hpp"
#include "pg/error.hpp"
#include "pg/result.hpp"

namespace pgv::pg {

// Sends `sql` and waits for its result without blocking the thread. When `deadline`
// passes the server is asked to cancel the query, the connection is marked broken and
// Error{reason=timeout} is thrown. SQL errors throw Error with the SQLSTATE; `phase`
// only labels the error. Returns the last result of a multi-statement string.
async::Task<Result> exec(Connection& conn, std::string sql, Deadline deadline,
                         Phase phase = Phase::query);

// Sends `sql` without waiting; complete it later with finish(). False when the send
// failed (the connection is then unusable).
bool send(Connection& conn, const std::string& sql);
async::Task<Result> finish(Connection& conn, Deadline deadline, Phase phase = Phase::query);

}  // namespace pgv::pg
