// The SQL each probe sends is chosen from the server's version; the version matrix runs it
// against real 13-18 servers, these cases pin which fragment each version gets.
#include "probes/server_versions.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "probes/activity.hpp"
#include "probes/lifecycle.hpp"
#include "probes/replication.hpp"
#include "probes/settings.hpp"

using pgv::probes::ActivityProbe;
using pgv::probes::ServerVersion;
using pgv::probes::SettingsProbe;

namespace {

bool mentions(const std::string& sql, const std::string& what) {
  return sql.find(what) != std::string::npos;
}

}  // namespace

TEST_CASE("reserved_connections is read from 16 on and is 0 before", "[probes][versions]") {
  for (const int num : {130023, 140023, 150018}) {
    INFO(num);
    CHECK_FALSE(mentions(SettingsProbe::sql(ServerVersion{num}),
                         "current_setting('reserved_connections')"));
    CHECK_FALSE(mentions(ActivityProbe::sql(20, false, ServerVersion{num}),
                         "current_setting('reserved_connections')"));
  }
  for (const int num : {160000, 170010, 180004}) {
    INFO(num);
    CHECK(mentions(SettingsProbe::sql(ServerVersion{num}),
                   "current_setting('reserved_connections')"));
    CHECK(mentions(ActivityProbe::sql(20, false, ServerVersion{num}),
                   "current_setting('reserved_connections')"));
  }
  // Never the lenient form that would also hide a misspelt setting.
  CHECK_FALSE(mentions(SettingsProbe::sql(ServerVersion{170010}), ", true)"));
}

TEST_CASE("the transaction ID comes from pg_current_xact_id on 13 and later",
          "[probes][versions]") {
  CHECK(std::string(ServerVersion{130023}.current_xact_id_sql()) == "pg_current_xact_id()");
  CHECK(std::string(ServerVersion{180004}.current_xact_id_sql()) == "pg_current_xact_id()");
  CHECK(std::string(ServerVersion{120022}.current_xact_id_sql()) == "txid_current()");
}

TEST_CASE("the replication query reads WAL senders' own rows and ages only when asked",
          "[probes][replication]") {
  const ServerVersion v{170010};
  const std::string with = pgv::probes::ReplicationProbe::sql(5, true, v);
  const std::string without = pgv::probes::ReplicationProbe::sql(5, false, v);
  CHECK(mentions(with, "pg_database"));
  CHECK_FALSE(mentions(without, "pg_database"));
  // Not the view, which joins every backend to the senders.
  CHECK_FALSE(mentions(with, "FROM pg_stat_replication"));
  CHECK(mentions(with, "pg_stat_get_activity(w.pid)"));
  CHECK(mentions(with, "LIMIT 5"));
}

TEST_CASE("the lifecycle statement takes a transaction ID only outside recovery",
          "[probes][versions]") {
  const std::string sql = pgv::probes::LifecycleProbe::statement_sql(ServerVersion{150018});
  CHECK(mentions(sql, "CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_xact_id() END"));
}
