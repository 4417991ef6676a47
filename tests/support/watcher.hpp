#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace pgv::testing {

// Polls an agent's /livez, /healthz and /metrics every few milliseconds on a thread of its
// own and keeps every answer, so a fault test can ask afterwards: was the agent always
// there, how slow was its slowest answer, when did /healthz change.
class Watcher {
 public:
  struct Sample {
    std::chrono::steady_clock::time_point at;
    std::string path;
    int status;
    double seconds;
  };

  explicit Watcher(int port, std::chrono::milliseconds every = std::chrono::milliseconds(20));
  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;
  Watcher(Watcher&&) = delete;
  Watcher& operator=(Watcher&&) = delete;

  std::vector<Sample> samples() const;
  // Waits until the watcher has asked `path` again after this call: the other thread's
  // view of the agent has caught up with what the caller just saw.
  void catch_up(const std::string& path = "/healthz") const;
  // The slowest answer to `path` since `from` (seconds); 0 if none.
  double slowest(const std::string& path, std::chrono::steady_clock::time_point from) const;
  // Answers to `path` since `from` that were not `status` (or no answer at all).
  int count_not(const std::string& path, int status,
                std::chrono::steady_clock::time_point from) const;
  // Seconds from `from` to the first answer to `path` with `status`, if any.
  std::optional<double> first(const std::string& path, int status,
                              std::chrono::steady_clock::time_point from) const;

 private:
  int port_;
  std::chrono::milliseconds every_;
  mutable std::mutex mutex_;
  std::vector<Sample> samples_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace pgv::testing
