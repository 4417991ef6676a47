// Server time of the replication probe's query on both sides, a primary with standbys and
// slots and one of its standbys, beside the server time of the rest of a probe cycle's
// statements on the same server, from pg_stat_statements (total_exec_time per cycle: time
// spent in the server executing them).
//   replication_cost [runs=300]   # 15 batches of runs/15 cycles on each side
//   replication_cost --quick      # the CI smoke run: 3 batches of 4 cycles
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
#include "probes/replication.hpp"
#include "probes/settings.hpp"

using namespace std::chrono_literals;
using pgv::probes::ServerVersion;

namespace {

constexpr int kStandbys = 2;
constexpr int kSlots = 5;           // the first kStandbys are used by the standbys, so active
constexpr int kTopN = 20;           // the agent's default activity_top_n
constexpr int kSettingsEvery = 12;  // the agent's default settings_every

// The statements of one cycle, in the order the agent runs them: how pg_stat_statements
// shows each (exact normalised text, or a prefix), and how often it runs per cycle.
struct Statement {
  std::string label;
  std::string sql;
  std::string match;  // pg_stat_statements' normalised text, or its start when `prefix`
  bool prefix;
  int calls_per_cycle;
  bool replication = false;
};

std::vector<Statement> cycle_statements(const ServerVersion& v) {
  const std::string lifecycle_sql =
      std::string("SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE ") +
      v.current_xact_id_sql() + " END";
  return {
      {"connectivity", pgv::probes::ConnectivityProbe::kSql, "SELECT pg_is_in_recovery()", false,
       1},
      // lifecycle.cpp: BEGIN, its statement, ROLLBACK; BEGIN, COMMIT.
      {"lifecycle BEGIN (x2)", "BEGIN", "BEGIN", false, 2},
      {"lifecycle statement", lifecycle_sql, "SELECT CASE WHEN pg_is_in_recovery()", true, 1},
      {"lifecycle ROLLBACK", "ROLLBACK", "ROLLBACK", false, 1},
      {"lifecycle COMMIT", "COMMIT", "COMMIT", false, 1},
      {"activity", pgv::probes::ActivityProbe::sql(kTopN, false, v), "WITH a AS MATERIALIZED", true,
       1},
      {"settings", pgv::probes::SettingsProbe::sql(v), "SELECT current_setting(", true, 1},
      {"replication", pgv::probes::ReplicationProbe::sql(kTopN, v), "WITH here AS MATERIALIZED",
       true, 1, true},
  };
}

// One side: a server, the agent role's session to it, and each statement's per-cycle
// server time in every batch.
struct Side {
  std::string name;
  pgv::testing::PgCluster* cluster;
  pg::Connection conn;
  std::vector<Statement> statements;
  std::map<std::string, std::vector<double>> per_cycle_ms;  // label -> one value per batch
  std::vector<double> rest_ms;         // everything but replication, settings 1/kSettingsEvery
  std::vector<double> ratio;           // replication / rest, per batch
  std::vector<double> replication_ms;  // the replication query, per batch
};

void run_cycle(Side& side) {
  // Settings is measured every cycle and weighted 1/kSettingsEvery when summed, as the
  // agent runs it on every 12th cycle by default.
  for (const Statement& s : side.statements) {
    const pg::Result r = pgv::testing::query(side.conn, s.sql);
    (void)r;
  }
}

bool matches(const Statement& s, std::string_view text) {
  return s.prefix ? text.substr(0, s.match.size()) == s.match : text == s.match;
}

// Reads one batch's pg_stat_statements on a side; false when a statement was not seen as
// often as it ran.
bool read_batch(Side& side, int cycles) {
  const auto st = side.cluster->admin(
      "SELECT query, calls, total_exec_time FROM pg_stat_statements "
      "WHERE userid = (SELECT oid FROM pg_roles WHERE rolname = 'pgvitals')");
  std::map<std::string, std::pair<long, double>> seen;  // label -> calls, total ms
  for (int row = 0; row < st.rows(); ++row) {
    const std::string_view text = st.get(row, 0);
    for (const Statement& s : side.statements) {
      if (!matches(s, text)) continue;
      seen[s.label].first += std::stol(std::string(st.get(row, 1)));
      seen[s.label].second += std::stod(std::string(st.get(row, 2)));
      break;
    }
  }
  bool ok = true;
  double rest = 0;
  double replication = 0;
  for (const Statement& s : side.statements) {
    const auto it = seen.find(s.label);
    const long want = static_cast<long>(s.calls_per_cycle) * cycles;
    if (it == seen.end() || it->second.first != want) {
      std::fprintf(stderr, "%s: %s: %ld calls in pg_stat_statements, ran %ld\n", side.name.c_str(),
                   s.label.c_str(), it == seen.end() ? 0L : it->second.first, want);
      ok = false;
      continue;
    }
    const double per_cycle = it->second.second / cycles;
    side.per_cycle_ms[s.label].push_back(per_cycle);
    if (s.replication) {
      replication = per_cycle;
    } else {
      rest += s.label == "settings" ? per_cycle / kSettingsEvery : per_cycle;
    }
  }
  if (!ok) return false;
  side.replication_ms.push_back(replication);
  side.rest_ms.push_back(rest);
  side.ratio.push_back(rest > 0 ? replication / rest : 0);
  return true;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? -1.0 : v[v.size() / 2];
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

  pgv::testing::ClusterOptions options;
  options.settings = {"shared_preload_libraries=pg_stat_statements",
                      "pg_stat_statements.track=all"};
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
  std::printf(
      "replication_cost: primary with %s streaming standbys, %s slots (%s active); "
      "measuring on the primary and on standby-1\n",
      count_of(primary, "SELECT count(*) FROM pg_stat_replication").c_str(),
      count_of(primary, "SELECT count(*) FROM pg_replication_slots").c_str(),
      count_of(primary, "SELECT count(*) FROM pg_replication_slots WHERE active").c_str());

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

  std::printf("server time per cycle, median of %d batch means of %d cycles (ms):\n", batches,
              per_batch);
  std::printf("  %-24s %10s %10s\n", "statement", "primary", "standby");
  for (const Statement& s : sides.front().statements) {
    std::printf("  %-24s %10.4f %10.4f\n", s.label.c_str(), median(sides[0].per_cycle_ms[s.label]),
                median(sides[1].per_cycle_ms[s.label]));
  }
  bool met = true;
  for (Side& side : sides) {
    const double rep = median(side.replication_ms);
    const double rest = median(side.rest_ms);
    const double ratio = median(side.ratio);
    std::sort(side.replication_ms.begin(), side.replication_ms.end());
    std::printf(
        "%s: replication query %.4f ms (batch means %.4f..%.4f); rest of the cycle %.4f ms "
        "(settings 1/%d); ratio %.2fx (median of batch ratios), cycle with it %.4f ms\n",
        side.name.c_str(), rep, side.replication_ms.front(), side.replication_ms.back(), rest,
        kSettingsEvery, ratio, rep + rest);
    met = met && ratio < 1.0;
  }
  std::printf("target: the replication query under the rest of the cycle (cycle not doubled): %s\n",
              met ? "met" : "MISSED");
  return 0;
}
