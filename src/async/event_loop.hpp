#pragma once

#include <atomic>
#include <exception>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "async/executor.hpp"
#include "async/task.hpp"

namespace pgv::async {

// An epoll loop that drives many suspended coroutines on one thread: each waits for a
// socket or a deadline, and a hung peer only ever costs its own coroutine time.
class EventLoop final : public Executor {
 public:
  EventLoop();
  ~EventLoop() override;
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;
  EventLoop(EventLoop&&) = delete;
  EventLoop& operator=(EventLoop&&) = delete;

  WaitId wait_io(int fd, Interest interest, Deadline deadline, Scope scope,
                 Callback callback) override;
  WaitId wait_until(Deadline deadline, Scope scope, Callback callback) override;
  void forget(WaitId id) override;
  void post(std::function<void()> fn) override;

  // Thread-safe. Starts `task` on this loop; `done` runs on the loop thread when it ends,
  // with the exception it ended with, if any.
  void spawn(Task<void> task, Scope scope, std::function<void(std::exception_ptr)> done = nullptr);
  // Thread-safe. Every current and future wait in `scope` ends with Outcome::cancelled
  // until release_scope() is called for it (from the loop thread).
  void cancel_scope(Scope scope);
  void release_scope(Scope scope);

  // Runs until stop(); then cancels what is still waiting and lets it unwind.
  void run();
  // Thread-safe.
  void stop();
  // One round of dispatch; blocks at most until `limit`.
  void run_once(Deadline limit);

  std::size_t pending_waits() const noexcept { return waits_.size(); }
  // For tests: entries in the timer heap (live or not yet compacted) and scopes held
  // cancelled. Both stay bounded by what is live.
  std::size_t timer_entries() const noexcept { return timers_.size(); }
  std::size_t cancelled_scopes() const noexcept { return cancelled_scopes_.size(); }

  // A loop owned by the calling thread, for running one task to completion (see blocking.hpp).
  static EventLoop& for_this_thread();

 private:
  struct Wait {
    int fd;
    Scope scope;
    Callback callback;
  };
  struct Timer {
    Deadline when;
    WaitId id;
    // std::push_heap keeps the largest on top: "larger" is the later deadline.
    bool operator<(const Timer& other) const noexcept { return when > other.when; }
  };

  WaitId add_wait(int fd, Interest interest, Deadline deadline, Scope scope, Callback callback);
  bool complete(WaitId id, Outcome outcome);
  void complete_later(Callback callback, Outcome outcome);
  // Each returns whether it ran anything.
  bool run_posted();
  bool fire_timers(Deadline now);
  void push_timer(Timer timer);
  void compact_timers();
  void cancel_matching(bool all, Scope scope);
  void drain();

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  WaitId next_id_ = 1;
  std::unordered_map<WaitId, Wait> waits_;
  // A binary heap (std::push_heap) of deadlines. A wait that ends early leaves its entry
  // behind; compact_timers() drops those once they outnumber the live ones.
  std::vector<Timer> timers_;
  std::vector<std::pair<Callback, Outcome>> ready_;
  std::unordered_set<Scope> cancelled_scopes_;
  // Spawned tasks still running, per scope: a cancel that arrives after the last one ended
  // has nothing to cancel, and must not leave its scope in cancelled_scopes_ for ever.
  std::unordered_map<Scope, std::size_t> live_tasks_;
  bool draining_ = false;

  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
  std::atomic<bool> stop_requested_{false};
};

// A process-wide unique scope id.
Scope new_scope();

}  // namespace pgv::async
