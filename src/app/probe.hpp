#pragma once

#include <optional>
#include <string>

namespace pgv::app {

struct ProbeOptions {
  std::optional<std::string> url;  // default: the agent's own /livez on 127.0.0.1
  std::optional<std::string> config_file;
  std::string timeout = "5s";
  std::string cacert;  // PEM bundle to verify an https agent with
  bool insecure = false;
};

// `pgvitals probe [URL]`: one GET with a deadline, for container HEALTHCHECKs and exec
// probes in images without curl. Exit 0 on a 2xx answer, 1 on any other status or no
// answer, 2 on bad arguments. Credentials come from the config file's auth section
// (--config, else PGVITALS_CONFIG) or the environment (PGVITALS_AUTH_BEARER_TOKEN,
// PGVITALS_AUTH_BASIC_USER with PGVITALS_AUTH_BASIC_PASSWORD). It never looks at a
// database: it asks whether the agent is alive, not whether the databases are.
int run_probe(const ProbeOptions& options);

}  // namespace pgv::app
