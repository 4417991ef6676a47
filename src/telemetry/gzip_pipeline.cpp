#include "telemetry/gzip_pipeline.hpp"

#include <pthread.h>

#include <stdexcept>
#include <utility>

namespace pgv::telemetry {

GzipPipeline::GzipPipeline() : worker_([this] { run(); }) {
  ::pthread_setname_np(worker_.native_handle(), "pgv-gzip");
}

GzipPipeline::~GzipPipeline() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  changed_.notify_all();
  worker_.join();
}

void GzipPipeline::wait_idle(std::unique_lock<std::mutex>& lock) {
  changed_.wait(lock, [&] { return queue_.empty() && !busy_; });
}

void GzipPipeline::begin(int level, std::size_t reserve) {
  std::unique_lock lock(mutex_);
  discard_ = true;
  changed_.notify_all();
  wait_idle(lock);
  discard_ = false;
  failed_ = nullptr;
  gz_.emplace(level, reserve);
}

void GzipPipeline::write(std::string_view chunk) {
  std::string copy;
  {
    std::unique_lock lock(mutex_);
    if (!gz_) throw std::logic_error("GzipPipeline: write outside a stream");
    changed_.wait(lock, [&] { return queue_.size() < kDepth || failed_; });
    if (failed_) std::rethrow_exception(failed_);
    if (!spare_.empty()) {
      copy = std::move(spare_.back());
      spare_.pop_back();
    }
  }
  copy.assign(chunk);  // outside the lock: only the caller's thread adds to the queue
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(copy));
  }
  changed_.notify_all();
}

std::string GzipPipeline::finish() {
  std::unique_lock lock(mutex_);
  if (!gz_) throw std::logic_error("GzipPipeline: finish outside a stream");
  changed_.wait(lock, [&] { return (queue_.empty() && !busy_) || failed_; });
  if (failed_) std::rethrow_exception(failed_);
  // The worker is idle and waits for the lock: the writer is this thread's now.
  std::string out = gz_->finish();
  gz_.reset();
  spare_.clear();  // not kept written between scrapes
  return out;
}

void GzipPipeline::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return !queue_.empty() || closing_; });
    if (closing_) return;
    std::string chunk = std::move(queue_.front());
    queue_.erase(queue_.begin());
    if (!discard_ && !failed_) {
      busy_ = true;
      lock.unlock();
      changed_.notify_all();  // a slot is free
      try {
        gz_->write(chunk);
      } catch (...) {
        lock.lock();
        failed_ = std::current_exception();
        lock.unlock();
      }
      lock.lock();
      busy_ = false;
    }
    chunk.clear();
    spare_.push_back(std::move(chunk));
    changed_.notify_all();
  }
}

}  // namespace pgv::telemetry
