// The CLI only: parse flags, hand over to app::run_agent / app::run_check.
#include <malloc.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>
#include <string>

#include "app/agent.hpp"
#include "app/check.hpp"
#include "app/incident_report.hpp"
#include "app/probe.hpp"
#include "config/redact.hpp"
#include "version.hpp"

namespace {

void add_common_flags(CLI::App& cmd, pgv::config::FlagOverrides& flags) {
  auto optional = [&cmd](const char* name, std::optional<std::string>& slot, const char* help) {
    cmd.add_option_function<std::string>(
        name, [&slot](const std::string& v) { slot = v; }, help);
  };
  optional("--config", flags.config_file, "YAML configuration file (also PGVITALS_CONFIG)");
  optional("--listen", flags.listen, "HOST:PORT to serve on (default 0.0.0.0:9188)");
  optional("--interval", flags.interval, "probe interval for every target, e.g. 5s, 500ms");
  optional("--timeout", flags.timeout, "deadline of each probe, e.g. 2s");
  optional("--log-format", flags.log_format, "text or json");
  optional("--log-level", flags.log_level, "trace, debug, info, warn, error or off");
}

}  // namespace

int main(int argc, char** argv) {
  // glibc raises its mmap threshold each time a large block is freed, after which the
  // megabytes of a big /metrics rendering come from the heap and stay resident for good;
  // a fixed threshold returns them at once. Two arenas, not one per thread: the threads
  // mostly sleep, and every arena keeps its own free memory.
  ::mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  ::mallopt(M_ARENA_MAX, 2);
  // Before any thread exists, so every thread inherits the mask and only sigwait sees them.
  pgv::app::block_agent_signals();

  CLI::App app{"pgvitals: PostgreSQL health agent"};
  app.set_version_flag("--version", std::string("pgvitals ") + pgv::kVersion);
  app.require_subcommand(1);

  pgv::config::FlagOverrides run_flags;
  bool check_config = false;
  CLI::App* run =
      app.add_subcommand("run", "run the agent: probes in the background, HTTP endpoints");
  add_common_flags(*run, run_flags);
  run->add_flag("--check-config", check_config, "validate the configuration and exit (0 or 2)");

  pgv::config::FlagOverrides check_flags;
  std::string format = "text";
  CLI::App* check = app.add_subcommand("check", "run every probe once and print a report");
  add_common_flags(*check, check_flags);
  check->add_option("--format", format, "text or json");
  std::optional<std::string> incident;
  std::optional<std::string> incidents_dir;
  CLI::Option* incident_opt = check->add_option_function<std::string>(
      "--incident", [&incident](const std::string& v) { incident = v; },
      "print a recorded incident instead (last or an id): needs no agent and no database");
  check
      ->add_option_function<std::string>(
          "--incidents-dir", [&incidents_dir](const std::string& v) { incidents_dir = v; },
          "with --incident: where the records are (default incidents.dir, "
          "PGVITALS_INCIDENTS_DIR)")
      ->needs(incident_opt);

  pgv::app::ProbeOptions probe_options;
  CLI::App* probe = app.add_subcommand(
      "probe", "GET the agent's /livez (or URL): exit 0 on 2xx, 1 otherwise, 2 on bad arguments");
  probe->add_option_function<std::string>(
      "url", [&](const std::string& v) { probe_options.url = v; },
      "URL to ask (default http://127.0.0.1:<listen port>/livez)");
  probe->add_option_function<std::string>(
      "--config", [&](const std::string& v) { probe_options.config_file = v; },
      "config file for the port, TLS and credentials (also PGVITALS_CONFIG)");
  probe->add_option("--timeout", probe_options.timeout, "deadline of the whole request (5s)");
  probe->add_option("--cacert", probe_options.cacert, "CA bundle to verify an https agent");
  probe->add_flag("--insecure", probe_options.insecure, "do not verify an https agent");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // CLI11 quotes the arguments it did not expect, which may be a DSN pasted in the
    // wrong place: the message goes through the redaction helper, not app.exit().
    std::fprintf(stderr, "%s\nRun with --help for more information.\n",
                 pgv::config::redact(e.what()).c_str());
    return 2;  // a bad flag is bad configuration
  }
  if (run->parsed()) return pgv::app::run_agent(run_flags, check_config);
  if (probe->parsed()) return pgv::app::run_probe(probe_options);
  if (incident) return pgv::app::run_incident_report(check_flags, *incident, format, incidents_dir);
  return pgv::app::run_check(check_flags, format);
}
