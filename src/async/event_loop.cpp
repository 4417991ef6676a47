#include "async/event_loop.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <memory>
#include <system_error>

namespace pgv::async {
namespace {

// The root of a spawned chain: starts at once, frees itself at the end.
struct Detached {
  struct promise_type {
    Context context;
    template <class... Args>
    explicit promise_type(Task<void>& /*task*/, Context ctx, Args&... /*rest*/) : context(ctx) {}
    Detached get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
};

Detached run_detached(Task<void> task, Context /*ctx*/,
                      std::function<void(std::exception_ptr)> done) {
  std::exception_ptr error;
  {
    // The task's frame (and whatever its arguments own) is gone before `done` runs, so
    // `done` may rely on everything the task held having been released.
    Task<void> local = std::move(task);
    try {
      co_await std::move(local);
    } catch (...) {
      error = std::current_exception();
    }
  }
  if (done) done(error);
}

std::uint32_t epoll_events(Interest interest) {
  std::uint32_t ev = 0;
  if (static_cast<int>(interest) & static_cast<int>(Interest::read)) ev |= EPOLLIN;
  if (static_cast<int>(interest) & static_cast<int>(Interest::write)) ev |= EPOLLOUT;
  return ev;
}

int epoll_timeout_ms(Deadline now, Deadline until) {
  if (until <= now) return 0;
  if (until == Deadline::max()) return -1;
  // Round up: waking a little late is harmless, waking early would spin.
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(until - now).count();
  auto ms = (us + 999) / 1000;
  return ms > 60'000 ? 60'000 : static_cast<int>(ms);
}

}  // namespace

Scope new_scope() {
  static std::atomic<Scope> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

EventLoop::EventLoop() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) {
    ::close(epoll_fd_);
    throw std::system_error(errno, std::generic_category(), "eventfd");
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0;  // id 0 is the wake-up descriptor
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
}

EventLoop::~EventLoop() {
  drain();
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

EventLoop& EventLoop::for_this_thread() {
  thread_local EventLoop loop;
  return loop;
}

WaitId EventLoop::wait_io(int fd, Interest interest, Deadline deadline, Scope scope,
                          Callback callback) {
  return add_wait(fd, interest, deadline, scope, std::move(callback));
}

WaitId EventLoop::wait_until(Deadline deadline, Scope scope, Callback callback) {
  return add_wait(-1, Interest::read, deadline, scope, std::move(callback));
}

WaitId EventLoop::add_wait(int fd, Interest interest, Deadline deadline, Scope scope,
                           Callback callback) {
  if (draining_ || (scope != 0 && cancelled_scopes_.contains(scope))) {
    complete_later(std::move(callback), Outcome::cancelled);
    return 0;
  }
  const WaitId id = next_id_++;
  if (fd >= 0) {
    epoll_event ev{};
    ev.events = epoll_events(interest);
    ev.data.u64 = id;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      // A descriptor libpq already closed: report it ready so the caller's next libpq
      // call sees the error itself.
      complete_later(std::move(callback), Outcome::ready);
      return 0;
    }
  }
  waits_.emplace(id, Wait{fd, scope, std::move(callback)});
  push_timer(Timer{deadline, id});
  return id;
}

void EventLoop::push_timer(Timer timer) {
  timers_.push_back(timer);
  std::push_heap(timers_.begin(), timers_.end());
  // Entries of waits that ended early (data came, a connection closed, a scope was
  // cancelled) leave only when they reach the top, which a far deadline never does while
  // nearer ones keep coming: drop them once they are half the heap. Each compaction
  // follows at least as many pushes as it removes, so it costs O(1) per wait amortised.
  if (timers_.size() > 64 && timers_.size() > 2 * waits_.size()) compact_timers();
}

void EventLoop::compact_timers() {
  std::erase_if(timers_, [this](const Timer& t) { return !waits_.contains(t.id); });
  std::make_heap(timers_.begin(), timers_.end());
}

void EventLoop::forget(WaitId id) {
  auto it = waits_.find(id);
  if (it == waits_.end()) return;
  if (it->second.fd >= 0) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->second.fd, nullptr);
  waits_.erase(it);
}

bool EventLoop::complete(WaitId id, Outcome outcome) {
  auto it = waits_.find(id);
  if (it == waits_.end()) return false;  // a timer for a wait that already ended
  Callback callback = std::move(it->second.callback);
  if (it->second.fd >= 0) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->second.fd, nullptr);
  waits_.erase(it);
  callback(outcome);
  return true;
}

void EventLoop::complete_later(Callback callback, Outcome outcome) {
  ready_.emplace_back(std::move(callback), outcome);
}

void EventLoop::post(std::function<void()> fn) {
  {
    std::lock_guard lock(posted_mutex_);
    posted_.push_back(std::move(fn));
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

void EventLoop::spawn(Task<void> task, Scope scope, std::function<void(std::exception_ptr)> done) {
  // Task is move-only and std::function needs copyable state, so park it in a shared slot.
  auto slot = std::make_shared<Task<void>>(std::move(task));
  post([this, slot, scope, done = std::move(done)]() mutable {
    ++live_tasks_[scope];
    auto finished = [this, scope, done = std::move(done)](std::exception_ptr error) {
      if (auto it = live_tasks_.find(scope); it != live_tasks_.end() && --it->second == 0) {
        live_tasks_.erase(it);
      }
      if (done) done(error);
    };
    run_detached(std::move(*slot), Context{this, scope}, std::move(finished));
  });
}

void EventLoop::cancel_scope(Scope scope) {
  post([this, scope] {
    // The scope's last task may have ended (and released the scope) between the call and
    // now, e.g. a connection evicted in the round it finished: nothing would ever release
    // the scope again, so remember it only while something in it can still wait.
    const bool in_use = live_tasks_.contains(scope) ||
                        std::any_of(waits_.begin(), waits_.end(),
                                    [scope](const auto& w) { return w.second.scope == scope; });
    if (in_use) cancelled_scopes_.insert(scope);
    cancel_matching(false, scope);
  });
}

void EventLoop::release_scope(Scope scope) {
  cancelled_scopes_.erase(scope);
}

void EventLoop::cancel_matching(bool all, Scope scope) {
  std::vector<WaitId> ids;
  for (const auto& [id, wait] : waits_) {
    if (all || wait.scope == scope) ids.push_back(id);
  }
  for (WaitId id : ids) {
    auto it = waits_.find(id);
    if (it == waits_.end()) continue;
    if (it->second.fd >= 0) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->second.fd, nullptr);
    complete_later(std::move(it->second.callback), Outcome::cancelled);
    waits_.erase(it);
  }
}

bool EventLoop::run_posted() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard lock(posted_mutex_);
    batch.swap(posted_);
  }
  for (auto& fn : batch) fn();
  auto ready = std::move(ready_);
  ready_.clear();
  for (auto& [callback, outcome] : ready) callback(outcome);
  return !batch.empty() || !ready.empty();
}

bool EventLoop::fire_timers(Deadline now) {
  bool fired = false;
  while (!timers_.empty() && timers_.front().when <= now) {
    const WaitId id = timers_.front().id;
    std::pop_heap(timers_.begin(), timers_.end());
    timers_.pop_back();
    fired |= complete(id, Outcome::timeout);
  }
  // A dead entry on top would only wake the loop early; drop those that lead.
  while (!timers_.empty() && !waits_.contains(timers_.front().id)) {
    std::pop_heap(timers_.begin(), timers_.end());
    timers_.pop_back();
  }
  return fired;
}

void EventLoop::run_once(Deadline limit) {
  // Work done before waiting may be exactly what the caller waits for (a task that
  // finished): then the round must not block.
  bool busy = run_posted();
  Deadline now = Clock::now();
  busy |= fire_timers(now);

  Deadline until = limit;
  if (!timers_.empty() && timers_.front().when < until) until = timers_.front().when;
  busy |= !ready_.empty();
  if (!busy) {
    std::lock_guard lock(posted_mutex_);
    busy = !posted_.empty();
  }
  const int timeout_ms = busy ? 0 : epoll_timeout_ms(now, until);

  std::array<epoll_event, 64> events{};
  const int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout_ms);
  if (n < 0 && errno != EINTR)
    throw std::system_error(errno, std::generic_category(), "epoll_wait");
  for (int i = 0; i < n; ++i) {
    const WaitId id = events[static_cast<std::size_t>(i)].data.u64;
    if (id == 0) {
      std::uint64_t count = 0;
      [[maybe_unused]] auto r = ::read(wake_fd_, &count, sizeof count);
      continue;
    }
    complete(id, Outcome::ready);
  }
  fire_timers(Clock::now());
  run_posted();
}

void EventLoop::run() {
  while (!stop_requested_.load(std::memory_order_acquire)) run_once(Deadline::max());
  drain();
}

void EventLoop::stop() {
  stop_requested_.store(true, std::memory_order_release);
  post([] {});
}

void EventLoop::drain() {
  // Everything still waiting unwinds through Cancelled; unwinding may register new waits,
  // which draining_ completes at once, so a bounded number of rounds empties the loop.
  draining_ = true;
  for (int round = 0; round < 1000; ++round) {
    cancel_matching(true, 0);
    run_posted();
    if (waits_.empty() && ready_.empty()) {
      std::lock_guard lock(posted_mutex_);
      if (posted_.empty()) break;
    }
  }
  draining_ = false;
}

}  // namespace pgv::async
