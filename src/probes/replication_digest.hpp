#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pgv::probes {

// One standby as its upstream sees it (pg_stat_replication).
struct StandbyInfo {
  std::string name;  // application_name ("unnamed" when empty)
  std::string state;
  std::string sync_state;
  std::optional<double> lag_bytes;    // upstream's WAL position - replay_lsn
  std::optional<double> lag_seconds;  // replay_lag; 0 when caught up
};

// One replication slot (pg_replication_slots).
struct SlotInfo {
  std::string name;
  std::string type;  // physical or logical
  bool active = false;
  std::optional<double> retained_bytes;  // WAL position - restart_lsn
  std::string wal_status;                // reserved, extended, unreserved, lost ("" if unknown)
  std::optional<double> safe_wal_bytes;  // only where max_slot_wal_keep_size is set
};

// What the replication probe reads: the standby side (while in recovery), the upstream
// side (standbys and slots, on a primary or a cascading standby), and wraparound ages.
// A value the server could not give is empty, and is left out of the metrics.
struct ReplicationDigest {
  bool in_recovery = false;
  // Standby side, set only in recovery.
  std::optional<bool> receiver_streaming;
  std::string receiver_status;  // pg_stat_wal_receiver.status, "" when no receiver runs
  std::optional<double> replay_lag_bytes;
  // 0 when everything received is replayed, else the age of the last replayed transaction:
  // it does not grow on an idle primary.
  std::optional<double> replay_lag_seconds;
  std::optional<bool> replay_paused;
  // Upstream side.
  int standby_count = 0;
  std::map<std::pair<std::string, std::string>, int> standbys_by_state;  // (state, sync_state)
  std::vector<StandbyInfo> standbys;  // the top N by lag, most behind first
  int slot_count = 0;
  std::vector<SlotInfo> slots;  // the top N by retained WAL, most first
  // Wraparound, over every database.
  std::optional<double> xid_age;
  std::string xid_database;
  std::optional<double> mxid_age;
  std::string mxid_database;
  std::optional<double> freeze_max_age;            // autovacuum_freeze_max_age
  std::optional<double> multixact_freeze_max_age;  // autovacuum_multixact_freeze_max_age
  // pg_monitor (pg_read_all_stats) or superuser: pg_stat_replication's positions and
  // pg_stat_wal_receiver are visible.
  bool privileged = true;
};

}  // namespace pgv::probes
