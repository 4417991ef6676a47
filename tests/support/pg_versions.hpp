#pragma once

#include <optional>
#include <string>

namespace pgv::testing {

// Which PostgreSQL server the harness runs. PGVITALS_TEST_PG=13|14|15|16|17|18 picks a
// major version: Debian's package when it has that one (15 on Debian 12), otherwise the
// build scripts/install-pg put in the cache. Unset: the newest Debian server.
std::optional<int> requested_major();

// Where that server's binaries are (initdb, postgres). PGVITALS_PG_BINDIR overrides.
// Throws, naming the command that installs it, when the version is not there.
std::string pg_bindir();

// The major version of the server in pg_bindir() (from `postgres --version`, once).
int server_major();

// Where the initdb'd template of that server is: PGVITALS_PG_TEMPLATE (else a per-user
// directory under /tmp), with -pg<major> appended when a version is requested, so the
// matrix's versions never share a template.
std::string template_dir();

}  // namespace pgv::testing
