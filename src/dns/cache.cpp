#include "dns/cache.hpp"

namespace pgv::dns {

std::optional<std::vector<std::string>> Cache::get(const std::string& name, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(name);
  if (it == entries_.end()) return std::nullopt;
  if (now >= it->second.expires) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.addresses;
}

void Cache::put(const std::string& name, std::vector<std::string> addresses, int ttl_seconds,
                Clock::time_point now) {
  if (ttl_seconds <= 0 || addresses.empty()) return;
  std::lock_guard lock(mutex_);
  // Names come from the configuration, so the map stays as small as the target list.
  entries_[name] = Entry{std::move(addresses), now + std::chrono::seconds(ttl_seconds)};
}

}  // namespace pgv::dns
