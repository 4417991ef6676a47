#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "http/response.hpp"

namespace pgv::http {

// One answer computed off the event loop. The loop waits for fd() to turn readable (an
// eventfd, so the wait has the loop's deadline and cancellation like any socket); the
// worker thread stores the answer first. Shared by both sides, so a connection that is
// dropped while its answer renders leaves nothing dangling.
class OffloadJob {
 public:
  explicit OffloadJob(std::function<Response()> work);
  ~OffloadJob();
  OffloadJob(const OffloadJob&) = delete;
  OffloadJob& operator=(const OffloadJob&) = delete;
  OffloadJob(OffloadJob&&) = delete;
  OffloadJob& operator=(OffloadJob&&) = delete;

  int fd() const noexcept { return fd_; }
  // Whether the answer is stored; take() is valid only then (it checks, and throws
  // std::logic_error before), and only once.
  bool done() const noexcept { return done_.load(std::memory_order_acquire); }
  Response take();
  // Nobody waits any more: a job not yet started is skipped.
  void abandon() noexcept { abandoned_.store(true, std::memory_order_release); }

 private:
  friend class Offload;
  void run();

  std::function<Response()> work_;
  Response result_;
  int fd_ = -1;
  std::atomic<bool> done_{false};
  std::atomic<bool> abandoned_{false};
};

// A thread of its own for the answers that take time: a fleet's /metrics (15 MB rendered
// in 0.5 s alone, 35 s on a loaded machine), the status page's JSON. On the event loop
// they held every health check queued behind them; here the loop only waits on a
// descriptor. One thread: the renderings share a lock and a 100 ms cache anyway, and a
// second one would only take a core from the probes. Bounded, so a flood of scrapes is
// refused instead of queued without end.
class Offload {
 public:
  explicit Offload(std::size_t max_queued);
  ~Offload();
  Offload(const Offload&) = delete;
  Offload& operator=(const Offload&) = delete;
  Offload(Offload&&) = delete;
  Offload& operator=(Offload&&) = delete;

  // Thread-safe. The job, queued; null when max_queued jobs already wait or after stop().
  std::shared_ptr<OffloadJob> submit(std::function<Response()> work);
  // Drops what has not started, lets the running job finish, joins. Idempotent.
  void stop();

 private:
  void run();

  const std::size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<OffloadJob>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace pgv::http
