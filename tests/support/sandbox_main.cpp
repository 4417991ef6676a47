// pg-sandbox: a throwaway PostgreSQL for the demo and for scripts, from the same code the
// tests use. PGVITALS_TEST_PG=13|14|15|16|17|18 picks the server version (pg_versions.hpp).
//   pg-sandbox template                 create the shared initdb template, print its path
//   pg-sandbox run [opts] -- CMD ARGS   start a cluster, run CMD with DATABASE_URL set,
//                                       tear the cluster down when CMD exits
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "pg_cluster.hpp"

namespace {

volatile sig_atomic_t g_child = 0;

void forward(int sig) {
  if (g_child > 0) ::kill(g_child, sig);
}

int usage() {
  std::fprintf(
      stderr,
      "usage: pg-sandbox template\n"
      "       pg-sandbox run [--max-connections N] [--setting name=value]... -- CMD [ARGS...]\n");
  return 2;
}

int run(int argc, char** argv) {
  pgv::testing::ClusterOptions options;
  int i = 2;
  for (; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
    if (std::strcmp(argv[i], "--max-connections") == 0 && i + 1 < argc) {
      options.max_connections = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--setting") == 0 && i + 1 < argc) {
      options.settings.emplace_back(argv[++i]);
    } else {
      return usage();
    }
  }
  if (i + 1 >= argc) return usage();

  pgv::testing::PgCluster cluster(options);
  ::setenv("DATABASE_URL", cluster.dsn().c_str(), 1);
  ::setenv("PGVITALS_SANDBOX_ADMIN_DSN", cluster.admin_dsn().c_str(), 1);
  ::setenv("PGVITALS_SANDBOX_PID", std::to_string(cluster.postmaster_pid()).c_str(), 1);
  std::fprintf(stderr, "pg-sandbox: PostgreSQL on 127.0.0.1:%d (data %s), role pgvitals\n",
               cluster.port(), cluster.data_dir().c_str());

  struct sigaction sa {};
  sa.sa_handler = forward;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGHUP, &sa, nullptr);

  const pid_t child = ::fork();
  if (child == 0) {
    ::execvp(argv[i + 1], argv + i + 1);
    std::perror("pg-sandbox: exec");
    std::_Exit(127);
  }
  g_child = child;
  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
  }
  g_child = 0;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc >= 2 && std::strcmp(argv[1], "template") == 0) {
      std::printf("%s\n", pgv::testing::ensure_template().c_str());
      return 0;
    }
    if (argc >= 2 && std::strcmp(argv[1], "run") == 0) return run(argc, argv);
    return usage();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pg-sandbox: %s\n", e.what());
    return 1;
  }
}
