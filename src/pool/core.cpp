#include "pool/core.hpp"

#include <algorithm>

#include "pg/query.hpp"

namespace pgv::pool::detail {

namespace {

class LibpqSessionOps final : public SessionOps {
 public:
  bool usable(const pg::Connection& conn) const override { return conn.usable(); }
  pg::TxStatus transaction_status(const pg::Connection& conn) const override {
    return conn.transaction_status();
  }
  bool send_rollback(pg::Connection& conn) const override { return pg::send(conn, "ROLLBACK"); }
};

}  // namespace

const SessionOps& libpq_session_ops() {
  static const LibpqSessionOps kOps;
  return kOps;
}

Core::Core(pg::ConnectParams params, PoolOptions options, PoolObserver* observer,
           const SessionOps& ops)
    : params_(std::move(params)), options_(options), observer_(observer), ops_(ops) {}

Grant Core::take(const std::shared_ptr<Waiter>& waiter) {
  std::lock_guard lock(mutex_);
  Grant grant;
  if (closed_) {
    grant.kind = Grant::Kind::closed;
  } else if (!waiters_.empty()) {
    // Others queued first: no overtaking.
    grant.kind = Grant::Kind::wait;
  } else if (!idle_.empty()) {
    grant.kind = Grant::Kind::idle;
    grant.item = std::move(idle_.back());
    idle_.pop_back();
  } else if (live_locked() < options_.max_connections()) {
    grant.kind = Grant::Kind::open;
  } else {
    grant.kind = Grant::Kind::wait;
  }
  if (grant.kind == Grant::Kind::idle || grant.kind == Grant::Kind::open) ++in_use_;
  if (grant.kind == Grant::Kind::wait && waiter) waiters_.push_back(waiter);
  return grant;
}

bool Core::expire(const std::shared_ptr<Waiter>& waiter, async::Outcome outcome) {
  std::lock_guard lock(mutex_);
  if (waiter->state != Waiter::State::waiting) return false;
  waiter->state = Waiter::State::expired;
  waiter->expiry = outcome;
  waiters_.erase(std::remove(waiters_.begin(), waiters_.end(), waiter), waiters_.end());
  return true;
}

void Core::hand_to_waiter_locked(Grant grant) {
  std::shared_ptr<Waiter> waiter = std::move(waiters_.front());
  waiters_.pop_front();
  waiter->state = Waiter::State::granted;
  waiter->grant = std::move(grant);
  if (waiter->grant.kind != Grant::Kind::closed) ++in_use_;
  // Resumed on its own executor's thread, where its deadline timer also lives.
  waiter->executor->post([waiter] {
    waiter->executor->forget(waiter->timer);
    waiter->handle.resume();
  });
}

void Core::give_back(std::optional<Pooled> item) {
  if (item) {
    std::optional<CloseReason> discard;
    pg::Connection& conn = item->conn;
    if (!ops_.usable(conn)) {
      discard = CloseReason::error;
    } else {
      switch (ops_.transaction_status(conn)) {
        case pg::TxStatus::idle:
          break;
        case pg::TxStatus::in_transaction:
        case pg::TxStatus::in_error:
          // Answer read at the next checkout: returning never waits on the network.
          if (ops_.send_rollback(conn)) {
            item->needs_drain = true;
          } else {
            discard = CloseReason::error;
          }
          break;
        default:  // a query still running, or state unknown
          discard = CloseReason::error;
      }
    }
    if (!discard && Clock::now() - item->created >= options_.recycle) {
      discard = CloseReason::recycled;
    }
    if (discard) {
      close_connection(*item, *discard);
      item.reset();
    }
  }

  std::optional<Pooled> surplus;
  CloseReason surplus_reason = CloseReason::overflow;
  {
    std::lock_guard lock(mutex_);
    --in_use_;
    if (closed_) {
      surplus = std::move(item);
      surplus_reason = CloseReason::shutdown;
    } else if (!waiters_.empty()) {
      Grant grant;
      grant.kind = item ? Grant::Kind::idle : Grant::Kind::open;
      grant.item = std::move(item);
      hand_to_waiter_locked(std::move(grant));
    } else if (item) {
      if (static_cast<int>(idle_.size()) >= options_.size) {
        surplus = std::move(item);
      } else {
        idle_.push_back(std::move(*item));
      }
    }
  }
  if (surplus) close_connection(*surplus, surplus_reason);
}

std::vector<Pooled> Core::take_expired() {
  const Clock::time_point cutoff = Clock::now() - options_.recycle;
  return take_idle_created_before(cutoff + std::chrono::nanoseconds(1));
}

std::vector<Pooled> Core::take_idle_created_before(Clock::time_point before) {
  std::vector<Pooled> taken;
  std::lock_guard lock(mutex_);
  auto keep = std::stable_partition(idle_.begin(), idle_.end(),
                                    [before](const Pooled& p) { return p.created >= before; });
  std::move(keep, idle_.end(), std::back_inserter(taken));
  idle_.erase(keep, idle_.end());
  return taken;
}

bool Core::reserve_for_min_idle() {
  std::lock_guard lock(mutex_);
  if (closed_ || !waiters_.empty() || live_locked() >= options_.min_idle ||
      live_locked() >= options_.max_connections()) {
    return false;
  }
  ++in_use_;
  return true;
}

void Core::close() {
  std::vector<Pooled> idle;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    closed_ = true;
    idle.swap(idle_);
    while (!waiters_.empty()) {
      Grant grant;
      grant.kind = Grant::Kind::closed;
      hand_to_waiter_locked(std::move(grant));
    }
  }
  for (Pooled& item : idle) close_connection(item, CloseReason::shutdown);
}

void Core::close_connection(Pooled& item, CloseReason reason) {
  item.conn.close();
  {
    std::lock_guard lock(mutex_);
    ++counters_.closed_total[static_cast<std::size_t>(reason)];
  }
  if (observer_) observer_->on_close(reason);
}

void Core::record_open(const pg::ConnectTiming& timing) {
  {
    std::lock_guard lock(mutex_);
    ++counters_.opened_total;
  }
  if (observer_) observer_->on_connect(timing);
}

void Core::record_connect_failure(const pg::Error& error) {
  if (observer_) observer_->on_connect_failed(error);
}

void Core::record_acquire(double seconds) {
  {
    std::lock_guard lock(mutex_);
    ++counters_.acquires_total;
    counters_.acquire_seconds_total += seconds;
  }
  if (observer_) observer_->on_acquire(seconds);
}

void Core::record_timeout() {
  {
    std::lock_guard lock(mutex_);
    ++counters_.timeouts_total;
  }
  if (observer_) observer_->on_timeout();
}

PoolStats Core::stats() const {
  std::lock_guard lock(mutex_);
  PoolStats s = counters_;
  s.idle = static_cast<int>(idle_.size());
  s.in_use = in_use_;
  s.waiting = static_cast<int>(waiters_.size());
  s.max = options_.max_connections();
  return s;
}

}  // namespace pgv::pool::detail
