#include "watcher.hpp"

#include "agent_process.hpp"

namespace pgv::testing {

Watcher::Watcher(int port, std::chrono::milliseconds every) : port_(port), every_(every) {
  thread_ = std::thread([this] {
    while (!stop_) {
      for (const char* path : {"/livez", "/healthz", "/metrics"}) {
        const auto at = std::chrono::steady_clock::now();
        const HttpResult r = http_get(port_, path, {}, std::chrono::seconds(2));
        std::lock_guard lock(mutex_);
        samples_.push_back({at, path, r.status, r.seconds});
      }
      std::this_thread::sleep_for(every_);
    }
  });
}

Watcher::~Watcher() {
  stop_ = true;
  thread_.join();
}

void Watcher::catch_up(const std::string& path) const {
  const auto now = std::chrono::steady_clock::now();
  const auto until = now + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < until) {
    {
      std::lock_guard lock(mutex_);
      for (auto it = samples_.rbegin(); it != samples_.rend(); ++it) {
        if (it->path == path) {
          if (it->at >= now) return;
          break;
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::vector<Watcher::Sample> Watcher::samples() const {
  std::lock_guard lock(mutex_);
  return samples_;
}

double Watcher::slowest(const std::string& path, std::chrono::steady_clock::time_point from) const {
  double worst = 0;
  for (const auto& s : samples()) {
    if (s.path == path && s.at >= from) worst = std::max(worst, s.seconds);
  }
  return worst;
}

int Watcher::count_not(const std::string& path, int status,
                       std::chrono::steady_clock::time_point from) const {
  int n = 0;
  for (const auto& s : samples()) {
    if (s.path == path && s.at >= from && s.status != status) ++n;
  }
  return n;
}

std::optional<double> Watcher::first(const std::string& path, int status,
                                     std::chrono::steady_clock::time_point from) const {
  for (const auto& s : samples()) {
    if (s.path == path && s.at >= from && s.status == status) {
      return std::chrono::duration<double>(s.at - from).count();
    }
  }
  return std::nullopt;
}

}  // namespace pgv::testing
