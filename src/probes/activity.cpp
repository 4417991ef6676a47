#include "probes/activity.hpp"

#include <algorithm>
#include <iterator>
#include <nlohmann/json.hpp>

namespace pgv::probes {
namespace {

constexpr int kOldestShown = 5;

nlohmann::json json_at(const pg::Result& r, int col) {
  return nlohmann::json::parse(r.get(0, col), nullptr, false);
}

// An escape-string literal, whatever standard_conforming_strings says.
std::string sql_literal(std::string_view text) {
  std::string out = "E'";
  for (char c : text) {
    if (c == '\\' || c == '\'') out.push_back('\\');
    out.push_back(c);
  }
  return out + "'";
}

// A glob (* and ?) as a LIKE pattern literal, LIKE's own wildcards taken literally.
std::string like_literal(std::string_view glob) {
  std::string pattern;
  for (char c : glob) {
    if (c == '*') {
      pattern.push_back('%');
    } else if (c == '?') {
      pattern.push_back('_');
    } else {
      if (c == '%' || c == '_' || c == '\\') pattern.push_back('\\');
      pattern.push_back(c);
    }
  }
  return sql_literal(pattern);
}

// Sessions per declared application (the first budget that matches) and state, with the
// oldest idle-in-transaction age and the waiters; -1 gathers the undeclared ones.
std::string budgets_sql(const std::vector<config::ApplicationBudget>& budgets) {
  if (budgets.empty()) return "'[]'::json";
  std::string which = "CASE";
  for (std::size_t i = 0; i < budgets.size(); ++i) {
    which += " WHEN " + ActivityProbe::budget_condition(budgets[i]) + " THEN " + std::to_string(i);
  }
  which += " ELSE -1 END";
  return R"((SELECT coalesce(json_agg(json_build_array(b, state, n, idle_age, waiting)), '[]') FROM
     (SELECT )" +
         which + R"( AS b, state, count(*) AS n,
             extract(epoch FROM now() - min(state_change)
                     FILTER (WHERE state LIKE 'idle in transaction%')) AS idle_age,
             count(*) FILTER (WHERE state = 'active' AND wait_event_type IS NOT NULL
                              AND NOT self) AS waiting
      FROM a GROUP BY 1, 2) s))";
}

void read_budgets(const nlohmann::json& rows, ActivityDigest& d) {
  if (!rows.is_array()) return;
  for (const auto& row : rows) {
    if (!row.is_array() || row.size() < 5) continue;
    const int budget = row.at(0).get<int>();
    auto it = std::find_if(d.applications.begin(), d.applications.end(),
                           [&](const ApplicationUsage& u) { return u.budget == budget; });
    if (it == d.applications.end()) {
      d.applications.push_back(ApplicationUsage{});
      it = std::prev(d.applications.end());
      it->budget = budget;
    }
    const int n = row.at(2).get<int>();
    it->sessions += n;
    it->by_state[row.at(1).is_string() ? row.at(1).get<std::string>() : "unknown"] += n;
    if (row.at(3).is_number()) {
      const double age = row.at(3).get<double>();
      it->oldest_idle_in_transaction_seconds =
          std::max(age, it->oldest_idle_in_transaction_seconds.value_or(0));
    }
    it->waiting += row.at(4).get<int>();
  }
  // Budget order, the undeclared last.
  std::sort(d.applications.begin(), d.applications.end(),
            [](const ApplicationUsage& a, const ApplicationUsage& b) {
              return static_cast<unsigned>(a.budget) < static_cast<unsigned>(b.budget);
            });
}

}  // namespace

std::string ActivityProbe::sql(int top_n, bool expose_query_text, ServerVersion server,
                               const std::vector<config::ApplicationBudget>& budgets) {
  // Client backends only; the probe's own session is counted (the server counts it too)
  // but kept out of ages and waits, where it would only describe itself.
  const std::string query_column = expose_query_text ? ", left(query, 256) AS query" : "";
  // pg_stat_get_activity() is what the pg_stat_activity view wraps; calling it directly
  // skips the view's joins to pg_database and pg_authid, about half the server time with
  // 500 sessions. User names are looked up only for the few rows shown.
  return R"(WITH a AS MATERIALIZED (
  SELECT pid, coalesce(state, 'unknown') AS state,
         CASE WHEN application_name = '' THEN 'unnamed' ELSE application_name END AS app,
         usesysid, wait_event_type, xact_start, state_change, query_start,
         pid = pg_backend_pid() AS self)" +
         query_column + R"(
  FROM pg_stat_get_activity(NULL)
  WHERE backend_type = 'client backend'
     -- Without pg_monitor other roles' rows hide backend_type; a row with a database and
     -- a user is a client session (background processes have neither).
     OR (backend_type IS NULL AND datid IS NOT NULL AND usesysid IS NOT NULL)),
agg AS (
  SELECT count(*) AS total, count(DISTINCT app) AS apps,
         extract(epoch FROM now() - min(xact_start) FILTER (WHERE NOT self)) AS oldest_xact,
         extract(epoch FROM now() - min(state_change)
                 FILTER (WHERE state LIKE 'idle in transaction%')) AS oldest_idle,
         extract(epoch FROM now() - min(query_start)
                 FILTER (WHERE state = 'active' AND NOT self)) AS longest_query,
         -- A lock wait starts at or after the statement's state_change; pg_locks.waitstart
         -- (14+) would be exact but costs a scan of the lock table every cycle.
         extract(epoch FROM now() - min(state_change)
                 FILTER (WHERE state = 'active' AND wait_event_type = 'Lock' AND NOT self))
           AS longest_lock_wait
  FROM a)
SELECT
  agg.total,
  (SELECT coalesce(json_object_agg(state, n), '{}') FROM
     (SELECT state, count(*) AS n FROM a GROUP BY state) s),
  (SELECT coalesce(json_agg(json_build_array(app, n, busy)), '[]') FROM
     (SELECT app, count(*) AS n, count(*) FILTER (WHERE state <> 'idle') AS busy
      FROM a GROUP BY app ORDER BY n DESC, app LIMIT )" +
         std::to_string(top_n) + R"() s),
  agg.apps,
  (SELECT coalesce(json_object_agg(w, n), '{}') FROM
     (SELECT wait_event_type AS w, count(*) AS n FROM a
      WHERE state = 'active' AND wait_event_type IS NOT NULL AND NOT self GROUP BY 1) s),
  agg.oldest_xact, agg.oldest_idle, agg.longest_query,
  (SELECT coalesce(json_agg(json_build_array(pid, blockers)), '[]') FROM
     (SELECT pid, pg_blocking_pids(pid) AS blockers FROM a WHERE wait_event_type = 'Lock') b
     WHERE cardinality(blockers) > 0),
  (SELECT coalesce(json_agg(t), '[]') FROM
     (SELECT pid, app, pg_get_userbyid(usesysid) AS usename, state,
             extract(epoch FROM now() - xact_start) AS age)" +
         (expose_query_text ? ", query" : "") + R"(
      FROM a WHERE xact_start IS NOT NULL AND NOT self ORDER BY xact_start LIMIT )" +
         std::to_string(kOldestShown) + R"() t),
  current_setting('max_connections'),
  current_setting('superuser_reserved_connections'),
  )" + server.reserved_connections_sql() +
         R"(,
  pg_has_role(current_user, 'pg_monitor', 'MEMBER')
    OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
  agg.longest_lock_wait,
  )" + budgets_sql(budgets) +
         R"(
FROM agg)";
}

std::string ActivityProbe::budget_condition(const config::ApplicationBudget& budget) {
  std::string out = "app LIKE " + like_literal(budget.name);
  if (!budget.user.empty()) {
    out += " AND pg_get_userbyid(usesysid) = " + sql_literal(budget.user);
  }
  return out;
}

ActivityDigest parse_activity_row(const pg::Result& r) {
  ActivityDigest d;
  d.client_backends = r.get_int(0, 0);
  const auto states = json_at(r, 1);
  if (states.is_object()) {
    for (const auto& [state, n] : states.items()) d.by_state[state] = n.get<int>();
  }
  const auto apps = json_at(r, 2);
  int in_top = 0;
  if (apps.is_array()) {
    for (const auto& pair : apps) {
      const int n = pair.at(1).get<int>();
      d.top_applications.emplace_back(pair.at(0).get<std::string>(), n);
      d.top_application_busy.push_back(pair.size() > 2 ? pair.at(2).get<int>() : n);
      in_top += n;
    }
  }
  d.other_application_sessions = d.client_backends - in_top;
  d.distinct_applications = r.get_int(0, 3);
  const auto waits = json_at(r, 4);
  if (waits.is_object()) {
    for (const auto& [type, n] : waits.items()) d.waiting_by_event_type[type] = n.get<int>();
  }
  d.oldest_transaction_seconds = r.get_optional_double(0, 5);
  d.oldest_idle_in_transaction_seconds = r.get_optional_double(0, 6);
  d.longest_query_seconds = r.get_optional_double(0, 7);
  const auto blocked = json_at(r, 8);
  if (blocked.is_array()) {
    for (const auto& pair : blocked) {
      BlockedSession b;
      b.pid = pair.at(0).get<int>();
      for (const auto& pid : pair.at(1)) b.blocked_by.push_back(pid.get<int>());
      d.blocked.push_back(std::move(b));
    }
  }
  const auto oldest = json_at(r, 9);
  if (oldest.is_array()) {
    for (const auto& row : oldest) {
      SessionInfo s;
      s.pid = row.value("pid", 0);
      s.application = row.value("app", "");
      s.user = row["usename"].is_string() ? row["usename"].get<std::string>() : "";
      s.state = row.value("state", "");
      s.transaction_seconds = row["age"].is_number() ? row["age"].get<double>() : 0;
      if (row.contains("query") && row["query"].is_string())
        s.query = row["query"].get<std::string>();
      d.oldest_transactions.push_back(std::move(s));
    }
  }
  d.max_connections = r.get_int(0, 10);
  d.reserved_connections = r.get_int(0, 11) + r.get_int(0, 12);
  d.privileged = r.get(0, 13) == "t";
  d.longest_lock_wait_seconds = r.get_optional_double(0, 14);
  read_budgets(json_at(r, 15), d);
  return d;
}

async::Task<void> ActivityProbe::execute(ProbeContext& ctx, ProbeResult& result) {
  pool::Lease lease = co_await acquire(ctx, result);
  pg::Connection& conn = lease.connection();
  const std::string statement = sql(ctx.activity_top_n, ctx.expose_query_text,
                                    ServerVersion{conn.server_version()}, budgets_);
  const pg::Result row = co_await query(ctx, result, conn, statement);
  result.activity = std::make_shared<const ActivityDigest>(parse_activity_row(row));
}

}  // namespace pgv::probes
