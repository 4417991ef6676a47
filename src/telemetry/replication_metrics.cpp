#include "telemetry/replication_metrics.hpp"

#include <memory>

namespace pgv::telemetry {
namespace {

using Values = std::map<prometheus::Labels, double>;

// A single unlabelled value, or none.
Values one(const std::optional<double>& value) {
  if (!value) return {};
  return {{prometheus::Labels{}, *value}};
}

Values one(const std::optional<bool>& value) {
  if (!value) return {};
  return {{prometheus::Labels{}, *value ? 1.0 : 0.0}};
}

}  // namespace

ReplicationMetrics::ReplicationMetrics(Metrics& m, const std::string& t)
    : receiver_up_(sets_.add(m.replica_receiver_up, t)),
      lag_bytes_(sets_.add(m.replica_lag_bytes, t)),
      lag_seconds_(sets_.add(m.replica_lag_seconds, t)),
      paused_(sets_.add(m.replica_paused, t)),
      standby_lag_bytes_(sets_.add(m.standby_lag_bytes, t)),
      standby_lag_seconds_(sets_.add(m.standby_lag_seconds, t)),
      standbys_(sets_.add(m.standbys, t)),
      slot_retained_(sets_.add(m.slot_retained_bytes, t)),
      slot_active_(sets_.add(m.slot_active, t)),
      slot_safe_(sets_.add(m.slot_safe_wal_bytes, t)),
      slot_status_(sets_.add(m.slot_wal_status, t)),
      xid_age_(sets_.add(m.xid_age, t)),
      mxid_age_(sets_.add(m.mxid_age, t)),
      freeze_max_age_(sets_.add(m.freeze_max_age, t)),
      multixact_freeze_max_age_(sets_.add(m.multixact_freeze_max_age, t)) {}

void ReplicationMetrics::set(const probes::ReplicationDigest& d) {
  receiver_up_.replace(one(d.receiver_streaming));
  lag_bytes_.replace(one(d.replay_lag_bytes));
  lag_seconds_.replace(one(d.replay_lag_seconds));
  paused_.replace(one(d.replay_paused));

  Values lag_bytes;
  Values lag_seconds;
  for (const auto& s : d.standbys) {
    const prometheus::Labels labels{{"standby", s.name}};
    if (s.lag_bytes) lag_bytes[labels] = *s.lag_bytes;
    if (s.lag_seconds) lag_seconds[labels] = *s.lag_seconds;
  }
  standby_lag_bytes_.replace(lag_bytes);
  standby_lag_seconds_.replace(lag_seconds);
  Values by_state;
  for (const auto& [key, n] : d.standbys_by_state) {
    by_state[{{"state", key.first}, {"sync_state", key.second}}] = n;
  }
  standbys_.replace(by_state);

  Values retained;
  Values active;
  Values safe;
  Values status;
  for (const auto& s : d.slots) {
    const prometheus::Labels labels{{"slot", s.name}};
    if (s.retained_bytes) retained[labels] = *s.retained_bytes;
    active[labels] = s.active ? 1 : 0;
    if (s.safe_wal_bytes) safe[labels] = *s.safe_wal_bytes;
    if (!s.wal_status.empty()) status[{{"slot", s.name}, {"wal_status", s.wal_status}}] = 1;
  }
  slot_retained_.replace(retained);
  slot_active_.replace(active);
  slot_safe_.replace(safe);
  slot_status_.replace(status);

  xid_age_.replace(one(d.xid_age));
  mxid_age_.replace(one(d.mxid_age));
  freeze_max_age_.replace(one(d.freeze_max_age));
  multixact_freeze_max_age_.replace(one(d.multixact_freeze_max_age));
}

void ReplicationMetrics::clear() {
  sets_.clear();
}

}  // namespace pgv::telemetry
