#include "pool/pool.hpp"

#include <string>

#include "async/blocking.hpp"
#include "pg/connect.hpp"
#include "pg/query.hpp"

namespace pgv::pool {

struct LeaseAccess {
  static Lease holding_slot(std::shared_ptr<detail::Core> core) { return Lease(std::move(core)); }
  static std::optional<detail::Pooled>& item(Lease& lease) { return lease.item_; }
};

namespace {

using detail::Core;
using detail::Grant;
using detail::Pooled;
using detail::Waiter;

struct Taken {
  Grant grant;
  std::optional<async::Outcome> expired;  // set when the wait for a slot ended without one
};

// Takes a slot from the books, parking the coroutine in the pool's queue when none is
// free and `may_wait`. Resumed by whoever returns a slot, or by the deadline timer.
class TakeOrWait {
 public:
  TakeOrWait(std::shared_ptr<Core> core, Deadline until, bool may_wait)
      : core_(std::move(core)), until_(until), may_wait_(may_wait) {}

  bool await_ready() const noexcept { return false; }

  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    const async::Context ctx = h.promise().context;
    if (may_wait_) {
      waiter_ = std::make_shared<Waiter>();
      waiter_->executor = ctx.executor;
      waiter_->handle = h;
    }
    taken_.grant = core_->take(waiter_);
    if (taken_.grant.kind != Grant::Kind::wait || !waiter_) return false;
    // Runs on this thread after we return, so a grant posted meanwhile still finds the
    // timer id set before it forgets it.
    waiter_->timer = ctx.executor->wait_until(
        until_, ctx.scope, [core = core_, waiter = waiter_](async::Outcome outcome) {
          if (core->expire(waiter, outcome)) waiter->handle.resume();
        });
    return true;
  }

  Taken await_resume() {
    if (waiter_ && waiter_->state == Waiter::State::granted)
      taken_.grant = std::move(waiter_->grant);
    if (waiter_ && waiter_->state == Waiter::State::expired) taken_.expired = waiter_->expiry;
    return std::move(taken_);
  }

 private:
  std::shared_ptr<Core> core_;
  Deadline until_;
  bool may_wait_;
  std::shared_ptr<Waiter> waiter_;
  Taken taken_;
};

pg::Error pool_error(pg::Reason reason, const std::string& message) {
  pg::Error::Details details;
  details.phase = pg::Phase::acquire;
  details.reason = reason;
  return pg::Error(std::move(details), message);
}

// Makes a pooled connection fit to hand out; false when it had to be discarded.
async::Task<bool> revalidate(std::shared_ptr<Core> core, Pooled& item, Deadline deadline,
                             bool pre_ping) {
  if (Clock::now() - item.created >= core->options().recycle) {
    core->close_connection(item, CloseReason::recycled);
    co_return false;
  }
  if (item.needs_drain) {
    bool rolled_back = false;
    try {
      co_await pg::finish(item.conn, deadline, pg::Phase::pre_ping);
      rolled_back = item.conn.transaction_status() == pg::TxStatus::idle;
    } catch (const pg::Error&) {
    }
    if (!rolled_back) {
      core->close_connection(item, CloseReason::error);
      co_return false;
    }
    item.needs_drain = false;
  }
  if (!core->options().pre_ping || !pre_ping) co_return true;

  const Clock::time_point ping_started = Clock::now();
  try {
    co_await pg::exec(item.conn, core->options().ping_sql, deadline, pg::Phase::pre_ping);
    co_return true;
  } catch (const pg::Error& e) {
    core->close_connection(item, CloseReason::invalidated);
    // A server that does not answer must be reported as such, not masked by a connect
    // attempt with no time left.
    if (e.reason() == pg::Reason::timeout || Clock::now() >= deadline) throw;
  }
  // One dead connection usually means a restart killed them all (SQLAlchemy assumes the
  // same): drop every idle connection older than this one's test.
  for (Pooled& stale : core->take_idle_created_before(ping_started)) {
    core->close_connection(stale, CloseReason::invalidated);
  }
  co_return false;
}

async::Task<Pooled> open(std::shared_ptr<Core> core, Deadline deadline) {
  pg::ConnectTiming timing;
  pg::Connection conn;
  try {
    conn = co_await pg::connect(core->params(), deadline, &timing);
  } catch (const pg::Error& e) {
    core->record_connect_failure(e);
    throw;
  }
  core->record_open(timing);
  co_return Pooled{std::move(conn), Clock::now(), false};
}

async::Task<std::optional<Lease>> checkout(std::shared_ptr<Core> core, Deadline deadline,
                                           bool may_wait, bool pre_ping) {
  const Clock::time_point start = Clock::now();
  const Deadline queue_until = std::min(deadline, start + core->options().timeout);
  Taken taken = co_await TakeOrWait(core, queue_until, may_wait);
  if (taken.expired) {
    if (*taken.expired == async::Outcome::cancelled) throw async::Cancelled();
    core->record_timeout();
    const PoolOptions& o = core->options();
    throw pool_error(pg::Reason::timeout, "pool exhausted: no connection freed up within " +
                                              std::to_string(o.timeout.count()) + " ms (size " +
                                              std::to_string(o.size) + " + overflow " +
                                              std::to_string(o.max_overflow) + " all in use)");
  }
  switch (taken.grant.kind) {
    case Grant::Kind::closed:
      throw pool_error(pg::Reason::shutdown, "pool is closed");
    case Grant::Kind::wait:
      co_return std::nullopt;
    case Grant::Kind::idle:
    case Grant::Kind::open:
      break;
  }

  // From here the lease owns the slot: any exception hands it back.
  Lease lease = LeaseAccess::holding_slot(core);
  std::optional<Pooled>& item = LeaseAccess::item(lease);
  if (taken.grant.item) {
    item = std::move(taken.grant.item);
    item->reused = true;
    const bool fit = co_await revalidate(core, *item, deadline, pre_ping);
    if (!fit) item.reset();
  }
  if (!item) item = co_await open(core, deadline);
  core->record_acquire(seconds_between(start, Clock::now()));
  co_return std::optional<Lease>(std::move(lease));
}

async::Task<Lease> acquire_waiting(std::shared_ptr<Core> core, Deadline deadline, bool pre_ping) {
  std::optional<Lease> lease = co_await checkout(std::move(core), deadline, true, pre_ping);
  co_return std::move(*lease);
}

async::Task<void> maintain_pool(std::shared_ptr<Core> core, Deadline deadline) {
  for (Pooled& old : core->take_expired()) core->close_connection(old, CloseReason::recycled);
  while (core->reserve_for_min_idle()) {
    Lease lease = LeaseAccess::holding_slot(core);
    LeaseAccess::item(lease) = co_await open(core, deadline);
  }
}

}  // namespace

Pool::Pool(pg::ConnectParams params, PoolOptions options, PoolObserver* observer)
    : core_(std::make_shared<Core>(std::move(params), options, observer)) {}

Pool::~Pool() {
  close();
}

async::Task<Lease> Pool::acquire(Deadline deadline, bool pre_ping) {
  return acquire_waiting(core_, deadline, pre_ping);
}

async::Task<std::optional<Lease>> Pool::try_acquire(Deadline deadline) {
  return checkout(core_, deadline, false, true);
}

async::Task<void> Pool::maintain(Deadline deadline) {
  return maintain_pool(core_, deadline);
}

Lease Pool::acquire_blocking() {
  return async::run_blocking(acquire(Clock::now() + core_->options().timeout));
}

std::optional<Lease> Pool::try_acquire_blocking() {
  return async::run_blocking(try_acquire(Clock::now() + core_->options().timeout));
}

void Pool::maintain_blocking() {
  async::run_blocking(maintain(Clock::now() + core_->options().timeout));
}

void Pool::close() {
  core_->close();
}

PoolStats Pool::stats() const {
  return core_->stats();
}

const PoolOptions& Pool::options() const noexcept {
  return core_->options();
}

}  // namespace pgv::pool
