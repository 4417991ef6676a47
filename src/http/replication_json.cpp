#include "http/replication_json.hpp"

namespace pgv::http {
namespace {

template <class T>
nlohmann::json or_null(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json replication_to_json(const probes::ReplicationDigest& d) {
  nlohmann::json j;
  j["in_recovery"] = d.in_recovery;
  j["privileged"] = d.privileged;
  if (d.in_recovery) {
    j["receiver"] = {{"streaming", or_null(d.receiver_streaming)},
                     {"status", d.receiver_status},
                     {"replay_lag_bytes", or_null(d.replay_lag_bytes)},
                     {"replay_lag_seconds", or_null(d.replay_lag_seconds)},
                     {"replay_paused", or_null(d.replay_paused)}};
  }
  j["standby_count"] = d.standby_count;
  j["standbys"] = nlohmann::json::array();
  for (const auto& s : d.standbys) {
    j["standbys"].push_back({{"name", s.name},
                             {"state", s.state},
                             {"sync_state", s.sync_state},
                             {"lag_bytes", or_null(s.lag_bytes)},
                             {"lag_seconds", or_null(s.lag_seconds)}});
  }
  j["slot_count"] = d.slot_count;
  j["slots"] = nlohmann::json::array();
  for (const auto& s : d.slots) {
    j["slots"].push_back({{"name", s.name},
                          {"type", s.type},
                          {"active", s.active},
                          {"retained_bytes", or_null(s.retained_bytes)},
                          {"wal_status", s.wal_status},
                          {"safe_wal_bytes", or_null(s.safe_wal_bytes)}});
  }
  j["wraparound"] = {{"xid_age", or_null(d.xid_age)},
                     {"xid_database", d.xid_database},
                     {"mxid_age", or_null(d.mxid_age)},
                     {"mxid_database", d.mxid_database},
                     {"autovacuum_freeze_max_age", or_null(d.freeze_max_age)},
                     {"autovacuum_multixact_freeze_max_age", or_null(d.multixact_freeze_max_age)}};
  return j;
}

}  // namespace pgv::http
