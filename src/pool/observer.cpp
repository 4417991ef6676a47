#include "pool/observer.hpp"

namespace pgv::pool {

std::string_view to_string(CloseReason reason) noexcept {
  switch (reason) {
    case CloseReason::recycled:
      return "recycled";
    case CloseReason::invalidated:
      return "invalidated";
    case CloseReason::overflow:
      return "overflow";
    case CloseReason::error:
      return "error";
    case CloseReason::shutdown:
      return "shutdown";
  }
  return "error";
}

}  // namespace pgv::pool
