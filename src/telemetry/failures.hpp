#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgv::telemetry {

// One failed probe, as on-call needs it: what, where, which step, how long each step took.
struct FailureRecord {
  double time_unix = 0;
  std::string target;
  std::string probe;
  std::string phase;  // connect, pre_ping, acquire, query
  std::string reason;
  std::string sqlstate;
  std::string message;  // redacted
  int backend_pid = 0;
  double seconds = 0;
  std::vector<std::pair<std::string, double>> phases;
  std::string hop;  // a target reached through a pooler: pooler, server or unknown
  std::string hop_detail;
};

// The most recent failures, oldest dropped first. Thread-safe.
class FailureRing {
 public:
  explicit FailureRing(std::size_t capacity = 256) : capacity_(capacity) {}

  void push(FailureRecord record);
  // Newest first; an empty `target` means every target.
  std::vector<FailureRecord> recent(std::string_view target, std::size_t limit) const;
  void set_capacity(std::size_t capacity);
  std::size_t capacity() const;
  std::uint64_t total() const;

 private:
  mutable std::mutex mutex_;
  std::size_t capacity_;
  std::deque<FailureRecord> records_;
  std::uint64_t total_ = 0;
};

}  // namespace pgv::telemetry
