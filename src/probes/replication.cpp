#include "probes/replication.hpp"

#include <nlohmann/json.hpp>

namespace pgv::probes {
namespace {

std::optional<double> number_in(const nlohmann::json& j) {
  if (j.is_number()) return j.get<double>();
  return std::nullopt;
}

std::string text_in(const nlohmann::json& j) {
  return j.is_string() ? j.get<std::string>() : std::string();
}

// The JSON array in a column; an empty one for NULL or anything else.
nlohmann::json array_at(const pg::Result& r, int col) {
  if (r.is_null(0, col)) return nlohmann::json::array();
  nlohmann::json j = nlohmann::json::parse(r.get(0, col), nullptr, false);
  return j.is_array() ? j : nlohmann::json::array();
}

}  // namespace

std::string ReplicationProbe::sql(int top_n, bool with_ages, ServerVersion /*server*/) {
  // Wraparound ages move slowly and reading pg_database is a third of the query's cost on
  // an idle server: they are read every few cycles (as settings are) and kept between.
  static constexpr const char* kAges = R"(
  (SELECT json_build_array(datname, age(datfrozenxid)) FROM pg_database
     ORDER BY age(datfrozenxid) DESC LIMIT 1),
  (SELECT json_build_array(datname, mxid_age(datminmxid)) FROM pg_database
     ORDER BY mxid_age(datminmxid) DESC LIMIT 1),
  current_setting('autovacuum_freeze_max_age'),
  current_setting('autovacuum_multixact_freeze_max_age'))";
  static constexpr const char* kNoAges = "NULL, NULL, NULL, NULL";
  // 13 to 18 read the same columns here (wal_status and safe_wal_size arrived in 13), so
  // the version does not change the text yet; it is the place where it would.
  const std::string limit = std::to_string(top_n < 1 ? 1 : top_n);
  return R"(WITH here AS MATERIALIZED (
  -- The position standbys and slots are measured against: where a primary writes, or what
  -- a cascading standby has received (replayed, if nothing streamed). pg_current_wal_lsn()
  -- fails in recovery; CASE runs only the branch that applies.
  SELECT r AS recovery,
         CASE WHEN r THEN coalesce(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())
              ELSE pg_current_wal_lsn() END AS lsn
  FROM pg_is_in_recovery() AS r),
rep AS MATERIALIZED (
  SELECT CASE WHEN a.application_name = '' THEN 'unnamed' ELSE a.application_name END AS name,
         coalesce(w.state, 'unknown') AS state, coalesce(w.sync_state, 'unknown') AS sync_state,
         pg_wal_lsn_diff((SELECT lsn FROM here), w.replay_lsn) AS lag_bytes,
         -- replay_lag keeps its last value for a while after the standby caught up.
         CASE WHEN w.replay_lsn >= (SELECT lsn FROM here) THEN 0
              ELSE extract(epoch FROM w.replay_lag) END AS lag_seconds
  -- pg_stat_replication joins every backend to the WAL senders; only the senders' own rows
  -- are needed, which keeps the cost flat however many sessions the server has.
  FROM pg_stat_get_wal_senders() w CROSS JOIN LATERAL pg_stat_get_activity(w.pid) a),
slots AS MATERIALIZED (
  SELECT slot_name, slot_type, active,
         pg_wal_lsn_diff((SELECT lsn FROM here), restart_lsn) AS retained,
         coalesce(wal_status, '') AS wal_status, safe_wal_size
  FROM pg_replication_slots)
SELECT h.recovery,
  CASE WHEN h.recovery THEN coalesce((SELECT status FROM pg_stat_wal_receiver LIMIT 1), '') END,
  -- A standby started from a copy replays its own WAL past where streaming began, so
  -- received can trail replayed: nothing is waiting then.
  CASE WHEN h.recovery THEN
    greatest(0, pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()))
  END,
  -- 0 when everything received is replayed, so an idle primary never reads as lag.
  CASE WHEN h.recovery THEN
    CASE WHEN pg_last_wal_receive_lsn() IS NULL THEN NULL
         WHEN pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn() THEN 0
         ELSE greatest(0, extract(epoch FROM now() - pg_last_xact_replay_timestamp())) END
  END,
  CASE WHEN h.recovery THEN pg_is_wal_replay_paused() END,
  (SELECT count(*) FROM rep),
  (SELECT coalesce(json_agg(json_build_array(name, state, sync_state, lag_bytes, lag_seconds)
                            ORDER BY lag_bytes DESC NULLS LAST, name), '[]')
     FROM (SELECT * FROM rep ORDER BY lag_bytes DESC NULLS LAST, name LIMIT )" +
         limit + R"() r),
  (SELECT coalesce(json_agg(json_build_array(state, sync_state, n)), '[]')
     FROM (SELECT state, sync_state, count(*) AS n FROM rep GROUP BY 1, 2) c),
  (SELECT count(*) FROM slots),
  (SELECT coalesce(json_agg(json_build_array(slot_name, slot_type, active, retained, wal_status,
                                             safe_wal_size)
                            ORDER BY retained DESC NULLS LAST, slot_name), '[]')
     FROM (SELECT * FROM slots ORDER BY retained DESC NULLS LAST, slot_name LIMIT )" +
         limit + R"() s),
  )" + (with_ages ? kAges : kNoAges) +
         R"(,
  pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER')
    OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
FROM here h)";
}

ReplicationDigest parse_replication_row(const pg::Result& r) {
  ReplicationDigest d;
  d.in_recovery = r.get(0, 0) == "t";
  d.privileged = r.get(0, 14) == "t";
  if (d.in_recovery) {
    d.receiver_status = std::string(r.get(0, 1));
    // Without pg_read_all_stats the receiver's row hides its status: unknown, not down.
    if (d.privileged || !d.receiver_status.empty()) {
      d.receiver_streaming = d.receiver_status == "streaming";
    }
    d.replay_lag_bytes = r.get_optional_double(0, 2);
    d.replay_lag_seconds = r.get_optional_double(0, 3);
    if (!r.is_null(0, 4)) d.replay_paused = r.get(0, 4) == "t";
  }
  d.standby_count = r.get_int(0, 5);
  for (const auto& s : array_at(r, 6)) {
    d.standbys.push_back({text_in(s.at(0)), text_in(s.at(1)), text_in(s.at(2)), number_in(s.at(3)),
                          number_in(s.at(4))});
  }
  for (const auto& c : array_at(r, 7)) {
    d.standbys_by_state[{text_in(c.at(0)), text_in(c.at(1))}] = c.at(2).get<int>();
  }
  d.slot_count = r.get_int(0, 8);
  for (const auto& s : array_at(r, 9)) {
    d.slots.push_back({text_in(s.at(0)), text_in(s.at(1)),
                       s.at(2).is_boolean() && s.at(2).get<bool>(), number_in(s.at(3)),
                       text_in(s.at(4)), number_in(s.at(5))});
  }
  if (const auto xid = array_at(r, 10); xid.size() == 2) {
    d.xid_database = text_in(xid.at(0));
    d.xid_age = number_in(xid.at(1));
  }
  if (const auto mxid = array_at(r, 11); mxid.size() == 2) {
    d.mxid_database = text_in(mxid.at(0));
    d.mxid_age = number_in(mxid.at(1));
  }
  d.freeze_max_age = r.get_optional_double(0, 12);
  d.multixact_freeze_max_age = r.get_optional_double(0, 13);
  return d;
}

async::Task<void> ReplicationProbe::execute(ProbeContext& ctx, ProbeResult& result) {
  pool::Lease lease = co_await acquire(ctx, result);
  pg::Connection& conn = lease.connection();
  const bool with_ages = !ages_ || ctx.cycle % ages_every_ == 0;
  const std::string statement =
      sql(ctx.activity_top_n, with_ages, ServerVersion{conn.server_version()});
  const pg::Result row = co_await query(ctx, result, conn, statement);
  auto digest = std::make_shared<ReplicationDigest>(parse_replication_row(row));
  if (with_ages) {
    ages_ = Ages{digest->xid_age,       digest->xid_database,   digest->mxid_age,
                 digest->mxid_database, digest->freeze_max_age, digest->multixact_freeze_max_age};
  } else {
    digest->xid_age = ages_->xid_age;
    digest->xid_database = ages_->xid_database;
    digest->mxid_age = ages_->mxid_age;
    digest->mxid_database = ages_->mxid_database;
    digest->freeze_max_age = ages_->freeze_max_age;
    digest->multixact_freeze_max_age = ages_->multixact_freeze_max_age;
  }
  result.in_recovery = digest->in_recovery;
  result.replication = std::move(digest);
}

}  // namespace pgv::probes
