#include "probes/connectivity.hpp"

namespace pgv::probes {

async::Task<void> ConnectivityProbe::execute(ProbeContext& ctx, ProbeResult& result) {
  pool::Lease lease = co_await acquire(ctx, result);
  const pg::Result rows = co_await query(ctx, result, lease.connection(), kSql);
  result.in_recovery = rows.rows() == 1 && rows.get(0, 0) == "t";
}

}  // namespace pgv::probes
