// Server time of the replication probe's query on both sides, a primary with standbys and
// slots and one of its standbys, beside the server time of the rest of a probe cycle's
// statements on the same server, from pg_stat_statements: execution time (total_exec_time
// per cycle) and, with track_planning, planning time, which the agent pays on every cycle
// too (simple query protocol, nothing prepared).
//   replication_cost [runs=300] [sessions=0]  # 15 batches of runs/15 cycles on each side,
//                                             # with that many idle sessions open on each
//   replication_cost --quick                  # the CI smoke run: 3 batches of 4 cycles
// Exits non-zero when a measurement is missing (a statement not seen as often as it ran).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "helpers.hpp"
#include "pg_cluster.hpp"
#include "probes/activity.hpp"
#include "probes/connectivity.hpp"
#include "probes/lifecycle.hpp"
#include "probes/replication.hpp"
#include "probes/settings.hpp"
#include "sessions.hpp"

using namespace std::chrono_literals;
using pgv::probes::ServerVersion;

namespace {

constexpr int kStandbys = 2;
constexpr int kSlots = 5;           // the first kStandbys are used by the standbys, so active
constexpr int kTopN = 20;           // the agent's default activity_top_n
constexpr int kSettingsEvery = 12;  // the agent's default settings_every

// The statements of one cycle: how pg_stat_statements shows each (exact normalised text,
// or a prefix), and how often it runs per cycle.
struct Statement {
  std::string label;
  std::string sql;
  std::string match;  // pg_stat_statements' normalised text, or its start when `prefix`
  bool prefix;
  int calls_per_cycle;
  bool replication = false;
  // And its text holds this, or with a leading '!' does not (tells apart two forms of one
  // query; pg_stat_statements shows literals such as NULL as $n).
  std::string contains = "";
  double weight = 1.0;  // its share of cycles when summed
};

std::vector<Statement> cycle_statements(const ServerVersion& v) {
  const std::string lifecycle_sql = pgv::probes::LifecycleProbe::statement_sql(v);
  return {
      {"connectivity", pgv::probes::ConnectivityProbe::kSql, "SELECT pg_is_in_recovery()", false,
       1},
      // lifecycle.cpp: BEGIN, its statement, ROLLBACK; BEGIN, the leak check, COMMIT.
      {"lifecycle BEGIN (x2)", "BEGIN", "BEGIN", false, 2},
      {"lifecycle statement", lifecycle_sql, "SELECT CASE WHEN pg_is_in_recovery()", true, 1},
      {"lifecycle leak check", pgv::probes::LifecycleProbe::kLeakCheckSql,
       "SELECT current_setting($1, $2)", false, 1},
      {"lifecycle ROLLBACK", "ROLLBACK", "ROLLBACK", false, 1},
      {"lifecycle COMMIT", "COMMIT", "COMMIT", false, 1},
      {"activity", pgv::probes::ActivityProbe::sql(kTopN, false, v), "WITH a AS MATERIALIZED", true,
       1},
      {"settings", pgv::probes::SettingsProbe::sql(v), "SELECT current_setting(", true, 1, false,
       "", 1.0 / kSettingsEvery},
      // The probe reads wraparound ages on every settings_every-th cycle and keeps them
      // between: both forms run every cycle here, weighted by their share when summed.
      {"replication", pgv::probes::ReplicationProbe::sql(kTopN, false, v),
       "WITH here AS MATERIALIZED", true, 1, true, "!pg_database", 1.0 - 1.0 / kSettingsEvery},
      {"replication with ages", pgv::probes::ReplicationProbe::sql(kTopN, true, v),
       "WITH here AS MATERIALIZED", true, 1, true, "pg_database", 1.0 / kSettingsEvery},
  };
}

// Per-cycle milliseconds, one value per batch.
struct Series {
  std::vector<double> exec;  // execution (mean_exec_time x calls per cycle)
  std::vector<double> plan;  // planning (track_planning); the agent plans every statement
                             // each time, as it sends them over the simple query protocol
};

// One side: a server, the agent role's session to it, and its figures.
struct Side {
  std::string name;
  pgv::testing::PgCluster* cluster;
  pgv::pg::Connection conn;
  std::vector<Statement> statements;
  std::map<std::string, Series> by_label;
  Series replication;
  Series rest;  // everything but replication, settings weighted 1/kSettingsEvery
};

// One probe cycle's statements in the agent's order: connectivity; lifecycle's BEGIN, its
// statement, ROLLBACK, then BEGIN, the leak check, COMMIT; activity; settings; replication.
// Settings runs every cycle here and is weighted 1/kSettingsEvery when summed, as the agent runs it
// on every 12th cycle by default.
void run_cycle(Side& side) {
  auto run = [&](const std::string& label) {
    for (const Statement& s : side.statements) {
      if (s.label == label) {
        const pgv::pg::Result r = pgv::testing::query(side.conn, s.sql);
        (void)r;
        return;
      }
    }
  };
  const char* order[] = {"connectivity",
                         "lifecycle BEGIN (x2)",
                         "lifecycle statement",
                         "lifecycle ROLLBACK",
                         "lifecycle BEGIN (x2)",
                         "lifecycle leak check",
                         "lifecycle COMMIT",
                         "activity",
                         "settings",
                         "replication",
                         "replication with ages"};
  for (const char* label : order) run(label);
}

bool matches(const Statement& s, std::string_view text) {
  const bool start = s.prefix ? text.substr(0, s.match.size()) == s.match : text == s.match;
  if (!start || s.contains.empty()) return start;
  const bool absent = s.contains.front() == '!';
  const std::string_view needle = std::string_view(s.contains).substr(absent ? 1 : 0);
  return (text.find(needle) == std::string_view::npos) == absent;
}

// Reads one batch's pg_stat_statements on a side; false when a statement was not seen as
// often as it ran.
bool read_batch(Side& side, int cycles) {
  const auto st = side.cluster->admin(
      "SELECT query, calls, total_exec_time, total_plan_time FROM pg_stat_statements "
      "WHERE userid = (SELECT oid FROM pg_roles WHERE rolname = 'pgvitals')");
  struct Seen {
    long calls = 0;
    double exec_ms = 0;
    double plan_ms = 0;
  };
  std::map<std::string, Seen> seen;
  for (int row = 0; row < st.rows(); ++row) {
    const std::string_view text = st.get(row, 0);
    for (const Statement& s : side.statements) {
      if (!matches(s, text)) continue;
      Seen& x = seen[s.label];
      x.calls += std::stol(std::string(st.get(row, 1)));
      x.exec_ms += std::stod(std::string(st.get(row, 2)));
      x.plan_ms += std::stod(std::string(st.get(row, 3)));
      break;
    }
  }
  bool ok = true;
  double rest_exec = 0;
  double rest_plan = 0;
  double rep_exec = 0;
  double rep_plan = 0;
  for (const Statement& s : side.statements) {
    const auto it = seen.find(s.label);
    const long want = static_cast<long>(s.calls_per_cycle) * cycles;
    if (it == seen.end() || it->second.calls != want) {
      std::fprintf(stderr, "%s: %s: %ld calls in pg_stat_statements, ran %ld\n", side.name.c_str(),
                   s.label.c_str(), it == seen.end() ? 0L : it->second.calls, want);
      ok = false;
      continue;
    }
    const double exec = it->second.exec_ms / cycles;
    const double plan = it->second.plan_ms / cycles;
    side.by_label[s.label].exec.push_back(exec);
    side.by_label[s.label].plan.push_back(plan);
    (s.replication ? rep_exec : rest_exec) += exec * s.weight;
    (s.replication ? rep_plan : rest_plan) += plan * s.weight;
  }
  if (!ok) return false;
  side.replication.exec.push_back(rep_exec);
  side.replication.plan.push_back(rep_plan);
  side.rest.exec.push_back(rest_exec);
  side.rest.plan.push_back(rest_plan);
  return true;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? -1.0 : v[v.size() / 2];
}

double min_of(const std::vector<double>& v) {
  return v.empty() ? -1.0 : *std::min_element(v.begin(), v.end());
}

double max_of(const std::vector<double>& v) {
  return v.empty() ? -1.0 : *std::max_element(v.begin(), v.end());
}

// Element-wise a + b: per batch, planning plus execution.
std::vector<double> sum(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> out(a.size());
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) out[i] = a[i] + b[i];
  return out;
}

std::string count_of(pgv::testing::PgCluster& cluster, const std::string& sql) {
  return std::string(cluster.admin(sql).get(0, 0));
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string_view(argv[1]) == "--quick";
  const int runs = quick ? 12 : (argc > 1 ? std::atoi(argv[1]) : 300);
  const int batches = quick ? 3 : 15;
  const int per_batch = std::max(1, runs / batches);
  const int sessions = !quick && argc > 2 ? std::atoi(argv[2]) : 0;

  pgv::testing::ClusterOptions options;
  // standby_of copies the options: a hot standby needs max_connections at least the primary's.
  options.max_connections = sessions + 20;
  options.settings = {"shared_preload_libraries=pg_stat_statements", "pg_stat_statements.track=all",
                      "pg_stat_statements.track_planning=on"};
  pgv::testing::PgCluster primary(options);
  // On the primary before the copies: the standbys get the extension with the data, and
  // shared_preload_libraries with the options standby_of copies.
  primary.admin("CREATE EXTENSION pg_stat_statements");

  std::vector<std::unique_ptr<pgv::testing::PgCluster>> standbys;
  for (int i = 1; i <= kStandbys; ++i) {
    standbys.push_back(
        pgv::testing::PgCluster::standby_of(primary, "standby-" + std::to_string(i)));
  }
  // Slots after the copies, so the standbys have none of their own; the standbys stream
  // through the first ones and the rest stay inactive, retaining WAL.
  for (int i = 1; i <= kSlots; ++i) {
    primary.admin("SELECT pg_create_physical_replication_slot('slot_" + std::to_string(i) +
                  "', true)");
  }
  for (int i = 1; i <= kStandbys; ++i) {
    auto& standby = *standbys[static_cast<std::size_t>(i - 1)];
    standby.admin("ALTER SYSTEM SET primary_slot_name = 'slot_" + std::to_string(i) + "'");
    standby.admin("SELECT pg_reload_conf()");
  }
  // Some WAL, so that inactive slots and standbys have something to measure against.
  primary.admin("CREATE TABLE filler AS SELECT g AS id FROM generate_series(1, 10000) g");
  const bool ready = pgv::testing::eventually(
      [&] {
        return count_of(primary,
                        "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") ==
                   std::to_string(kStandbys) &&
               count_of(primary, "SELECT count(*) FROM pg_replication_slots WHERE active") ==
                   std::to_string(kStandbys);
      },
      60s);
  if (!ready) {
    std::fprintf(stderr, "standbys not streaming through their slots in 60 s\n");
    return 1;
  }
  // Idle client sessions on both sides: the activity query, and pg_stat_replication's join
  // to pg_stat_get_activity(NULL), read every backend.
  auto held_primary = pgv::testing::open_sessions(primary, sessions, "postgres", "filler");
  auto held_standby =
      pgv::testing::open_sessions(*standbys.front(), sessions, "postgres", "filler");
  if (static_cast<int>(held_primary.size()) != sessions ||
      static_cast<int>(held_standby.size()) != sessions) {
    std::fprintf(stderr, "opened %zu and %zu of %d idle sessions\n", held_primary.size(),
                 held_standby.size(), sessions);
    return 1;
  }
  std::printf(
      "replication_cost: primary with %s streaming standbys, %s slots (%s active), %d idle "
      "sessions on each side; measuring on the primary and on standby-1\n",
      count_of(primary, "SELECT count(*) FROM pg_stat_replication").c_str(),
      count_of(primary, "SELECT count(*) FROM pg_replication_slots").c_str(),
      count_of(primary, "SELECT count(*) FROM pg_replication_slots WHERE active").c_str(),
      sessions);

  std::vector<Side> sides;
  for (auto* cluster : {&primary, standbys.front().get()}) {
    Side side;
    side.name = cluster == &primary ? "primary" : "standby";
    side.cluster = cluster;
    side.conn = pgv::testing::connect_blocking(pgv::testing::params_for(cluster->dsn()));
    side.statements = cycle_statements(ServerVersion{side.conn.server_version()});
    // A first cycle outside the measurement: plans and catalog caches warm.
    run_cycle(side);
    sides.push_back(std::move(side));
  }
  // Each batch: reset both sides, then cycles alternating between them, so the same noise
  // falls on both.
  for (int b = 0; b < batches; ++b) {
    for (Side& side : sides) side.cluster->admin("SELECT pg_stat_statements_reset()");
    for (int i = 0; i < per_batch; ++i) {
      for (Side& side : sides) run_cycle(side);
    }
    for (Side& side : sides) {
      if (!read_batch(side, per_batch)) return 1;
    }
  }

  std::printf(
      "server time per cycle, median of %d batch means of %d cycles (ms; exec = execution, "
      "plan = planning):\n",
      batches, per_batch);
  std::printf("  %-22s %12s %12s %12s %12s\n", "statement", "primary exec", "primary plan",
              "standby exec", "standby plan");
  for (const Statement& s : sides.front().statements) {
    const Series& p = sides[0].by_label[s.label];
    const Series& q = sides[1].by_label[s.label];
    std::printf("  %-22s %12.4f %12.4f %12.4f %12.4f\n", s.label.c_str(), median(p.exec),
                median(p.plan), median(q.exec), median(q.plan));
  }
  bool met_exec = true;
  bool met_total = true;
  for (Side& side : sides) {
    const std::vector<double> rep_total = sum(side.replication.exec, side.replication.plan);
    const std::vector<double> rest_total = sum(side.rest.exec, side.rest.plan);
    const double rep = median(side.replication.exec);
    const double rest = median(side.rest.exec);
    const double rep_t = median(rep_total);
    const double rest_t = median(rest_total);
    std::printf(
        "%s, execution: replication query %.4f ms (batch means %.4f..%.4f); rest of the "
        "cycle %.4f ms (%.4f..%.4f, settings 1/%d); ratio %.2fx; cycle %.4f -> %.4f ms\n",
        side.name.c_str(), rep, min_of(side.replication.exec), max_of(side.replication.exec), rest,
        min_of(side.rest.exec), max_of(side.rest.exec), kSettingsEvery, rep / rest, rest,
        rep + rest);
    std::printf(
        "%s, planning + execution: replication query %.4f ms (%.4f..%.4f); rest of the cycle "
        "%.4f ms (%.4f..%.4f); ratio %.2fx; cycle %.4f -> %.4f ms\n",
        side.name.c_str(), rep_t, min_of(rep_total), max_of(rep_total), rest_t, min_of(rest_total),
        max_of(rest_total), rep_t / rest_t, rest_t, rep_t + rest_t);
    // The cycle doubles when the replication query costs as much as everything else.
    met_exec = met_exec && rep < rest;
    met_total = met_total && rep_t < rest_t;
  }
  std::printf(
      "target: the cycle's server time not doubled (replication < rest) on both sides: "
      "execution %s, planning + execution %s\n",
      met_exec ? "met" : "MISSED", met_total ? "met" : "MISSED");
  return 0;
}
