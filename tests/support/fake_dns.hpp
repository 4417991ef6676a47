#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace pgv::testing {

// A DNS server on UDP port 53 of an otherwise unused loopback address (resolv.conf cannot
// name a port, so the address is what tells it apart; binding port 53 needs root, which the
// suite runs as). It answers A queries for the names it is given, each after its own delay,
// AAAA queries for them with no address, and NXDOMAIN for every other name.
class FakeDns {
 public:
  struct Record {
    std::string address;  // IPv4, text
    std::chrono::milliseconds delay{0};
    int ttl = 60;
  };

  FakeDns();
  ~FakeDns();
  FakeDns(const FakeDns&) = delete;
  FakeDns& operator=(const FakeDns&) = delete;
  FakeDns(FakeDns&&) = delete;
  FakeDns& operator=(FakeDns&&) = delete;

  void add(const std::string& name, Record record);
  const std::string& address() const noexcept { return address_; }
  // What to bind-mount over /etc/resolv.conf.
  std::string resolv_conf() const;
  // Queries received for `name` (any type).
  int queries(const std::string& name) const;

 private:
  void run();

  int fd_ = -1;
  int wake_[2] = {-1, -1};
  std::string address_;
  mutable std::mutex mutex_;
  std::map<std::string, Record> records_;
  std::map<std::string, int> queries_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace pgv::testing
