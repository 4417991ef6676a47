#include "pg/query.hpp"

#include <libpq-fe.h>

#include "async/awaitables.hpp"
#include "pg/cancel.hpp"

namespace pgv::pg {
namespace {

Error make_error(const Connection& conn, Phase phase, std::string_view libpq_message,
                 std::string sqlstate = {}) {
  const ParsedMessage parsed = parse_verbose_message(libpq_message);
  Error::Details details;
  details.phase = phase;
  details.sqlstate = sqlstate.empty() ? parsed.sqlstate : std::move(sqlstate);
  details.reason = classify(details.sqlstate, parsed.text);
  details.connection_usable = conn.usable();
  details.backend_pid = conn.backend_pid();
  return Error(std::move(details), conn.scrub(parsed.text.empty() ? "unknown error" : parsed.text));
}

Error connection_error(Connection& conn, Phase phase) {
  conn.mark_broken();
  return make_error(conn, phase, PQerrorMessage(conn.raw()));
}

Error result_error(const Connection& conn, Phase phase, const Result& r) {
  const char* state = PQresultErrorField(r.raw(), PG_DIAG_SQLSTATE);
  return make_error(conn, phase, PQresultErrorMessage(r.raw()), state ? state : "");
}

Error timeout_error(Connection& conn, Phase phase) {
  // The session is mid-query: ask the server to stop it, and never reuse the session.
  cancel_in_background(conn);
  conn.mark_broken();
  Error::Details details;
  details.phase = phase;
  details.reason = Reason::timeout;
  details.backend_pid = conn.backend_pid();
  return Error(std::move(details), "no answer from the server before the deadline");
}

// Waits once; converts an expired deadline or a cancellation into the matching exception.
async::Task<void> wait(Connection& conn, async::Interest interest, Deadline deadline, Phase phase) {
  const async::Outcome outcome = co_await async::wait_io(conn.socket(), interest, deadline);
  if (outcome == async::Outcome::cancelled) {
    conn.mark_broken();
    throw async::Cancelled();
  }
  if (outcome == async::Outcome::timeout) throw timeout_error(conn, phase);
}

}  // namespace

bool send(Connection& conn, const std::string& sql) {
  if (!conn || PQsendQuery(conn.raw(), sql.c_str()) == 0) {
    conn.mark_broken();
    return false;
  }
  return true;
}

async::Task<Result> finish(Connection& conn, Deadline deadline, Phase phase) {
  // Push the query out; with a full socket buffer libpq needs the socket writable.
  for (;;) {
    const int flushed = PQflush(conn.raw());
    if (flushed == 0) break;
    if (flushed < 0) throw connection_error(conn, phase);
    co_await wait(conn, async::Interest::read_write, deadline, phase);
    if (PQconsumeInput(conn.raw()) == 0) throw connection_error(conn, phase);
  }

  Result last;
  Result first_error;
  for (;;) {
    while (PQisBusy(conn.raw()) != 0) {
      co_await wait(conn, async::Interest::read, deadline, phase);
      if (PQconsumeInput(conn.raw()) == 0) throw connection_error(conn, phase);
    }
    Result r(PQgetResult(conn.raw()));
    if (!r) break;
    const ExecStatusType status = PQresultStatus(r.raw());
    if (status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE) {
      if (!first_error) first_error = std::move(r);
    } else {
      last = std::move(r);
    }
  }
  if (first_error) throw result_error(conn, phase, first_error);
  if (!conn.usable()) throw connection_error(conn, phase);
  co_return last;
}

async::Task<Result> exec(Connection& conn, std::string sql, Deadline deadline, Phase phase) {
  if (!send(conn, sql)) throw connection_error(conn, phase);
  co_return co_await finish(conn, deadline, phase);
}

}  // namespace pgv::pg
