#pragma once

#include <chrono>
#include <string>

namespace pgv::pool {

// The SQLAlchemy QueuePool knobs, same names and defaults as DESIGN.md.
struct PoolOptions {
  int size = 2;          // connections kept open
  int max_overflow = 2;  // extra connections opened under load, closed when returned
  std::chrono::milliseconds timeout{30'000};       // how long acquire waits for a free slot
  std::chrono::milliseconds recycle{30 * 60'000};  // age after which a connection is replaced
  bool pre_ping = true;  // round trip before handing out a pooled connection
  // The pre-ping statement: the empty query costs the server nothing, but PgBouncer's admin
  // console answers it with an error, so a pooler's pool pings with SHOW VERSION.
  std::string ping_sql;
  int min_idle = 1;  // kept warm by maintain(), so probes measure the database

  int max_connections() const noexcept { return size + max_overflow; }
};

}  // namespace pgv::pool
