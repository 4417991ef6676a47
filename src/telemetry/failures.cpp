#include "telemetry/failures.hpp"

namespace pgv::telemetry {

void FailureRing::push(FailureRecord record) {
  std::lock_guard lock(mutex_);
  records_.push_back(std::move(record));
  ++total_;
  while (records_.size() > capacity_) records_.pop_front();
}

std::vector<FailureRecord> FailureRing::recent(std::string_view target, std::size_t limit) const {
  std::lock_guard lock(mutex_);
  std::vector<FailureRecord> out;
  for (auto it = records_.rbegin(); it != records_.rend() && out.size() < limit; ++it) {
    if (target.empty() || it->target == target) out.push_back(*it);
  }
  return out;
}

void FailureRing::set_capacity(std::size_t capacity) {
  std::lock_guard lock(mutex_);
  capacity_ = capacity;
  while (records_.size() > capacity_) records_.pop_front();
}

std::size_t FailureRing::capacity() const {
  std::lock_guard lock(mutex_);
  return capacity_;
}

std::uint64_t FailureRing::total() const {
  std::lock_guard lock(mutex_);
  return total_;
}

}  // namespace pgv::telemetry
