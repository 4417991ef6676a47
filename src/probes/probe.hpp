#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "async/task.hpp"
#include "config/probe_catalog.hpp"
#include "pg/conninfo.hpp"
#include "pg/result.hpp"
#include "pool/pool.hpp"
#include "probes/result.hpp"

namespace pgv::probes {

// What a probe may use. Owned by the target's runtime; valid while the probe runs.
struct ProbeContext {
  std::string_view target;
  pool::Pool& pool;
  const pg::ConnectParams& params;
  Deadline deadline;
  std::uint64_t cycle = 0;
  bool echo_sql = false;  // log each statement at debug level (DB_ECHO_SQL)
  int activity_top_n = 20;
  bool expose_query_text = false;
};

// One health check. run() is the fixed entry point: it times the probe, keeps it under
// its deadline, and turns any failure into a result, so one failing probe never breaks a
// cycle. Each probe only says what to run (execute) and when (due).
class Probe {
 public:
  explicit Probe(config::ProbeId id) noexcept : spec_(config::probe_spec(id)) {}
  virtual ~Probe() = default;
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;
  Probe(Probe&&) = delete;
  Probe& operator=(Probe&&) = delete;

  // Its row of the probe table: name and the properties scheduler, telemetry and HTTP read.
  const config::ProbeSpec& spec() const noexcept { return spec_; }
  std::string_view name() const noexcept { return spec_.name; }
  // Whether this cycle should run the probe. Most run every cycle.
  virtual bool due(std::uint64_t /*cycle*/) const noexcept { return true; }

  // Never throws, except async::Cancelled when the agent stops the work.
  async::Task<ProbeResult> run(ProbeContext ctx);

 protected:
  virtual async::Task<void> execute(ProbeContext& ctx, ProbeResult& result) = 0;

  // Runs one statement, recording its duration as `phase`, echoing it if asked.
  static async::Task<pg::Result> query(ProbeContext& ctx, ProbeResult& result, pg::Connection& conn,
                                       std::string sql, std::string phase = "query");
  // Checks a connection out of the target's pool, recording the time as phase "acquire".
  static async::Task<pool::Lease> acquire(ProbeContext& ctx, ProbeResult& result,
                                          bool pre_ping = true);

 private:
  const config::ProbeSpec& spec_;
};

}  // namespace pgv::probes
