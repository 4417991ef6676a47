// Until the agent lands, `pgvitals check` is a one-shot connectivity smoke through the pool.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "async/blocking.hpp"
#include "config/dsn.hpp"
#include "config/error.hpp"
#include "pg/error.hpp"
#include "pg/query.hpp"
#include "pool/pool.hpp"
#include "version.hpp"

namespace {

int check() {
  const char* url = std::getenv("DATABASE_URL");
  if (url == nullptr || *url == '\0') {
    std::fprintf(stderr, "pgvitals check: DATABASE_URL is not set\n");
    return 2;
  }
  try {
    const pgv::config::Dsn dsn = pgv::config::parse_dsn(url);
    pgv::pg::SessionSettings session;
    session.statement_timeout = std::chrono::milliseconds(2000);
    pgv::pool::PoolOptions options;
    options.timeout = std::chrono::milliseconds(2000);
    pgv::pool::Pool pool(pgv::pg::make_connect_params(dsn, session), options);
    const auto start = pgv::Clock::now();
    pgv::pool::Lease lease = pool.acquire_blocking();
    const auto rows = pgv::async::run_blocking(
        pgv::pg::exec(lease.connection(), "SELECT 1", start + std::chrono::seconds(2)));
    std::printf("[+] %s ok: SELECT 1 in %.3f ms (backend pid %d)\n", dsn.redacted.c_str(),
                pgv::seconds_between(start, pgv::Clock::now()) * 1e3,
                lease.connection().backend_pid());
    return rows.rows() == 1 ? 0 : 1;
  } catch (const pgv::config::ConfigError& e) {
    std::fprintf(stderr, "pgvitals check: %s\n", e.what());
    return 2;
  } catch (const pgv::pg::Error& e) {
    std::printf("[-] failed in %s (%s): %s\n", std::string(pgv::pg::to_string(e.phase())).c_str(),
                e.reason().c_str(), e.what());
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "--version") == 0) {
    std::printf("pgvitals %s\n", pgv::kVersion);
    return 0;
  }
  if (argc >= 2 && std::strcmp(argv[1], "check") == 0) return check();
  std::fprintf(stderr, "usage: pgvitals check | pgvitals --version\n");
  return 2;
}
