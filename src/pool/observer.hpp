#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "pg/connect.hpp"
#include "pg/error.hpp"

namespace pgv::pool {

enum class CloseReason : std::uint8_t { recycled, invalidated, overflow, error, shutdown };
inline constexpr std::array<CloseReason, 5> kCloseReasons = {
    CloseReason::recycled, CloseReason::invalidated, CloseReason::overflow, CloseReason::error,
    CloseReason::shutdown};
std::string_view to_string(CloseReason reason) noexcept;

// Told about every pool event as it happens, for metrics that need each sample
// (histograms). Called from whichever thread caused the event, outside the pool's lock.
class PoolObserver {
 public:
  virtual ~PoolObserver() = default;
  virtual void on_connect(const pg::ConnectTiming& /*timing*/) {}
  virtual void on_connect_failed(const pg::Error& /*error*/) {}
  virtual void on_acquire(double /*seconds*/) {}
  virtual void on_timeout() {}
  virtual void on_close(CloseReason /*reason*/) {}
};

// A consistent view of the pool at one instant.
struct PoolStats {
  int idle = 0;
  int in_use = 0;   // checked out, including slots being connected or pinged
  int waiting = 0;  // acquirers queued for a slot
  int max = 0;
  std::uint64_t opened_total = 0;
  std::array<std::uint64_t, kCloseReasons.size()> closed_total{};
  std::uint64_t timeouts_total = 0;
  std::uint64_t acquires_total = 0;
  double acquire_seconds_total = 0;

  std::uint64_t closed(CloseReason r) const noexcept {
    return closed_total[static_cast<std::size_t>(r)];
  }
  std::uint64_t closed_all() const noexcept {
    std::uint64_t sum = 0;
    for (auto v : closed_total) sum += v;
    return sum;
  }
};

}  // namespace pgv::pool
