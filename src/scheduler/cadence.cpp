#include "scheduler/cadence.hpp"

#include "config/loader.hpp"

namespace pgv::scheduler {

Clock::duration first_delay(std::string_view name, Clock::duration interval,
                            std::size_t target_count) {
  if (target_count <= 1) return Clock::duration::zero();
  const std::uint64_t hash = config::stable_hash(name);
  return interval * static_cast<long>(hash % 10'000) / 10'000;
}

}  // namespace pgv::scheduler
