#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgv::pg {

using Options = std::vector<std::pair<std::string, std::string>>;

// What libpq would take from the environment when the DSN leaves host/hostaddr out.
struct HostEnvironment {
  std::optional<std::string> host;      // PGHOST
  std::optional<std::string> hostaddr;  // PGHOSTADDR
  static HostEnvironment current();
};

// True for a Unix-socket directory or abstract socket (`/...`, `@...`) and for an IPv4 or
// IPv6 literal: libpq reaches those without a name lookup.
bool needs_lookup(std::string_view host) noexcept;

// The host names libpq would look up (with a blocking getaddrinfo) for these options, each
// once, in DSN order. None when the DSN, or PGHOSTADDR for a DSN without host, already gives
// hostaddr, or when a `service` without host leaves the host to the service file.
std::vector<std::string> names_to_look_up(const Options& options, const HostEnvironment& env);

// Rewrites the options so that libpq connects to the looked-up addresses (`hostaddr=`)
// while `host=` keeps the names for TLS verify-full, SNI, .pgpass and the server's logs.
// A name with several addresses becomes that many entries (host repeated, and port when it
// is a list), so libpq still tries each address in turn, as it does after getaddrinfo.
// Sockets and IP literals keep an empty hostaddr entry (libpq reaches them itself).
// `addresses` must hold a non-empty answer for every name of names_to_look_up().
Options with_addresses(Options options, const HostEnvironment& env,
                       const std::map<std::string, std::vector<std::string>>& addresses);

// libpq names only the hostaddr in its messages once it has one ("connection to server at
// \"10.0.0.5\", port 5432 failed"); this puts the looked-up name back the way libpq writes
// it after its own lookup ("at \"db\" (10.0.0.5), port"), so errors still say which host.
std::string name_addresses(std::string message,
                           const std::map<std::string, std::vector<std::string>>& addresses);

}  // namespace pgv::pg
