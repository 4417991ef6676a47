#pragma once

#include <memory>
#include <optional>

#include "pool/core.hpp"

namespace pgv::pool {

class Pool;

// A connection checked out of a Pool. Destroying the lease returns it: rolled back if a
// transaction is open, discarded if broken or too old. Move-only.
class Lease {
 public:
  Lease() = default;
  Lease(Lease&& other) noexcept;
  Lease& operator=(Lease&& other) noexcept;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease() { release(); }

  explicit operator bool() const noexcept { return item_.has_value(); }
  // Throws std::logic_error on an empty lease.
  pg::Connection& connection();
  pg::Connection* operator->() { return &connection(); }
  Clock::time_point created() const noexcept {
    return item_ ? item_->created : Clock::time_point{};
  }
  // Whether the connection came from the pool's idle set (it may have died there).
  bool reused() const noexcept { return item_ && item_->reused; }
  // Closes a connection found dead (counted as invalidated) and gives the slot back.
  void invalidate() noexcept;

  // Returns the connection now instead of at destruction.
  void release() noexcept;

 private:
  friend struct LeaseAccess;
  explicit Lease(std::shared_ptr<detail::Core> core) noexcept : core_(std::move(core)) {}

  std::shared_ptr<detail::Core> core_;  // set while this lease holds one of the pool's slots
  std::optional<detail::Pooled> item_;
};

}  // namespace pgv::pool
