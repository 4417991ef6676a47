#include "telemetry/series_set.hpp"

namespace pgv::telemetry {
namespace {

prometheus::Labels with_target(prometheus::Labels labels, const std::string& target) {
  labels.emplace("target", target);
  return labels;
}

}  // namespace

void SeriesSet::replace(const std::map<prometheus::Labels, double>& values) {
  for (auto it = series_.begin(); it != series_.end();) {
    if (values.contains(it->first)) {
      ++it;
      continue;
    }
    family_->Remove(target_, it->second);
    it = series_.erase(it);
  }
  for (const auto& [labels, value] : values) {
    auto it = series_.find(labels);
    if (it == series_.end()) {
      it = series_.emplace(labels, &family_->Add(with_target(labels, target_))).first;
    }
    it->second->Set(value);
  }
}

void SeriesSet::clear() {
  for (const auto& [labels, gauge] : series_) family_->Remove(target_, gauge);
  series_.clear();
}

void CounterSet::replace(const std::map<prometheus::Labels, double>& totals) {
  for (auto it = series_.begin(); it != series_.end();) {
    const auto next = totals.find(it->first);
    if (next != totals.end() && next->second >= it->second.total) {
      ++it;
      continue;
    }
    family_->Remove(target_, it->second.counter);
    it = series_.erase(it);
  }
  for (const auto& [labels, total] : totals) {
    auto it = series_.find(labels);
    if (it == series_.end()) {
      prometheus::Counter& counter = family_->Add(with_target(labels, target_));
      it = series_.emplace(labels, Series{&counter, 0.0}).first;
    }
    it->second.counter->Increment(total - it->second.total);
    it->second.total = total;
  }
}

void CounterSet::clear() {
  for (const auto& [labels, s] : series_) family_->Remove(target_, s.counter);
  series_.clear();
}

}  // namespace pgv::telemetry
