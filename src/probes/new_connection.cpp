#include "probes/new_connection.hpp"

#include "pg/connect.hpp"

namespace pgv::probes {

NewConnectionProbe::NewConnectionProbe(std::chrono::milliseconds interval)
    : Probe(config::ProbeId::new_connection) {
  const auto ms = std::max<std::chrono::milliseconds::rep>(interval.count(), 1);
  every_ = static_cast<std::uint64_t>((spec().min_spacing.count() + ms - 1) / ms);
  if (every_ < 1) every_ = 1;
}

async::Task<void> NewConnectionProbe::execute(ProbeContext& ctx, ProbeResult& result) {
  pg::ConnectTiming timing;
  pg::Connection conn = co_await pg::connect(ctx.params, ctx.deadline, &timing);
  result.add_phase("dns", timing.dns);
  result.add_phase("tcp", timing.tcp);
  result.add_phase("tls", timing.tls);
  result.add_phase("auth", timing.auth);
  conn.close();
}

}  // namespace pgv::probes
