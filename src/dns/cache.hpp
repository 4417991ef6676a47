#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "async/clock.hpp"

namespace pgv::dns {

// Answers kept for as long as their TTL says, shared by every event-loop thread: a
// target's probes look its name up every cycle, the DNS server is asked once per TTL.
class Cache {
 public:
  std::optional<std::vector<std::string>> get(const std::string& name, Clock::time_point now);
  // A TTL of 0 (or less) is not kept.
  void put(const std::string& name, std::vector<std::string> addresses, int ttl_seconds,
           Clock::time_point now);

 private:
  struct Entry {
    std::vector<std::string> addresses;
    Clock::time_point expires;
  };
  std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

}  // namespace pgv::dns
