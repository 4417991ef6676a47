#include "async/event_loop.hpp"

#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <future>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "async/awaitables.hpp"
#include "async/blocking.hpp"

using namespace std::chrono_literals;
using pgv::Clock;
using pgv::async::Outcome;
using pgv::async::Task;

namespace {

struct Pipe {
  int fds[2] = {-1, -1};
  Pipe() { REQUIRE(::pipe(fds) == 0); }
  ~Pipe() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  Pipe(Pipe&&) = delete;
  Pipe& operator=(Pipe&&) = delete;
};

Task<Outcome> wait_readable(int fd, pgv::Deadline deadline) {
  co_return co_await pgv::async::wait_io(fd, pgv::async::Interest::read, deadline);
}

Task<int> leaf(int v) {
  co_return v + 1;
}

Task<int> chain(int depth) {
  int sum = 0;
  for (int i = 0; i < depth; ++i) sum += co_await leaf(0);
  co_return sum;
}

Task<int> throws_after_sleep() {
  co_await pgv::async::sleep_until(Clock::now() + 1ms);
  throw std::runtime_error("boom");
}

}  // namespace

TEST_CASE("a wait on a readable descriptor completes as ready", "[async]") {
  Pipe p;
  REQUIRE(::write(p.fds[1], "x", 1) == 1);
  CHECK(pgv::async::run_blocking(wait_readable(p.fds[0], Clock::now() + 1s)) == Outcome::ready);
}

TEST_CASE("a wait with nothing to read ends at its deadline, not before", "[async]") {
  Pipe p;
  const auto start = Clock::now();
  CHECK(pgv::async::run_blocking(wait_readable(p.fds[0], start + 50ms)) == Outcome::timeout);
  const auto waited = Clock::now() - start;
  CHECK(waited >= 50ms);
  CHECK(waited < 1s);
}

TEST_CASE("data written by another thread wakes the waiting coroutine", "[async]") {
  Pipe p;
  pgv::async::EventLoop loop;
  std::optional<Outcome> outcome;
  loop.spawn(
      [](int fd, std::optional<Outcome>& out) -> Task<void> {
        out = co_await pgv::async::wait_io(fd, pgv::async::Interest::read, Clock::now() + 5s);
      }(p.fds[0], outcome),
      0);
  // Posted after the spawn, so it runs once the reader has parked on its descriptor: the
  // writer starts from that event, not from a guess at how long parking takes.
  std::promise<std::size_t> parked;
  loop.post([&] { parked.set_value(loop.pending_waits()); });
  std::atomic<ssize_t> written{0};
  std::thread writer([&] {
    if (parked.get_future().get() == 1) written = ::write(p.fds[1], "x", 1);
  });
  const auto until = Clock::now() + 5s;
  while (!outcome && Clock::now() < until) loop.run_once(until);
  writer.join();
  CHECK(written == 1);
  CHECK(outcome == Outcome::ready);
}

TEST_CASE("values and exceptions travel up nested tasks", "[async]") {
  CHECK(pgv::async::run_blocking(chain(1000)) == 1000);
  CHECK_THROWS_WITH(pgv::async::run_blocking(throws_after_sleep()), "boom");
}

TEST_CASE("a task whose deadline is already due completes instead of blocking", "[async]") {
  // Regression: a round that finished the task before waiting must not then block.
  auto due_now = []() -> Task<int> {
    int rounds = 0;
    for (int i = 0; i < 3; ++i) {
      const Outcome o = co_await pgv::async::sleep_until(Clock::now());
      if (o == Outcome::timeout) ++rounds;
    }
    co_return rounds;
  };
  CHECK(pgv::async::run_blocking(due_now()) == 3);
}

TEST_CASE("timers on a loop fire in deadline order", "[async]") {
  pgv::async::EventLoop loop;
  std::vector<int> order;
  const auto now = Clock::now();
  loop.wait_until(now + 30ms, 0, [&](Outcome) { order.push_back(3); });
  loop.wait_until(now + 10ms, 0, [&](Outcome) { order.push_back(1); });
  loop.wait_until(now + 20ms, 0, [&](Outcome) { order.push_back(2); });
  while (order.size() < 3 && Clock::now() < now + 2s) loop.run_once(now + 2s);
  CHECK(order == std::vector<int>{1, 2, 3});
  CHECK(loop.pending_waits() == 0);
}

TEST_CASE("cancelling a scope ends only that scope's waits", "[async]") {
  pgv::async::EventLoop loop;
  Outcome a = Outcome::ready;
  Outcome b = Outcome::ready;
  bool a_done = false;
  bool b_done = false;
  const auto far = Clock::now() + 10s;
  loop.wait_until(far, 7, [&](Outcome o) { a = o, a_done = true; });
  loop.wait_until(far, 8, [&](Outcome o) { b = o, b_done = true; });
  loop.cancel_scope(7);
  const auto until = Clock::now() + 2s;
  while (!a_done && Clock::now() < until) loop.run_once(until);
  CHECK(a_done);
  CHECK(a == Outcome::cancelled);
  CHECK_FALSE(b_done);
  // New waits in a cancelled scope end at once, until the scope is released.
  bool late = false;
  loop.wait_until(far, 7, [&](Outcome o) { late = (o == Outcome::cancelled); });
  loop.run_once(Clock::now() + 100ms);
  CHECK(late);
  (void)b;
}

TEST_CASE("stop cancels spawned tasks, which unwind with Cancelled", "[async]") {
  pgv::async::EventLoop loop;
  std::exception_ptr seen;
  bool done = false;
  auto sleeper = []() -> Task<void> {
    const Outcome o = co_await pgv::async::sleep_until(Clock::now() + 60s);
    if (o == Outcome::cancelled) throw pgv::async::Cancelled();
  };
  loop.spawn(sleeper(), pgv::async::new_scope(), [&](std::exception_ptr e) {
    seen = e;
    done = true;
  });
  std::thread runner([&] { loop.run(); });
  // Poll until the task is parked on its timer, then stop the loop from this thread.
  auto parked = std::make_shared<std::atomic<bool>>(false);
  const auto until = Clock::now() + 2s;
  while (!parked->load() && Clock::now() < until) {
    loop.post([&loop, parked] { parked->store(loop.pending_waits() > 0); });
    std::this_thread::sleep_for(5ms);
  }
  REQUIRE(parked->load());
  const auto stop_at = Clock::now();
  loop.stop();
  runner.join();
  CHECK(Clock::now() - stop_at < 1s);
  REQUIRE(done);
  CHECK_THROWS_AS(std::rethrow_exception(seen), pgv::async::Cancelled);
}

TEST_CASE("run_blocking refuses to nest", "[async]") {
  auto inner = []() -> Task<int> { co_return pgv::async::run_blocking(leaf(1)); };
  CHECK_THROWS_AS(pgv::async::run_blocking(inner()), std::logic_error);
}

// Each wait that ends before its deadline (data came, its scope was cancelled) left its
// entry in the timer heap until that entry reached the top, which a far deadline never does
// while a nearer one is pending: an HTTP accept loop left one per wake-up, for ever.
TEST_CASE("waits that end early leave the timer heap bounded", "[async]") {
  pgv::async::EventLoop loop;
  Pipe p;
  REQUIRE(::write(p.fds[1], "x", 1) == 1);  // stays readable: every wait on it is ready
  const auto near = Clock::now() + 60s;
  bool near_done = false;
  loop.wait_until(near, 0, [&](Outcome) { near_done = true; });
  constexpr int kWaits = 20000;
  int ready = 0;
  int cancelled = 0;
  std::size_t largest = 0;
  for (int i = 0; i < kWaits; ++i) {
    const auto far = Clock::now() + 1h;
    if (i % 2 == 0) {
      loop.wait_io(p.fds[0], pgv::async::Interest::read, far, 0,
                   [&](Outcome o) { ready += o == Outcome::ready ? 1 : 0; });
    } else {
      // A spawned task in its own scope, cancelled while it sleeps, as an evicted
      // connection is; its owner releases the scope when it ends.
      const pgv::async::Scope scope = pgv::async::new_scope();
      loop.spawn(
          [](int& n) -> Task<void> {
            const Outcome o = co_await pgv::async::sleep_until(Clock::now() + 1h);
            n += o == Outcome::cancelled ? 1 : 0;
          }(cancelled),
          scope, [&loop, scope](std::exception_ptr) { loop.release_scope(scope); });
      loop.run_once(Clock::now());  // parks the task
      loop.cancel_scope(scope);
    }
    loop.run_once(Clock::now());
    loop.run_once(Clock::now());
    largest = std::max(largest, loop.timer_entries());
  }
  CHECK(ready == kWaits / 2);
  CHECK(cancelled == kWaits / 2);
  CHECK_FALSE(near_done);
  CHECK(loop.pending_waits() == 1);
  INFO("largest timer heap: " << largest << " entries for " << kWaits << " waits");
  CHECK(largest <= 130);
  CHECK(loop.cancelled_scopes() == 0);
}

// A task that ends in the same round as its scope is cancelled (an HTTP connection evicted
// just as it finished) released its scope before the cancel arrived, which then held the
// scope in cancelled_scopes_ for ever: one leaked entry per such connection.
TEST_CASE("a scope cancelled after its task ended is not kept cancelled", "[async]") {
  pgv::async::EventLoop loop;
  int finished = 0;
  for (int i = 0; i < 100; ++i) {
    const pgv::async::Scope scope = pgv::async::new_scope();
    loop.spawn([]() -> Task<void> { co_return; }(), scope,
               [&loop, &finished, scope](std::exception_ptr) {
                 loop.release_scope(scope);
                 ++finished;
               });
    loop.cancel_scope(scope);  // queued behind the start: it arrives after the end
  }
  const auto until = Clock::now() + 2s;
  while (finished < 100 && Clock::now() < until) loop.run_once(until);
  loop.run_once(Clock::now());
  CHECK(finished == 100);
  CHECK(loop.cancelled_scopes() == 0);
}
