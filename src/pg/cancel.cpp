#include "pg/cancel.hpp"

#include <libpq-fe.h>

#include <array>
#include <atomic>
#include <memory>
#include <thread>

namespace pgv::pg {
namespace {

std::atomic<int> g_in_flight{0};

struct CancelDeleter {
  void operator()(PGcancel* c) const noexcept { PQfreeCancel(c); }
};

}  // namespace

int cancels_in_flight() noexcept {
  return g_in_flight.load(std::memory_order_relaxed);
}

bool cancel_in_background(const Connection& conn) {
  if (!conn) return false;
  if (g_in_flight.fetch_add(1) >= kMaxCancelsInFlight) {
    g_in_flight.fetch_sub(1);
    return false;
  }
  std::unique_ptr<PGcancel, CancelDeleter> cancel(PQgetCancel(conn.raw()));
  if (!cancel) {
    g_in_flight.fetch_sub(1);
    return false;
  }
  try {
    std::thread([cancel = std::move(cancel)] {
      std::array<char, 256> errbuf{};
      PQcancel(cancel.get(), errbuf.data(), static_cast<int>(errbuf.size()));
      g_in_flight.fetch_sub(1);
    }).detach();
  } catch (const std::system_error&) {
    g_in_flight.fetch_sub(1);
    return false;
  }
  return true;
}

}  // namespace pgv::pg
