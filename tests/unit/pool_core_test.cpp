// The pool's books (pool::detail::Core) without a server: connections are empty handles,
// and a fake SessionOps says what state each returned session is in.
#include <catch2/catch.hpp>
#include <coroutine>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "pool/core.hpp"

using pgv::Clock;
using pgv::pool::CloseReason;
using pgv::pool::PoolObserver;
using pgv::pool::PoolOptions;
using pgv::pool::detail::Core;
using pgv::pool::detail::Grant;
using pgv::pool::detail::Pooled;
using pgv::pool::detail::SessionOps;
using pgv::pool::detail::Waiter;

namespace {

// Sessions are told apart by their creation time, the one field a test may set freely.
class FakeOps final : public SessionOps {
 public:
  bool usable(const pgv::pg::Connection& /*conn*/) const override { return usable_; }
  pgv::pg::TxStatus transaction_status(const pgv::pg::Connection& /*conn*/) const override {
    return status_;
  }
  bool send_rollback(pgv::pg::Connection& /*conn*/) const override {
    ++rollbacks_;
    return rollback_sent_;
  }

  bool usable_ = true;
  pgv::pg::TxStatus status_ = pgv::pg::TxStatus::idle;
  bool rollback_sent_ = true;
  mutable int rollbacks_ = 0;
};

// Records posted work; run() plays it, as the executor's thread would.
class FakeExecutor final : public pgv::async::Executor {
 public:
  pgv::async::WaitId wait_io(int, pgv::async::Interest, pgv::Deadline, pgv::async::Scope,
                             pgv::async::Callback) override {
    return ++ids_;
  }
  pgv::async::WaitId wait_until(pgv::Deadline, pgv::async::Scope, pgv::async::Callback) override {
    return ++ids_;
  }
  void forget(pgv::async::WaitId id) override { forgotten.push_back(id); }
  void post(std::function<void()> fn) override { posted.push_back(std::move(fn)); }

  void run() {
    auto work = std::move(posted);
    posted.clear();
    for (auto& fn : work) fn();
  }

  std::vector<std::function<void()>> posted;
  std::vector<pgv::async::WaitId> forgotten;

 private:
  pgv::async::WaitId ids_ = 0;
};

class CountingObserver final : public PoolObserver {
 public:
  void on_close(CloseReason reason) override { ++closed[reason]; }
  std::map<CloseReason, int> closed;
};

PoolOptions options(int size, int overflow) {
  PoolOptions o;
  o.size = size;
  o.max_overflow = overflow;
  o.recycle = std::chrono::minutes(30);
  return o;
}

Pooled session(Clock::time_point created = Clock::now()) {
  Pooled p;
  p.created = created;
  return p;
}

std::shared_ptr<Waiter> waiter_on(FakeExecutor& executor, pgv::async::WaitId timer) {
  auto w = std::make_shared<Waiter>();
  w->executor = &executor;
  w->handle = std::noop_coroutine();
  w->timer = timer;
  return w;
}

struct Books {
  explicit Books(PoolOptions o)
      : core(std::make_shared<Core>(pgv::pg::ConnectParams{}, o, &observer, ops)) {}
  FakeOps ops;
  CountingObserver observer;
  std::shared_ptr<Core> core;
};

}  // namespace

TEST_CASE("core grants permits to open up to size plus overflow, then asks to wait",
          "[pool][core]") {
  Books b(options(2, 1));
  for (int i = 0; i < 3; ++i) CHECK(b.core->take(nullptr).kind == Grant::Kind::open);
  CHECK(b.core->take(nullptr).kind == Grant::Kind::wait);
  const auto s = b.core->stats();
  CHECK(s.in_use == 3);
  CHECK(s.max == 3);
  CHECK(s.waiting == 0);  // no waiter was given, so none was queued
}

TEST_CASE("core keeps a clean returned session and hands the newest one out first",
          "[pool][core]") {
  Books b(options(2, 0));
  REQUIRE(b.core->take(nullptr).kind == Grant::Kind::open);
  REQUIRE(b.core->take(nullptr).kind == Grant::Kind::open);
  const auto older = Clock::now() - std::chrono::seconds(10);
  const auto newer = Clock::now();
  b.core->give_back(session(older));
  b.core->give_back(session(newer));
  CHECK(b.core->stats().idle == 2);
  Grant g = b.core->take(nullptr);
  REQUIRE(g.kind == Grant::Kind::idle);
  REQUIRE(g.item);
  CHECK(g.item->created == newer);
  CHECK(b.observer.closed.empty());
}

TEST_CASE("core closes a returned session beyond size as overflow", "[pool][core]") {
  Books b(options(1, 1));
  REQUIRE(b.core->take(nullptr).kind == Grant::Kind::open);
  REQUIRE(b.core->take(nullptr).kind == Grant::Kind::open);
  b.core->give_back(session());
  b.core->give_back(session());
  CHECK(b.core->stats().idle == 1);
  CHECK(b.core->stats().closed(CloseReason::overflow) == 1);
  CHECK(b.observer.closed[CloseReason::overflow] == 1);
}

TEST_CASE("core discards a broken session or one still running a query", "[pool][core]") {
  Books b(options(2, 0));
  SECTION("broken") {
    b.ops.usable_ = false;
  }
  SECTION("query still running") {
    b.ops.status_ = pgv::pg::TxStatus::active;
  }
  REQUIRE(b.core->take(nullptr).kind == Grant::Kind::open);
  b.core->give_back(session());
  const auto s = b.core->stats();
  CHECK(s.idle == 0);
  CHECK(s.in_use == 0);
  CHECK(s.closed(CloseReason::error) == 1);
}

TEST_CASE("core rolls back a session returned inside a transaction without waiting",
          "[pool][core]") {
  Books b(options(1, 0));
  b.ops.status_ = pgv::pg::TxStatus::in_transaction;
  REQUIRE(b.core->take(nullptr).kind == Grant::Kind::open);
  b.core->give_back(session());
  CHECK(b.ops.rollbacks_ == 1);
  Grant g = b.core->take(nullptr);
  REQUIRE(g.kind == Grant::Kind::idle);
  CHECK(g.item->needs_drain);

  b.ops.rollback_sent_ = false;  // the ROLLBACK could not even be sent: not worth keeping
  b.core->give_back(std::move(g.item));
  CHECK(b.core->stats().idle == 0);
  CHECK(b.core->stats().closed(CloseReason::error) == 1);
}

TEST_CASE("core recycles a returned session older than recycle", "[pool][core]") {
  Books b(options(1, 0));
  REQUIRE(b.core->take(nullptr).kind == Grant::Kind::open);
  b.core->give_back(session(Clock::now() - std::chrono::hours(1)));
  CHECK(b.core->stats().idle == 0);
  CHECK(b.core->stats().closed(CloseReason::recycled) == 1);
}

TEST_CASE("core queues waiters in order, lets nobody overtake them, and hands slots over",
          "[pool][core]") {
  Books b(options(1, 0));
  FakeExecutor executor;
  REQUIRE(b.core->take(nullptr).kind == Grant::Kind::open);
  auto first = waiter_on(executor, 11);
  auto second = waiter_on(executor, 12);
  REQUIRE(b.core->take(first).kind == Grant::Kind::wait);
  REQUIRE(b.core->take(second).kind == Grant::Kind::wait);
  CHECK(b.core->stats().waiting == 2);

  b.core->give_back(session());
  CHECK(first->state == Waiter::State::granted);
  CHECK(first->grant.kind == Grant::Kind::idle);
  CHECK(second->state == Waiter::State::waiting);
  CHECK(b.core->stats().idle == 0);  // handed over, never parked where a newcomer could take it
  CHECK(b.core->take(nullptr).kind == Grant::Kind::wait);
  REQUIRE(executor.posted.size() == 1);
  executor.run();
  CHECK(executor.forgotten == std::vector<pgv::async::WaitId>{11});

  // A slot given back empty (its connection was broken) becomes a permit to open one.
  b.core->give_back(std::nullopt);
  CHECK(second->state == Waiter::State::granted);
  CHECK(second->grant.kind == Grant::Kind::open);
  CHECK(b.core->stats().waiting == 0);
}

TEST_CASE("core expires a waiter only while it still waits", "[pool][core]") {
  Books b(options(1, 0));
  FakeExecutor executor;
  REQUIRE(b.core->take(nullptr).kind == Grant::Kind::open);
  auto late = waiter_on(executor, 1);
  auto granted = waiter_on(executor, 2);
  REQUIRE(b.core->take(late).kind == Grant::Kind::wait);
  CHECK(b.core->expire(late, pgv::async::Outcome::timeout));
  CHECK(late->state == Waiter::State::expired);
  CHECK(b.core->stats().waiting == 0);

  REQUIRE(b.core->take(granted).kind == Grant::Kind::wait);
  b.core->give_back(session());
  CHECK_FALSE(b.core->expire(granted, pgv::async::Outcome::timeout));
  CHECK(granted->state == Waiter::State::granted);
}

TEST_CASE("core closing hands waiters 'closed' and closes idle and returned sessions",
          "[pool][core]") {
  Books b(options(2, 0));
  FakeExecutor executor;
  REQUIRE(b.core->take(nullptr).kind == Grant::Kind::open);
  REQUIRE(b.core->take(nullptr).kind == Grant::Kind::open);
  b.core->give_back(session());
  REQUIRE(b.core->take(nullptr).kind == Grant::Kind::idle);
  auto w = waiter_on(executor, 5);
  REQUIRE(b.core->take(w).kind == Grant::Kind::wait);

  b.core->close();
  CHECK(w->grant.kind == Grant::Kind::closed);
  CHECK(b.core->take(nullptr).kind == Grant::Kind::closed);
  b.core->give_back(session());
  CHECK(b.core->stats().closed(CloseReason::shutdown) == 1);
  CHECK(b.core->stats().idle == 0);
}

TEST_CASE("core reserves a warm-up permit only below min_idle and with nobody waiting",
          "[pool][core]") {
  Books b(options(2, 0));
  CHECK(b.core->reserve_for_min_idle());
  CHECK_FALSE(b.core->reserve_for_min_idle());  // one live (being opened) is min_idle
  b.core->give_back(std::nullopt);              // the open failed: the slot is free again
  CHECK(b.core->stats().in_use == 0);
  CHECK(b.core->reserve_for_min_idle());
}

TEST_CASE("core takes idle sessions created before a moment off the books", "[pool][core]") {
  Books b(options(3, 0));
  const auto now = Clock::now();
  for (int i = 0; i < 3; ++i) REQUIRE(b.core->take(nullptr).kind == Grant::Kind::open);
  b.core->give_back(session(now - std::chrono::seconds(30)));
  b.core->give_back(session(now - std::chrono::seconds(20)));
  b.core->give_back(session(now));
  const auto taken = b.core->take_idle_created_before(now - std::chrono::seconds(10));
  CHECK(taken.size() == 2);
  CHECK(b.core->stats().idle == 1);
}
