#pragma once

#include <coroutine>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "async/executor.hpp"
#include "pg/connection.hpp"
#include "pg/conninfo.hpp"
#include "pool/observer.hpp"
#include "pool/options.hpp"

namespace pgv::pool::detail {

// One connection with the facts the pool needs about it.
struct Pooled {
  pg::Connection conn;
  Clock::time_point created{};
  bool needs_drain = false;  // a ROLLBACK was sent on return and its answer is unread
  bool reused = false;       // handed out again from the pool, rather than just opened
};

// What an acquirer got from the pool's books: a pooled connection, the right to open one,
// an instruction to wait, or the news that the pool is closed.
struct Grant {
  enum class Kind : std::uint8_t { idle, open, wait, closed } kind = Kind::wait;
  std::optional<Pooled> item;
};

// An acquirer parked until a slot frees up or its deadline passes.
struct Waiter {
  enum class State : std::uint8_t { waiting, granted, expired };
  State state = State::waiting;
  async::Executor* executor = nullptr;
  std::coroutine_handle<> handle;
  async::WaitId timer = 0;
  Grant grant;
  async::Outcome expiry = async::Outcome::timeout;
};

// What the books need to know of a returned connection. The pool uses libpq's answers;
// unit tests give Core a fake, so its bookkeeping is tested without a server.
class SessionOps {
 public:
  virtual ~SessionOps() = default;
  virtual bool usable(const pg::Connection& conn) const = 0;
  virtual pg::TxStatus transaction_status(const pg::Connection& conn) const = 0;
  // Queues a ROLLBACK without waiting for its answer; false when it could not be sent.
  virtual bool send_rollback(pg::Connection& conn) const = 0;
};
const SessionOps& libpq_session_ops();

// The pool's books: all counting happens here under one mutex; no I/O ever happens
// under it. Shared by the Pool and every Lease, so a lease may outlive its Pool.
class Core : public std::enable_shared_from_this<Core> {
 public:
  Core(pg::ConnectParams params, PoolOptions options, PoolObserver* observer,
       const SessionOps& ops = libpq_session_ops());
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;
  Core(Core&&) = delete;
  Core& operator=(Core&&) = delete;
  ~Core() = default;

  // Takes an idle connection or a permit to open one. When neither is available (or others
  // queued first) it returns Kind::wait, and enqueues `waiter` if one is given.
  Grant take(const std::shared_ptr<Waiter>& waiter);
  // A waiter's deadline passed or its work was cancelled. False if it was granted first.
  bool expire(const std::shared_ptr<Waiter>& waiter, async::Outcome outcome);
  // Returns a checked-out slot, with or without a connection worth keeping.
  void give_back(std::optional<Pooled> item);
  // Connections older than `recycle` among the idle ones, taken off the books.
  std::vector<Pooled> take_expired();
  // Idle connections created before `before`: a sibling just proved them suspect.
  std::vector<Pooled> take_idle_created_before(Clock::time_point before);
  // A permit to open a connection if fewer than min_idle are alive.
  bool reserve_for_min_idle();
  void close();

  void close_connection(Pooled& item, CloseReason reason);
  void record_open(const pg::ConnectTiming& timing);
  void record_connect_failure(const pg::Error& error);
  void record_acquire(double seconds);
  void record_timeout();

  PoolStats stats() const;
  const PoolOptions& options() const noexcept { return options_; }
  const pg::ConnectParams& params() const noexcept { return params_; }

 private:
  int live_locked() const noexcept { return static_cast<int>(idle_.size()) + in_use_; }
  void hand_to_waiter_locked(Grant grant);

  const pg::ConnectParams params_;
  const PoolOptions options_;
  PoolObserver* const observer_;
  const SessionOps& ops_;

  mutable std::mutex mutex_;
  std::vector<Pooled> idle_;  // most recently returned last: reused first
  int in_use_ = 0;
  std::deque<std::shared_ptr<Waiter>> waiters_;
  bool closed_ = false;
  PoolStats counters_;
};

}  // namespace pgv::pool::detail
