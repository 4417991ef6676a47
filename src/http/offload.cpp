#include "http/offload.hpp"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <system_error>

namespace pgv::http {

OffloadJob::OffloadJob(std::function<Response()> work) : work_(std::move(work)) {
  fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

OffloadJob::~OffloadJob() {
  ::close(fd_);
}

Response OffloadJob::take() {
  // The acquire that pairs with run()'s release: the answer was stored before `done_`.
  if (!done()) throw std::logic_error("OffloadJob::take before the answer is stored");
  return std::move(result_);
}

void OffloadJob::run() {
  if (!abandoned_.load(std::memory_order_acquire)) {
    try {
      result_ = work_();
    } catch (const std::exception&) {
      result_ = Response{};
      result_.status = 500;
      result_.body = "internal error\n";
    }
  }
  work_ = nullptr;  // what the work captured (a request) goes with the worker's turn
  done_.store(true, std::memory_order_release);
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(fd_, &one, sizeof one);
}

Offload::Offload(std::size_t max_queued) : max_queued_(max_queued) {
  thread_ = std::thread([this] { run(); });
  // Named so top, ps and bench/fleet can tell the renderings' CPU from the probes'.
  ::pthread_setname_np(thread_.native_handle(), "pgv-render");
}

Offload::~Offload() {
  stop();
}

std::shared_ptr<OffloadJob> Offload::submit(std::function<Response()> work) {
  auto job = std::make_shared<OffloadJob>(std::move(work));
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= max_queued_) return nullptr;
    queue_.push_back(job);
  }
  wake_.notify_one();
  return job;
}

void Offload::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto& job : queue_) job->abandon();
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Offload::run() {
  for (;;) {
    std::shared_ptr<OffloadJob> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to release
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    // Abandoned jobs still complete (without working), so every waiter's descriptor turns
    // readable and nothing waits for an answer that will never come.
    job->run();
  }
}

}  // namespace pgv::http
