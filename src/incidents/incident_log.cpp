#include "incidents/incident_log.hpp"

#include <algorithm>

namespace pgv::incidents {

void IncidentLog::publish_history(std::shared_ptr<const TargetHistory> history) {
  const std::lock_guard lock(mutex_);
  histories_[history->target] = std::move(history);
}

void IncidentLog::remove_history(const std::string& target) {
  const std::lock_guard lock(mutex_);
  histories_.erase(target);
}

std::shared_ptr<const TargetHistory> IncidentLog::history(const std::string& target) const {
  const std::lock_guard lock(mutex_);
  const auto it = histories_.find(target);
  return it == histories_.end() ? nullptr : it->second;
}

std::map<std::string, std::shared_ptr<const TargetHistory>> IncidentLog::histories() const {
  const std::lock_guard lock(mutex_);
  return histories_;
}

void IncidentLog::publish(std::shared_ptr<const IncidentRecord> record) {
  const std::lock_guard lock(mutex_);
  auto same = std::find_if(records_.begin(), records_.end(),
                           [&](const auto& r) { return r->id == record->id; });
  if (same != records_.end()) {
    *same = std::move(record);
  } else {
    const auto later = std::find_if(records_.begin(), records_.end(), [&](const auto& r) {
      return r->opened_unix < record->opened_unix;
    });
    records_.insert(later, std::move(record));
  }
  // Also when a record is replaced: incidents that opened together (a fleet-wide outage)
  // can only be forgotten once they close, and a closing is a replacement.
  forget_beyond_keep();
}

void IncidentLog::forget_beyond_keep() {
  // The oldest closed ones; an open incident stays whatever its age.
  for (std::size_t i = records_.size(); i-- > 0 && records_.size() > keep_;) {
    if (!records_[i]->open()) records_.erase(records_.begin() + static_cast<std::ptrdiff_t>(i));
  }
}

std::shared_ptr<const IncidentRecord> IncidentLog::find(const std::string& id) const {
  const std::lock_guard lock(mutex_);
  for (const auto& r : records_) {
    if (r->id == id) return r;
  }
  return nullptr;
}

std::vector<std::shared_ptr<const IncidentRecord>> IncidentLog::list() const {
  const std::lock_guard lock(mutex_);
  return records_;
}

void IncidentLog::set_keep(std::size_t keep) {
  const std::lock_guard lock(mutex_);
  keep_ = keep;
  forget_beyond_keep();
}

}  // namespace pgv::incidents
