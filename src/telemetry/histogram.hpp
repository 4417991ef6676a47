#pragma once

#include <prometheus/metric_type.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace pgv::telemetry {

// A histogram's values, and nothing else. prometheus-cpp's Histogram keeps its own copy of
// the bucket bounds, a mutex and a vector of counters: 340 bytes in three allocations for
// each of a target's seven histograms. Here the bounds are shared by every histogram that
// has them, and the counts are one array.
// Observe() takes no lock, so a rendering that runs beside an observation can show it in
// its bucket and not yet in `_sum`, for that one scrape; `_count` is always the sum of the
// buckets it shows.
class Histogram {
 public:
  using BucketBoundaries = std::vector<double>;
  static constexpr prometheus::MetricType metric_type = prometheus::MetricType::Histogram;
  // A rendering reads the counts onto its stack.
  static constexpr std::size_t kMaxBounds = 31;

  // `bounds` ascending, at most kMaxBounds of them (std::invalid_argument otherwise); an
  // equal list made earlier is shared instead of copied.
  explicit Histogram(const BucketBoundaries& bounds);

  void Observe(double value) noexcept;

  // The upper bounds, +Inf left out.
  std::span<const double> bounds() const noexcept { return bounds_->values; }
  // The `le="…"` label of each bucket, +Inf's last: formatted once per list of bounds, not
  // at every rendering (a fleet's text is two thirds bucket lines).
  std::span<const std::string> le_labels() const noexcept { return bounds_->le; }
  // The observations in bucket `i` alone (not cumulative); bounds().size() is +Inf's.
  std::uint64_t bucket(std::size_t i) const noexcept {
    return counts_[i].load(std::memory_order_relaxed);
  }
  double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }

 private:
  struct Bounds {
    BucketBoundaries values;
    std::vector<std::string> le;
  };
  static const Bounds* intern(const BucketBoundaries& bounds);

  const Bounds* bounds_;  // interned: lives as long as the process
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
  std::atomic<double> sum_{0};
};

}  // namespace pgv::telemetry
