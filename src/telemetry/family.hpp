#pragma once

#include <prometheus/collectable.h>
#include <prometheus/family.h>
#include <prometheus/labels.h>
#include <prometheus/metric_family.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgv::telemetry {

// One metric family of the exposition, its series kept in shards by their `target` label.
// prometheus-cpp's Family::Remove searches all of a family's series for the one to drop,
// so each target removed from a fleet of 1,000 cost 36-43 ms, a reload that dropped a tenth
// of it held its worker loop for 2-3 s, and the cost grew with the square of the fleet
// (bench/render_cost). A removal here searches one shard: a 64th of the fleet.
template <class T>
class Family final : public prometheus::Collectable {
 public:
  static constexpr std::size_t kShards = 64;

  Family(std::string name, std::string help) : name_(std::move(name)), help_(std::move(help)) {}

  // `labels` name the series, its `target` label (if any) the shard.
  template <class... Args>
  T& Add(const prometheus::Labels& labels, Args&&... args) {
    const auto target = labels.find("target");
    return shard(target == labels.end() ? 0 : shard_of(target->second))
        .Add(labels, std::forward<Args>(args)...);
  }

  // `target` is the value of the series' `target` label ("" for a series without one).
  void Remove(std::string_view target, T* metric) {
    if (auto* s = shards_[target.empty() ? 0 : shard_of(target)].load(std::memory_order_acquire)) {
      s->Remove(metric);
    }
  }

  // Every shard's series under one name, help and type; nothing for a family without series.
  std::vector<prometheus::MetricFamily> Collect() const override {
    prometheus::MetricFamily family;
    family.name = name_;
    family.help = help_;
    family.type = T::metric_type;
    for (const auto& slot : shards_) {
      const auto* s = slot.load(std::memory_order_acquire);
      if (s == nullptr) continue;
      for (auto& part : s->Collect()) {
        for (auto& metric : part.metric) family.metric.push_back(std::move(metric));
      }
    }
    if (family.metric.empty()) return {};
    std::vector<prometheus::MetricFamily> out;
    out.push_back(std::move(family));
    return out;
  }

 private:
  static std::size_t shard_of(std::string_view target) noexcept {
    return std::hash<std::string_view>{}(target) % kShards;
  }

  // A shard, made at its first series and kept for the family's life; each has its own
  // mutex, so a rendering collecting one shard holds up only that shard's Add and Remove.
  prometheus::Family<T>& shard(std::size_t i) {
    if (auto* s = shards_[i].load(std::memory_order_acquire)) return *s;
    std::lock_guard lock(mutex_);
    if (auto* s = shards_[i].load(std::memory_order_acquire)) return *s;
    // Named like this family (prometheus-cpp checks the name); the exposition takes this
    // family's name, help and type.
    owned_.push_back(std::make_unique<prometheus::Family<T>>(name_, "", prometheus::Labels{}));
    shards_[i].store(owned_.back().get(), std::memory_order_release);
    return *owned_.back();
  }

  const std::string name_;
  const std::string help_;
  std::array<std::atomic<prometheus::Family<T>*>, kShards> shards_{};
  std::mutex mutex_;  // guards owned_ and the making of a shard
  std::vector<std::unique_ptr<prometheus::Family<T>>> owned_;
};

}  // namespace pgv::telemetry
