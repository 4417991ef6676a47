#include "fake_dns.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace pgv::testing {
namespace {

using Bytes = std::vector<std::uint8_t>;
using SteadyClock = std::chrono::steady_clock;

struct Query {
  std::uint16_t id = 0;
  std::string name;  // lower case, no trailing dot
  std::uint16_t type = 0;
  std::size_t question_end = 0;  // offset just past the question
};

bool parse(const Bytes& msg, Query& q) {
  if (msg.size() < 12) return false;
  q.id = static_cast<std::uint16_t>(msg[0] << 8 | msg[1]);
  std::size_t i = 12;
  while (i < msg.size() && msg[i] != 0) {
    const std::size_t len = msg[i];
    if (len > 63 || i + 1 + len > msg.size()) return false;
    if (!q.name.empty()) q.name += '.';
    for (std::size_t k = 0; k < len; ++k) {
      q.name += static_cast<char>(std::tolower(msg[i + 1 + k]));
    }
    i += 1 + len;
  }
  if (i + 5 > msg.size()) return false;
  q.type = static_cast<std::uint16_t>(msg[i + 1] << 8 | msg[i + 2]);
  q.question_end = i + 5;
  return true;
}

void put16(Bytes& out, unsigned v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

// rcode 0 with `address` (A) or without (NODATA), or 3 (NXDOMAIN).
Bytes reply(const Bytes& msg, const Query& q, int rcode, const std::string& address, int ttl) {
  Bytes out;
  put16(out, q.id);
  put16(out, 0x8180U | static_cast<unsigned>(rcode));  // response, recursion desired+available
  put16(out, 1);
  put16(out, address.empty() ? 0 : 1);
  put16(out, 0);
  put16(out, 0);
  out.insert(out.end(), msg.begin() + 12, msg.begin() + static_cast<long>(q.question_end));
  if (!address.empty()) {
    put16(out, 0xC00C);  // the name of the question
    put16(out, 1);       // A
    put16(out, 1);       // IN
    put16(out, static_cast<unsigned>(ttl) >> 16);
    put16(out, static_cast<unsigned>(ttl) & 0xFFFF);
    put16(out, 4);
    in_addr a{};
    inet_pton(AF_INET, address.c_str(), &a);
    const auto* b = reinterpret_cast<const std::uint8_t*>(&a);
    out.insert(out.end(), b, b + 4);
  }
  return out;
}

struct Pending {
  SteadyClock::time_point when;
  Bytes bytes;
  sockaddr_in peer{};
};

}  // namespace

FakeDns::FakeDns() {
  fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error("fake dns: socket failed");
  // 127.53.x.y: far from the addresses other tests (and systemd-resolved's 127.0.0.53) use.
  for (int host = 1; host < 250 && address_.empty(); ++host) {
    const std::string candidate =
        "127.53." + std::to_string(getpid() % 250) + "." + std::to_string(host);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(53);
    inet_pton(AF_INET, candidate.c_str(), &addr.sin_addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) address_ = candidate;
  }
  if (address_.empty()) {
    ::close(fd_);
    throw std::runtime_error("fake dns: no loopback address with port 53 free (needs root)");
  }
  if (::pipe2(wake_, O_CLOEXEC) != 0) throw std::runtime_error("fake dns: pipe failed");
  thread_ = std::thread([this] { run(); });
}

FakeDns::~FakeDns() {
  stop_ = true;
  [[maybe_unused]] auto n = ::write(wake_[1], "x", 1);
  thread_.join();
  ::close(fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

void FakeDns::add(const std::string& name, Record record) {
  std::lock_guard lock(mutex_);
  records_[name] = std::move(record);
}

std::string FakeDns::resolv_conf() const {
  return "nameserver " + address_ + "\noptions timeout:5 attempts:1\n";
}

int FakeDns::queries(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = queries_.find(name);
  return it == queries_.end() ? 0 : it->second;
}

void FakeDns::run() {
  std::vector<Pending> pending;
  while (!stop_) {
    int timeout_ms = -1;
    const auto now = SteadyClock::now();
    for (const Pending& p : pending) {
      const auto ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(p.when - now).count() + 1;
      if (timeout_ms < 0 || ms < timeout_ms) timeout_ms = ms < 0 ? 0 : static_cast<int>(ms);
    }
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    ::poll(fds, 2, timeout_ms);
    if (fds[0].revents & POLLIN) {
      Bytes msg(512);
      sockaddr_in peer{};
      socklen_t len = sizeof peer;
      const auto n =
          ::recvfrom(fd_, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&peer), &len);
      Query q;
      if (n > 0) msg.resize(static_cast<std::size_t>(n));
      if (n > 0 && parse(msg, q)) {
        std::lock_guard lock(mutex_);
        ++queries_[q.name];
        auto it = records_.find(q.name);
        Pending p;
        p.peer = peer;
        if (it == records_.end()) {
          p.when = SteadyClock::now();
          p.bytes = reply(msg, q, 3, "", 0);
        } else {
          p.when = SteadyClock::now() + it->second.delay;
          p.bytes = reply(msg, q, 0, q.type == 1 ? it->second.address : "", it->second.ttl);
        }
        pending.push_back(std::move(p));
      }
    }
    const auto due = SteadyClock::now();
    for (auto it = pending.begin(); it != pending.end();) {
      if (it->when > due) {
        ++it;
        continue;
      }
      ::sendto(fd_, it->bytes.data(), it->bytes.size(), 0,
               reinterpret_cast<const sockaddr*>(&it->peer), sizeof it->peer);
      it = pending.erase(it);
    }
  }
}

}  // namespace pgv::testing
