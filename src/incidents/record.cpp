#include "incidents/record.hpp"

namespace pgv::incidents {

std::string_view to_string(Trigger t) noexcept {
  switch (t) {
    case Trigger::down:
      return "down";
    case Trigger::not_ready:
      return "not_ready";
    case Trigger::saturation:
      return "saturation";
    case Trigger::blocked_sessions:
      return "blocked_sessions";
    case Trigger::oldest_transaction:
      return "oldest_transaction";
  }
  return "down";
}

IncidentSummary summary_of(const IncidentRecord& r) {
  return {r.id, r.target, r.trigger, r.opened_unix, r.closed_unix, r.first_error};
}

}  // namespace pgv::incidents
