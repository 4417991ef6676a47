#include "pg/hostaddr.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

namespace pgv::pg {
namespace {

const std::string* find(const Options& options, std::string_view key) {
  for (const auto& [k, v] : options) {
    if (k == key) return &v;
  }
  return nullptr;
}

void set(Options& options, std::string_view key, std::string value) {
  for (auto& [k, v] : options) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  options.emplace_back(std::string(key), std::move(value));
}

// libpq's own list syntax: comma-separated, empty entries allowed.
std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::string::size_type start = 0;
  for (;;) {
    const auto comma = list.find(',', start);
    out.push_back(list.substr(start, comma - start));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += items[i];
  }
  return out;
}

// The host list libpq will use, or nothing when no lookup is ours to make.
std::optional<std::string> effective_hosts(const Options& options, const HostEnvironment& env) {
  if (find(options, "hostaddr")) return std::nullopt;
  if (const std::string* host = find(options, "host")) return *host;
  if (env.hostaddr) return std::nullopt;
  if (env.host) return env.host;
  return std::nullopt;  // libpq's default socket directory, or the service file's host
}

}  // namespace

HostEnvironment HostEnvironment::current() {
  HostEnvironment env;
  if (const char* h = std::getenv("PGHOST"); h && *h) env.host = h;
  if (const char* a = std::getenv("PGHOSTADDR"); a && *a) env.hostaddr = a;
  return env;
}

bool needs_lookup(std::string_view host) noexcept {
  if (host.empty() || host.front() == '/' || host.front() == '@') return false;
  if (host.size() >= INET6_ADDRSTRLEN) return true;
  char text[INET6_ADDRSTRLEN] = {};
  std::copy(host.begin(), host.end(), text);
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, text, buf) != 1 && inet_pton(AF_INET6, text, buf) != 1;
}

std::vector<std::string> names_to_look_up(const Options& options, const HostEnvironment& env) {
  std::vector<std::string> names;
  const auto hosts = effective_hosts(options, env);
  if (!hosts) return names;
  for (const std::string& host : split(*hosts)) {
    if (needs_lookup(host) && std::find(names.begin(), names.end(), host) == names.end()) {
      names.push_back(host);
    }
  }
  return names;
}

Options with_addresses(Options options, const HostEnvironment& env,
                       const std::map<std::string, std::vector<std::string>>& addresses) {
  const auto hosts_list = effective_hosts(options, env);
  if (!hosts_list) return options;
  const std::vector<std::string> hosts = split(*hosts_list);
  const std::string* port_list = find(options, "port");
  const std::vector<std::string> ports = port_list ? split(*port_list) : std::vector<std::string>{};
  // One port for every host stays as it is; a list must follow the expanded hosts.
  const bool per_host_ports = ports.size() > 1 && ports.size() == hosts.size();

  std::vector<std::string> out_hosts;
  std::vector<std::string> out_addrs;
  std::vector<std::string> out_ports;
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    const std::string& host = hosts[i];
    std::vector<std::string> addrs{""};
    if (needs_lookup(host)) {
      auto it = addresses.find(host);
      if (it == addresses.end() || it->second.empty()) {
        throw std::logic_error("with_addresses: no address for " + host);
      }
      addrs = it->second;
    }
    for (const std::string& addr : addrs) {
      out_hosts.push_back(host);
      out_addrs.push_back(addr);
      if (per_host_ports) out_ports.push_back(ports[i]);
    }
  }
  if (std::all_of(out_addrs.begin(), out_addrs.end(), [](const auto& a) { return a.empty(); })) {
    return options;
  }
  set(options, "host", join(out_hosts));
  set(options, "hostaddr", join(out_addrs));
  if (per_host_ports) set(options, "port", join(out_ports));
  return options;
}

std::string name_addresses(std::string message,
                           const std::map<std::string, std::vector<std::string>>& addresses) {
  std::map<std::string, std::string> done;  // an address two names share keeps the first
  for (const auto& [name, addrs] : addresses) {
    for (const std::string& addr : addrs) {
      if (!done.emplace(addr, name).second) continue;
      const std::string bare = "at \"" + addr + "\", port";
      const std::string named = "at \"" + name + "\" (" + addr + "), port";
      for (auto pos = message.find(bare); pos != std::string::npos;
           pos = message.find(bare, pos + named.size())) {
        message.replace(pos, bare.size(), named);
      }
    }
  }
  return message;
}

}  // namespace pgv::pg
