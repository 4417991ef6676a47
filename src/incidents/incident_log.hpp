#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "incidents/history.hpp"
#include "incidents/record.hpp"

namespace pgv::incidents {

// What the watcher writes and HTTP reads: each target's short history and the incidents,
// open and recent. Readers get immutable shared copies and never wait on a write for long.
// Thread-safe.
class IncidentLog {
 public:
  explicit IncidentLog(std::size_t keep = 50) : keep_(keep) {}

  // Histories, by target name.
  void publish_history(std::shared_ptr<const TargetHistory> history);
  void remove_history(const std::string& target);
  std::shared_ptr<const TargetHistory> history(const std::string& target) const;
  std::map<std::string, std::shared_ptr<const TargetHistory>> histories() const;

  // Adds or replaces (by id) a record; then the oldest closed ones beyond `keep` are
  // forgotten (never an open one), as they are when `keep` is lowered.
  void publish(std::shared_ptr<const IncidentRecord> record);
  std::shared_ptr<const IncidentRecord> find(const std::string& id) const;
  // Newest first (by opened time).
  std::vector<std::shared_ptr<const IncidentRecord>> list() const;
  void set_keep(std::size_t keep);

 private:
  void forget_beyond_keep();  // with mutex_ held

  mutable std::mutex mutex_;
  std::size_t keep_;
  std::map<std::string, std::shared_ptr<const TargetHistory>> histories_;
  std::vector<std::shared_ptr<const IncidentRecord>> records_;  // newest first
};

}  // namespace pgv::incidents
