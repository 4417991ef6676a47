#include "app/replication_report.hpp"

#include <cstdio>
#include <vector>

namespace pgv::app {
namespace {

constexpr double kWraparound = 2147483648.0;  // 2^31: where transaction IDs wrap

std::string bytes_text(const std::optional<double>& b) {
  if (!b) return "?";
  char buf[32];
  if (*b >= 1024.0 * 1024 * 1024) {
    std::snprintf(buf, sizeof buf, "%.1f GB", *b / (1024.0 * 1024 * 1024));
  } else if (*b >= 1024.0 * 1024) {
    std::snprintf(buf, sizeof buf, "%.1f MB", *b / (1024.0 * 1024));
  } else if (*b >= 1024.0) {
    std::snprintf(buf, sizeof buf, "%.1f kB", *b / 1024.0);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f B", *b);
  }
  return buf;
}

std::string seconds_text(const std::optional<double>& s) {
  if (!s) return "?";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", *s);
  return buf;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : " · ") + p;
  return out;
}

std::string age_text(const char* what, const std::optional<double>& age, const std::string& db,
                     const std::optional<double>& freeze_max) {
  if (!age) return std::string(what) + " age ?";
  char buf[160];
  if (freeze_max && *freeze_max > 0) {
    std::snprintf(buf, sizeof buf, "%s age %.0f (%s): %.1f%% of freeze max age, %.1f%% of 2^31",
                  what, *age, db.c_str(), *age / *freeze_max * 100, *age / kWraparound * 100);
  } else {
    std::snprintf(buf, sizeof buf, "%s age %.0f (%s): %.1f%% of 2^31", what, *age, db.c_str(),
                  *age / kWraparound * 100);
  }
  return buf;
}

}  // namespace

void render_replication(std::string& out, const telemetry::TargetState& st) {
  if (!st.replication) return;
  const probes::ReplicationDigest& d = *st.replication;
  if (d.in_recovery) {
    std::vector<std::string> parts;
    if (!d.receiver_streaming) {
      parts.push_back("receiver state hidden (needs pg_monitor)");
    } else if (*d.receiver_streaming) {
      parts.push_back("receiver streaming");
    } else {
      parts.push_back(
          "receiver NOT streaming (" +
          (d.receiver_status.empty() ? std::string("none running") : d.receiver_status) + ")");
    }
    parts.push_back("replay lag " + bytes_text(d.replay_lag_bytes) + ", " +
                    seconds_text(d.replay_lag_seconds));
    if (d.replay_paused && *d.replay_paused) parts.push_back("replay PAUSED");
    out += "    standby: " + join(parts) + "\n";
  }
  if (d.standby_count > 0) {
    std::vector<std::string> parts;
    for (const auto& s : d.standbys) {
      parts.push_back(s.name + " " + s.state + " " + s.sync_state + " lag " +
                      bytes_text(s.lag_bytes) + ", " + seconds_text(s.lag_seconds));
    }
    const int hidden = d.standby_count - static_cast<int>(d.standbys.size());
    if (hidden > 0) parts.push_back(std::to_string(hidden) + " more");
    out += "    standbys (" + std::to_string(d.standby_count) + "): " + join(parts) + "\n";
  }
  if (d.slot_count > 0) {
    std::vector<std::string> parts;
    for (const auto& s : d.slots) {
      parts.push_back(s.name + " (" + s.type + ", " + (s.active ? "active" : "INACTIVE") +
                      (s.wal_status.empty() ? "" : ", " + s.wal_status) + ") retains " +
                      bytes_text(s.retained_bytes));
    }
    const int hidden = d.slot_count - static_cast<int>(d.slots.size());
    if (hidden > 0) parts.push_back(std::to_string(hidden) + " more");
    out += "    slots (" + std::to_string(d.slot_count) + "): " + join(parts) + "\n";
  }
  out += "    wraparound: " +
         join({age_text("xid", d.xid_age, d.xid_database, d.freeze_max_age),
               age_text("mxid", d.mxid_age, d.mxid_database, d.multixact_freeze_max_age)}) +
         "\n";
  if (!d.privileged) {
    out += "    note: the role lacks pg_monitor; standby positions and the receiver are hidden\n";
  }
}

}  // namespace pgv::app
