#include "pool/lease.hpp"

#include <stdexcept>
#include <utility>

namespace pgv::pool {

Lease::Lease(Lease&& other) noexcept
    : core_(std::exchange(other.core_, nullptr)), item_(std::exchange(other.item_, std::nullopt)) {}

Lease& Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    core_ = std::exchange(other.core_, nullptr);
    item_ = std::exchange(other.item_, std::nullopt);
  }
  return *this;
}

pg::Connection& Lease::connection() {
  if (!item_) throw std::logic_error("pool lease is empty (already released or moved from)");
  return item_->conn;
}

void Lease::invalidate() noexcept {
  if (!core_ || !item_) return;
  try {
    core_->close_connection(*item_, CloseReason::invalidated);
  } catch (...) {
  }
  item_.reset();
  release();
}

void Lease::release() noexcept {
  if (!core_) return;
  auto core = std::exchange(core_, nullptr);
  try {
    core->give_back(std::exchange(item_, std::nullopt));
  } catch (...) {
    // Returning must not throw; a connection lost here is only a connection closed.
    item_.reset();
  }
}

}  // namespace pgv::pool
