#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/labels.h>
#include <prometheus/metric_type.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "telemetry/histogram.hpp"
#include "telemetry/text_writer.hpp"

namespace pgv::telemetry {

// What Metrics renders: one family of the exposition.
class FamilyBase {
 public:
  virtual ~FamilyBase() = default;
  // The family's text, nothing for a family without series.
  virtual void render(TextWriter& out) const = 0;
  // Removes every series whose `target` label is `target`: what a target made goes with it,
  // without the target keeping a list of its series.
  virtual void remove_target(std::string_view target) = 0;
};

// One metric family of the exposition. prometheus-cpp's Gauge and Counter (and our
// Histogram) keep the values, this keeps the series: each one's labels as the text the
// exposition prints, made once when the series is added and stored in the same allocation
// as its value, in shards by its `target` label.
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
    return Ensure(labels, std::forward<Args>(args)...).first;
  }

  // Add(), and whether this call made the series.
  template <class... Args>
  std::pair<T&, bool> Ensure(const prometheus::Labels& labels, Args&&... args) {
    const auto target = labels.find("target");
    Shard& s = shards_[target == labels.end() ? 0 : shard_of(target->second)];
    const std::string text = TextWriter::label_text(labels);
    std::lock_guard lock(s.mutex);
    for (const auto& series : s.series) {
      if (series->labels() == text) return {series->metric, false};
    }
    s.series.push_back(Series::make(text, std::forward<Args>(args)...));
    return {s.series.back()->metric, true};
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

  void remove_target(std::string_view target) override {
    const std::string label = TextWriter::label_text({{"target", std::string(target)}});
    Shard& s = shards_[shard_of(target)];
    std::lock_guard lock(s.mutex);
    std::erase_if(s.series, [&](const auto& series) { return has_label(series->labels(), label); });
  }

  void render(TextWriter& out) const override {
    bool headed = false;
    for (const Shard& s : shards_) {
      std::lock_guard lock(s.mutex);
      const auto& list = s.series;
      for (std::size_t i = 0; i < list.size(); ++i) {
        // A fleet's series are scattered over tens of MiB, and the loop waited on memory
        // for each: ask for the one a few places ahead while this one is written (a sixth
        // of the render thread's CPU, docs/BENCHMARKS.md).
        if (i + kAhead < list.size()) {
          const auto* ahead = reinterpret_cast<const char*>(list[i + kAhead].get());
          __builtin_prefetch(ahead);
          __builtin_prefetch(ahead + 64);  // the rest of its label text
        }
        if (!headed) out.head(name_, help_, type_name());
        headed = true;
        write(out, list[i]->labels(), list[i]->metric);
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
  // How far ahead render() asks for a series' memory (see there).
  static constexpr std::size_t kAhead = 4;

  // A series' value with its label text right after it, in one allocation: a series is
  // ~80 bytes, where a std::string member and its own buffer took ~130.
  struct Series {
    struct Free {
      void operator()(Series* s) const noexcept {
        const std::size_t bytes = sizeof(Series) + s->size;
        std::destroy_at(s);
        std::allocator<Series>{}.deallocate(s, units(bytes));
      }
    };
    using Ptr = std::unique_ptr<Series, Free>;

    template <class... Args>
    static Ptr make(std::string_view text, Args&&... args) {
      const std::size_t n = units(sizeof(Series) + text.size());
      Series* raw = std::allocator<Series>{}.allocate(n);
      try {
        std::construct_at(raw, static_cast<std::uint32_t>(text.size()),
                          std::forward<Args>(args)...);
      } catch (...) {  // a histogram's bounds refused: the block is not a Series yet
        std::allocator<Series>{}.deallocate(raw, n);
        throw;
      }
      Ptr s(raw);
      std::memcpy(s->text(), text.data(), text.size());
      return s;
    }

    template <class... Args>
    explicit Series(std::uint32_t n, Args&&... args)
        : metric(std::forward<Args>(args)...), size(n) {}

    std::string_view labels() const noexcept { return {text(), size}; }

    T metric;
    std::uint32_t size;

   private:
    // The text lives in the Series-sized units allocated after the object.
    static std::size_t units(std::size_t bytes) noexcept {
      return (bytes + sizeof(Series) - 1) / sizeof(Series);
    }
    char* text() noexcept { return reinterpret_cast<char*>(this + 1); }
    const char* text() const noexcept { return reinterpret_cast<const char*>(this + 1); }
  };
  struct Shard {
    mutable std::mutex mutex;
    std::vector<typename Series::Ptr> series;
  };

  // Whether `text` (label_text's `name="value",...`) holds `label` (`name="value"`) whole. A
  // value is escaped, so a bare quote in `text` delimits a value: a match that begins and
  // ends at label boundaries is that label, never a part of another label's value.
  static bool has_label(std::string_view text, std::string_view label) noexcept {
    for (auto at = text.find(label); at != std::string_view::npos; at = text.find(label, at + 1)) {
      const std::size_t end = at + label.size();
      if ((at == 0 || text[at - 1] == ',') && (end == text.size() || text[end] == ',')) return true;
    }
    return false;
  }

  static std::size_t shard_of(std::string_view target) noexcept {
    return std::hash<std::string_view>{}(target) % kShards;
  }

  static constexpr std::string_view type_name() {
    if constexpr (T::metric_type == prometheus::MetricType::Counter) return "counter";
    if constexpr (T::metric_type == prometheus::MetricType::Histogram) return "histogram";
    return "gauge";
  }

  void write(TextWriter& out, std::string_view labels, const T& metric) const {
    if constexpr (T::metric_type == prometheus::MetricType::Histogram) {
      // The order (count, sum, the buckets, +Inf) is the one prometheus-cpp's serializer
      // wrote. The buckets are read once, so `_count` is the +Inf bucket's count.
      const auto bounds = metric.bounds();
      std::array<std::uint64_t, Histogram::kMaxBounds + 1> counts{};
      std::uint64_t count = 0;
      for (std::size_t i = 0; i <= bounds.size(); ++i) count += counts[i] = metric.bucket(i);
      out.sample(name_, "_count", labels, "", count);
      out.sample(name_, "_sum", labels, "", metric.sum());
      const auto le = metric.le_labels();
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i <= bounds.size(); ++i) {
        cumulative += counts[i];
        out.sample(name_, "_bucket", labels, le[i], cumulative);
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
