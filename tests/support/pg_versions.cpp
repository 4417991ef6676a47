#include "pg_versions.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "process.hpp"

namespace fs = std::filesystem;

namespace pgv::testing {
namespace {

// The same rule as scripts/install-pg.
std::string pg_cache() {
  if (const char* env = std::getenv("PGVITALS_PG_CACHE")) return env;
  if (::getuid() == 0) return "/var/cache/pgvitals/postgresql";
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "/tmp") + "/.cache/pgvitals/postgresql";
}

}  // namespace

std::optional<int> requested_major() {
  const char* env = std::getenv("PGVITALS_TEST_PG");
  if (env == nullptr || *env == '\0') return std::nullopt;
  char* end = nullptr;
  const long major = std::strtol(env, &end, 10);
  if (*end != '\0' || major < 10 || major > 99) {
    throw std::runtime_error(std::string("PGVITALS_TEST_PG=") + env + ": want a major version");
  }
  return static_cast<int>(major);
}

std::string pg_bindir() {
  if (const char* env = std::getenv("PGVITALS_PG_BINDIR")) return env;
  if (const std::optional<int> major = requested_major()) {
    const std::string v = std::to_string(*major);
    const fs::path debian = fs::path("/usr/lib/postgresql") / v / "bin";
    if (fs::exists(debian / "postgres")) return debian.string();
    const fs::path cached = fs::path(pg_cache()) / v / "bin";
    if (fs::exists(cached / "postgres")) return cached.string();
    throw std::runtime_error("PostgreSQL " + v + " is not installed (looked in " + debian.string() +
                             " and " + cached.string() + "): run scripts/install-pg " + v);
  }
  std::string best;
  if (fs::exists("/usr/lib/postgresql")) {
    for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql")) {
      const fs::path bin = entry.path() / "bin";
      if (fs::exists(bin / "postgres") && bin.string() > best) best = bin.string();
    }
  }
  if (best.empty())
    throw std::runtime_error("no PostgreSQL server found: run scripts/install-deps");
  return best;
}

int server_major() {
  static const int major = [] {
    // "postgres (PostgreSQL) 17.10"
    const std::string out = run_command({pg_bindir() + "/postgres", "--version"});
    const auto space = out.rfind(' ');
    if (space == std::string::npos) throw std::runtime_error("postgres --version: " + out);
    return std::atoi(out.c_str() + space + 1);
  }();
  return major;
}

std::string template_dir() {
  std::string dir;
  if (const char* env = std::getenv("PGVITALS_PG_TEMPLATE")) {
    dir = env;
  } else {
    dir = "/tmp/pgvitals-pg-template-" + std::to_string(::getuid());
  }
  if (const std::optional<int> major = requested_major()) dir += "-pg" + std::to_string(*major);
  return dir;
}

}  // namespace pgv::testing
