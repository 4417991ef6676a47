#include "pg/connect.hpp"

#include <libpq-fe.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <map>
#include <vector>

#include "async/awaitables.hpp"
#include "dns/resolver.hpp"
#include "pg/error.hpp"
#include "pg/hostaddr.hpp"

namespace pgv::pg {
namespace {

// What look_up_hosts gave libpq, and the names behind it for libpq's messages.
struct Resolved {
  Options options;
  std::map<std::string, std::vector<std::string>> addresses;
};

// libpq gives every connection a 16 KiB input and a 16 KiB output buffer, of which a
// probe's short queries and answers write the first page or two. glibc keeps the pages of
// freed memory resident, and a connect frees many (SCRAM's PBKDF2, OpenSSL's setup), so
// the next connection's buffers landed on pages already written and counted whole in the
// RSS: 20.1 against 13.4 KiB a connection for a bare libpq client, and 77.5 against
// 59.8 MiB for the 1,000-target fleet bench (docs/BENCHMARKS.md, "Freed pages, quicker
// text, compression beside rendering"). Giving the free pages back first keeps the
// buffers' unwritten pages out of it. It takes about 45 us with a fleet's heap.
void release_free_pages() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

Error connect_error(const Connection& conn, const ConnectParams& params, const Resolved& resolved) {
  const ParsedMessage parsed = parse_verbose_message(
      name_addresses(conn ? PQerrorMessage(conn.raw()) : "out of memory", resolved.addresses));
  Error::Details details;
  details.phase = Phase::connect;
  details.sqlstate = parsed.sqlstate;
  details.reason = classify(parsed.sqlstate, parsed.text);
  return Error(std::move(details), conn.scrub(parsed.text.empty() ? params.redacted : parsed.text));
}

// Tracks which phase the handshake is in, from libpq's status after each poll.
class PhaseClock {
 public:
  explicit PhaseClock(ConnectTiming* out) : out_(out), start_(Clock::now()), mark_(start_) {}

  void observe(ConnStatusType status) {
    if (!out_) return;
    const Clock::time_point now = Clock::now();
    if (!tcp_done_ && status != CONNECTION_STARTED) {
      out_->tcp = seconds_between(mark_, now);
      tcp_done_ = true;
      mark_ = now;
    }
    const bool in_tls = status == CONNECTION_SSL_STARTUP || status == CONNECTION_GSS_STARTUP;
    if (in_tls && !tls_started_) {
      tls_started_ = true;
      mark_ = now;
    } else if (!in_tls && tls_started_ && !tls_done_) {
      out_->tls = seconds_between(mark_, now);
      tls_done_ = true;
      mark_ = now;
    }
  }

  void finish() {
    if (!out_) return;
    const Clock::time_point now = Clock::now();
    out_->auth = seconds_between(mark_, now);
    out_->total = out_->dns + seconds_between(start_, now);
  }

 private:
  ConnectTiming* out_;
  Clock::time_point start_;
  Clock::time_point mark_;
  bool tcp_done_ = false;
  bool tls_started_ = false;
  bool tls_done_ = false;
};

// The options with every host name libpq would look up replaced by its addresses.
async::Task<Resolved> look_up_hosts(const ConnectParams& params, Deadline deadline,
                                    ConnectTiming* timing) {
  const HostEnvironment env = HostEnvironment::current();
  Options startup = params.startup_options();
  const std::vector<std::string> names = names_to_look_up(startup, env);
  if (names.empty()) co_return Resolved{std::move(startup), {}};
  const Clock::time_point start = Clock::now();
  std::map<std::string, std::vector<std::string>> addresses;
  try {
    for (const std::string& name : names) {
      addresses[name] = co_await dns::resolve(name, deadline, dns::shared_cache());
    }
  } catch (const dns::LookupError& e) {
    Error::Details details;
    details.phase = Phase::dns;
    details.reason = Reason::dns;
    details.phase_seconds = seconds_between(start, Clock::now());
    if (timing) timing->dns = details.phase_seconds;
    throw Error(std::move(details), params.secrets ? params.secrets->scrub(e.what()) : e.what());
  }
  if (timing) timing->dns = seconds_between(start, Clock::now());
  Options options = with_addresses(startup, env, addresses);
  co_return Resolved{std::move(options), std::move(addresses)};
}

// PgBouncer's answer to a startup packet with `options` in it (SQLSTATE 08P01).
bool refused_startup_options(const Error& e) {
  return e.details().sqlstate == "08P01" &&
         std::string_view(e.what()).find("unsupported startup parameter") != std::string_view::npos;
}

async::Task<Connection> connect_once(const ConnectParams& params, Deadline deadline,
                                     ConnectTiming* timing) {
  const Resolved resolved = co_await look_up_hosts(params, deadline, timing);
  std::vector<const char*> keys;
  std::vector<const char*> values;
  for (const auto& [k, v] : resolved.options) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);

  release_free_pages();
  PhaseClock phases(timing);
  Connection conn(PQconnectStartParams(keys.data(), values.data(), 0), params.secrets);
  if (!conn || PQstatus(conn.raw()) == CONNECTION_BAD) throw connect_error(conn, params, resolved);
  // Verbose messages carry the SQLSTATE even for errors during start-up, where no
  // PGresult exists to ask.
  PQsetErrorVerbosity(conn.raw(), PQERRORS_VERBOSE);

  PostgresPollingStatusType poll = PGRES_POLLING_WRITING;
  while (poll != PGRES_POLLING_OK) {
    if (poll == PGRES_POLLING_FAILED) throw connect_error(conn, params, resolved);
    const auto interest =
        poll == PGRES_POLLING_READING ? async::Interest::read : async::Interest::write;
    const async::Outcome outcome = co_await async::wait_io(conn.socket(), interest, deadline);
    if (outcome == async::Outcome::cancelled) throw async::Cancelled();
    if (outcome == async::Outcome::timeout) {
      Error::Details details;
      details.phase = Phase::connect;
      details.reason = Reason::timeout;
      throw Error(std::move(details),
                  "connection to " + params.redacted + " timed out: no answer before the deadline");
    }
    poll = PQconnectPoll(conn.raw());
    phases.observe(PQstatus(conn.raw()));
  }
  phases.finish();
  if (PQsetnonblocking(conn.raw(), 1) != 0) throw connect_error(conn, params, resolved);
  co_return conn;
}

}  // namespace

async::Task<Connection> connect(const ConnectParams& params, Deadline deadline,
                                ConnectTiming* timing) {
  const bool sent_settings =
      !params.server_settings.empty() && !params.through_pooler->load(std::memory_order_relaxed);
  try {
    co_return co_await connect_once(params, deadline, timing);
  } catch (const Error& e) {
    if (!sent_settings || !refused_startup_options(e)) throw;
  }
  // A pooler nobody declared: from now on this target's sessions go without server
  // settings (every copy of the params shares the flag).
  params.through_pooler->store(true, std::memory_order_relaxed);
  co_return co_await connect_once(params, deadline, timing);
}

}  // namespace pgv::pg
