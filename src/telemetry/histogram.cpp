#include "telemetry/histogram.hpp"

#include <algorithm>
#include <cmath>
#include <list>
#include <mutex>
#include <stdexcept>

#include "telemetry/text_writer.hpp"

namespace pgv::telemetry {

// Every distinct list of bounds, made once: an agent has two or three of them.
const Histogram::Bounds* Histogram::intern(const BucketBoundaries& bounds) {
  if (bounds.size() > Histogram::kMaxBounds || !std::is_sorted(bounds.begin(), bounds.end())) {
    throw std::invalid_argument("histogram: at most 31 bucket bounds, ascending");
  }
  static std::mutex mutex;
  static std::list<Bounds> known;  // a list: its elements never move
  std::lock_guard lock(mutex);
  for (const auto& b : known) {
    if (b.values == bounds) return &b;
  }
  Bounds made{bounds, {}};
  for (std::size_t i = 0; i <= bounds.size(); ++i) {
    char digits[32];
    const double bound = i < bounds.size() ? bounds[i] : HUGE_VAL;
    made.le.push_back("le=\"" + std::string(digits, TextWriter::format(bound, digits)) + '"');
  }
  return &known.emplace_back(std::move(made));
}

Histogram::Histogram(const BucketBoundaries& bounds)
    : bounds_(intern(bounds)),
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds.size() + 1)) {}

void Histogram::Observe(double value) noexcept {
  // The first bound at or above the value: Prometheus' buckets are "less than or equal".
  // NaN compares false with every bound, and goes to +Inf, as prometheus-cpp's did.
  const std::size_t at =
      std::isnan(value) ? bounds_->values.size()
                        : static_cast<std::size_t>(std::lower_bound(bounds_->values.begin(),
                                                                    bounds_->values.end(), value) -
                                                   bounds_->values.begin());
  counts_[at].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

}  // namespace pgv::telemetry
