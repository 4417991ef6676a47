#pragma once

#include <coroutine>

#include "async/executor.hpp"

namespace pgv::async {

// co_await wait_io(fd, Interest::read, deadline) -> Outcome
class IoWait {
 public:
  IoWait(int fd, Interest interest, Deadline deadline)
      : fd_(fd), interest_(interest), deadline_(deadline) {}

  bool await_ready() const noexcept { return false; }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) {
    const Context& ctx = h.promise().context;
    ctx.executor->wait_io(fd_, interest_, deadline_, ctx.scope, [this, h](Outcome o) {
      outcome_ = o;
      h.resume();
    });
  }
  Outcome await_resume() const noexcept { return outcome_; }

 private:
  int fd_;
  Interest interest_;
  Deadline deadline_;
  Outcome outcome_ = Outcome::cancelled;
};

// co_await sleep_until(t) -> Outcome::timeout when the time came, cancelled otherwise.
class SleepUntil {
 public:
  explicit SleepUntil(Deadline when) : when_(when) {}

  bool await_ready() const noexcept { return false; }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) {
    const Context& ctx = h.promise().context;
    ctx.executor->wait_until(when_, ctx.scope, [this, h](Outcome o) {
      outcome_ = o;
      h.resume();
    });
  }
  Outcome await_resume() const noexcept { return outcome_; }

 private:
  Deadline when_;
  Outcome outcome_ = Outcome::cancelled;
};

// co_await current_context() -> the Context this coroutine runs under.
struct CurrentContext {
  Context context;
  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    context = h.promise().context;
    return false;
  }
  Context await_resume() const noexcept { return context; }
};
inline CurrentContext current_context() {
  return {};
}

inline IoWait wait_io(int fd, Interest interest, Deadline deadline) {
  return {fd, interest, deadline};
}
inline SleepUntil sleep_until(Deadline when) {
  return SleepUntil{when};
}

}  // namespace pgv::async
