#pragma once

#include <stdexcept>

#include "async/event_loop.hpp"
#include "async/task.hpp"

namespace pgv::async {

namespace detail {
inline thread_local int blocking_depth = 0;
}

// Runs one task to completion on the calling thread, for callers outside the scheduler
// (tests, `pgvitals check`, the pool's blocking acquire). Never call it from a coroutine:
// it would stall every other coroutine of that thread's loop.
template <class T>
T run_blocking(Task<T> task) {
  if (detail::blocking_depth > 0) {
    throw std::logic_error("run_blocking called from inside a task run by run_blocking");
  }
  EventLoop& loop = EventLoop::for_this_thread();
  auto handle = task.handle();
  handle.promise().context = Context{&loop, 0};
  ++detail::blocking_depth;
  struct Exit {
    ~Exit() { --detail::blocking_depth; }
  } exit_guard;
  handle.resume();
  while (!handle.done()) loop.run_once(Deadline::max());
  return handle.promise().take();
}

}  // namespace pgv::async
