#pragma once

#include <cstdint>
#include <functional>

#include "async/clock.hpp"

namespace pgv::async {

enum class Interest : std::uint8_t { read = 1, write = 2, read_write = 3 };

// How a wait ended. `cancelled` means the owner is shutting the work down: the waiter
// must unwind (see Cancelled) rather than retry.
enum class Outcome : std::uint8_t { ready, timeout, cancelled };

using WaitId = std::uint64_t;
using Callback = std::function<void(Outcome)>;

// Work is grouped into scopes (one per watched target) so one target's work can be
// cancelled without touching the rest of the loop. Scope 0 is never cancelled alone.
using Scope = std::uint64_t;

// Drives suspended coroutines: it is told what each one waits for and resumes it through
// the callback. Callbacks always run on the executor's own thread, never inside the
// registering call.
class Executor {
 public:
  virtual ~Executor() = default;

  virtual WaitId wait_io(int fd, Interest interest, Deadline deadline, Scope scope,
                         Callback callback) = 0;
  virtual WaitId wait_until(Deadline deadline, Scope scope, Callback callback) = 0;
  // Drops a pending wait without calling its callback. Executor thread only.
  virtual void forget(WaitId id) = 0;
  // Thread-safe: runs `fn` on the executor's thread soon.
  virtual void post(std::function<void()> fn) = 0;
};

// Where a coroutine runs; children inherit it from the coroutine that awaits them.
struct Context {
  Executor* executor = nullptr;
  Scope scope = 0;
};

}  // namespace pgv::async
