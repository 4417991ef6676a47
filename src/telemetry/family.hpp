#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/labels.h>
#include <prometheus/metric_type.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "telemetry/text_writer.hpp"

namespace pgv::telemetry {

// What Metrics renders: one family of the exposition.
class FamilyBase {
 public:
  virtual ~FamilyBase() = default;
  // The family's text, nothing for a family without series.
  virtual void render(TextWriter& out) const = 0;
  // Remove() for a series whose type the caller no longer knows: a target keeps one
  // (family, series) pair per series it made, 16 bytes, to remove them all when it goes.
  virtual void remove_series(std::string_view target, const void* metric) = 0;
};

// One metric family of the exposition. prometheus-cpp keeps the values (its Gauge, Counter
// and Histogram), this keeps the series: each one's labels as the text the exposition
// prints, made once when the series is added, in shards by its `target` label.
// - prometheus-cpp's own Family kept every series' labels as a std::map of strings and
//   copied each series into a MetricFamily at every scrape, for its serializer to format
//   through an ostream: 44.7 KiB of heap a target, and most of a 1,000-target rendering.
// - Its Remove searched all of a family's series, so a reload that dropped a tenth of a
//   1,000-target fleet held its worker loop for 2-3 s; here a removal searches one shard.
template <class T>
class Family final : public FamilyBase {
 public:
  static constexpr std::size_t kShards = 64;

  Family(std::string name, std::string help) : name_(std::move(name)), help_(std::move(help)) {}

  // The series named by `labels`, made with `args` (a histogram's buckets) unless it
  // exists; its `target` label (if any) picks the shard. The reference stays valid until
  // Remove.
  template <class... Args>
  T& Add(const prometheus::Labels& labels, Args&&... args) {
    const auto target = labels.find("target");
    Shard& s = shards_[target == labels.end() ? 0 : shard_of(target->second)];
    std::string text = TextWriter::label_text(labels);
    std::lock_guard lock(s.mutex);
    for (const auto& series : s.series) {
      if (series->labels == text) return series->metric;
    }
    s.series.push_back(std::make_unique<Series>(std::move(text), std::forward<Args>(args)...));
    return s.series.back()->metric;
  }

  // `target` is the value of the series' `target` label ("" for a series without one).
  void Remove(std::string_view target, const T* metric) {
    Shard& s = shards_[target.empty() ? 0 : shard_of(target)];
    std::lock_guard lock(s.mutex);
    for (auto it = s.series.begin(); it != s.series.end(); ++it) {
      if (&(*it)->metric != metric) continue;
      // Order within a family does not matter to the exposition: fill the gap from the end.
      if (it != s.series.end() - 1) *it = std::move(s.series.back());
      s.series.pop_back();
      return;
    }
  }

  void remove_series(std::string_view target, const void* metric) override {
    Remove(target, static_cast<const T*>(metric));
  }

  void render(TextWriter& out) const override {
    bool headed = false;
    for (const Shard& s : shards_) {
      std::lock_guard lock(s.mutex);
      for (const auto& series : s.series) {
        if (!headed) out.head(name_, help_, type_name());
        headed = true;
        write(out, series->labels, series->metric);
      }
    }
  }

  // Series count, for tests.
  std::size_t size() const {
    std::size_t n = 0;
    for (const Shard& s : shards_) {
      std::lock_guard lock(s.mutex);
      n += s.series.size();
    }
    return n;
  }

 private:
  struct Series {
    template <class... Args>
    explicit Series(std::string text, Args&&... args)
        : labels(std::move(text)), metric(std::forward<Args>(args)...) {}
    std::string labels;
    T metric;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::vector<std::unique_ptr<Series>> series;
  };

  static std::size_t shard_of(std::string_view target) noexcept {
    return std::hash<std::string_view>{}(target) % kShards;
  }

  static constexpr std::string_view type_name() {
    if constexpr (T::metric_type == prometheus::MetricType::Counter) return "counter";
    if constexpr (T::metric_type == prometheus::MetricType::Histogram) return "histogram";
    return "gauge";
  }

  void write(TextWriter& out, const std::string& labels, const T& metric) const {
    if constexpr (T::metric_type == prometheus::MetricType::Histogram) {
      // Collect() is the only reader of the bucket counts; its order (count, sum, the
      // buckets, +Inf) is the one prometheus-cpp's serializer wrote.
      const auto h = metric.Collect().histogram;
      out.sample(name_, "_count", labels, "", h.sample_count);
      out.sample(name_, "_sum", labels, "", h.sample_sum);
      char le[40] = "le=\"";
      for (const auto& bucket : h.bucket) {
        const std::size_t n = TextWriter::format(bucket.upper_bound, le + 4);
        le[4 + n] = '"';
        out.sample(name_, "_bucket", labels, std::string_view(le, n + 5), bucket.cumulative_count);
      }
    } else {
      out.sample(name_, "", labels, "", metric.Value());
    }
  }

  const std::string name_;
  const std::string help_;
  std::array<Shard, kShards> shards_;
};

}  // namespace pgv::telemetry
