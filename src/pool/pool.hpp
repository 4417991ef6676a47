#pragma once

#include <memory>
#include <optional>

#include "async/task.hpp"
#include "pg/conninfo.hpp"
#include "pool/lease.hpp"
#include "pool/observer.hpp"
#include "pool/options.hpp"

namespace pgv::pool {

// A pre-pinging libpq connection pool with SQLAlchemy QueuePool semantics (see
// DESIGN.md). Thread-safe. The coroutine forms never block their thread, so the
// scheduler can drive many pools from one event loop; the *_blocking forms run the
// same code to completion on the calling thread.
class Pool {
 public:
  Pool(pg::ConnectParams params, PoolOptions options, PoolObserver* observer = nullptr);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  Pool(Pool&&) = delete;
  Pool& operator=(Pool&&) = delete;

  // Waits for a free slot until min(deadline, now + options.timeout); connecting and
  // pre-ping are bounded by `deadline`. Throws pg::Error: phase acquire with reason
  // timeout when no slot freed up (counted), phase connect or pre_ping otherwise.
  // `pre_ping = false` skips the round trip for a caller whose own first statement proves
  // the connection (and who retries on a fresh one when it fails, see Lease::reused()).
  async::Task<Lease> acquire(Deadline deadline, bool pre_ping = true);
  // Like acquire, but returns nullopt at once instead of queueing when every slot is taken.
  async::Task<std::optional<Lease>> try_acquire(Deadline deadline);
  // Replaces idle connections past `recycle` and opens one if none is alive (min_idle).
  async::Task<void> maintain(Deadline deadline);

  Lease acquire_blocking();
  std::optional<Lease> try_acquire_blocking();
  void maintain_blocking();

  // Closes idle connections now and every leased one when it comes back; queued
  // acquirers fail with reason shutdown.
  void close();

  PoolStats stats() const;
  const PoolOptions& options() const noexcept;

 private:
  std::shared_ptr<detail::Core> core_;
};

}  // namespace pgv::pool
