#include "probes/settings.hpp"

namespace pgv::probes {

std::string SettingsProbe::sql(ServerVersion server) {
  return std::string(
             "SELECT current_setting('server_version_num'), current_setting('server_version'), "
             "current_setting('max_connections'), "
             "current_setting('superuser_reserved_connections'), ") +
         server.reserved_connections_sql() + ", pg_is_in_recovery()";
}

async::Task<void> SettingsProbe::execute(ProbeContext& ctx, ProbeResult& result) {
  pool::Lease lease = co_await acquire(ctx, result);
  pg::Connection& conn = lease.connection();
  const std::string statement = sql(ServerVersion{conn.server_version()});
  const pg::Result r = co_await query(ctx, result, conn, statement);
  ServerSettings s;
  s.version_num = r.get_int(0, 0);
  s.version = std::string(r.get(0, 1));
  s.max_connections = r.get_int(0, 2);
  s.superuser_reserved_connections = r.get_int(0, 3);
  s.reserved_connections = r.get_int(0, 4);
  s.in_recovery = r.get(0, 5) == "t";
  result.settings = s;
  result.in_recovery = s.in_recovery;
}

}  // namespace pgv::probes
