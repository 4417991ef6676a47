#include "probes/settings.hpp"

#include <charconv>

namespace pgv::probes {
namespace {

int to_int(std::string_view s) {
  int v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

}  // namespace

async::Task<void> SettingsProbe::execute(ProbeContext& ctx, ProbeResult& result) {
  pool::Lease lease = co_await acquire(ctx, result);
  const pg::Result r = co_await query(ctx, result, lease.connection(), kSql);
  ServerSettings s;
  s.version_num = to_int(r.get(0, 0));
  s.version = std::string(r.get(0, 1));
  s.max_connections = to_int(r.get(0, 2));
  s.superuser_reserved_connections = to_int(r.get(0, 3));
  s.reserved_connections = to_int(r.get(0, 4));
  s.in_recovery = r.get(0, 5) == "t";
  result.settings = s;
  result.in_recovery = s.in_recovery;
}

}  // namespace pgv::probes
