#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <stdexcept>
#include <utility>

#include "async/executor.hpp"

namespace pgv::async {

// Thrown out of a wait whose scope or executor is shutting down.
class Cancelled : public std::runtime_error {
 public:
  Cancelled() : std::runtime_error("operation cancelled: the agent is stopping this work") {}
};

namespace detail {

struct PromiseBase {
  Context context;
  std::coroutine_handle<> continuation;
  std::exception_ptr error;

  std::suspend_always initial_suspend() noexcept { return {}; }

  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> self) noexcept {
      auto next = self.promise().continuation;
      return next ? next : std::noop_coroutine();
    }
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { error = std::current_exception(); }
};

template <class T>
struct Promise : PromiseBase {
  std::optional<T> value;
  void return_value(T v) { value.emplace(std::move(v)); }
  T take() {
    if (error) std::rethrow_exception(error);
    return std::move(*value);
  }
};

template <>
struct Promise<void> : PromiseBase {
  void return_void() noexcept {}
  void take() {
    if (error) std::rethrow_exception(error);
  }
};

}  // namespace detail

// House rule: never test a co_await expression directly in an if or while condition; bind it to a
// local first. GCC 12 miscompiles a co_await inside a condition within a loop (the coroutine
// body never runs); scripts/lint rejects the pattern.
//
// A lazy coroutine with one awaiter. Awaiting it transfers control symmetrically, so
// deep chains of awaits never grow the stack; the awaiter's Context flows down.
template <class T = void>
class [[nodiscard]] Task {
 private:
  // Starts the child when awaited and makes the awaiting coroutine its continuation.
  template <class Promise>
  struct TaskAwaiter {
    std::coroutine_handle<Promise> child;
    bool await_ready() const noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> parent) noexcept {
      child.promise().continuation = parent;
      child.promise().context = parent.promise().context;
      return child;
    }
    T await_resume() { return child.promise().take(); }
  };

 public:
  struct promise_type : detail::Promise<T> {
    Task get_return_object() noexcept {
      return Task{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
  };
  using Handle = std::coroutine_handle<promise_type>;
  using Awaiter = TaskAwaiter<promise_type>;

  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { reset(); }

  auto operator co_await() && noexcept { return Awaiter{handle_}; }

  // For executors that start a task at the root of a chain.
  Handle handle() const noexcept { return handle_; }

 private:
  explicit Task(Handle h) noexcept : handle_(h) {}
  void reset() noexcept {
    if (handle_) handle_.destroy();
    handle_ = {};
  }
  Handle handle_;
};

}  // namespace pgv::async
