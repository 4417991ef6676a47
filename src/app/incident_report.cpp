#include "app/incident_report.hpp"

#include <cstdio>
#include <stdexcept>

#include "app/incident_text.hpp"
#include "config/error.hpp"
#include "config/loader.hpp"
#include "config/redact.hpp"
#include "incidents/files.hpp"
#include "incidents/record_json.hpp"
#include "log/log.hpp"

namespace pgv::app {
namespace {

// Each string of the record on its own: redacting the JSON text as a whole could swallow
// the quote that ends a value.
void redact_strings(nlohmann::json& j) {
  if (j.is_string()) {
    j = config::redact(j.get_ref<const std::string&>());
  } else if (j.is_structured()) {
    for (auto& item : j) redact_strings(item);
  }
}

}  // namespace

int run_incident_report(const config::FlagOverrides& flags, const std::string& which,
                        const std::string& format,
                        const std::optional<std::string>& incidents_dir) {
  if (format != "text" && format != "json") {
    std::fprintf(stderr, "pgvitals: --format: got '%s'; allowed: text, json\n",
                 config::redact(format).c_str());
    return 2;
  }
  if (which.empty()) {
    std::fprintf(stderr, "pgvitals: --incident: empty; allowed: last or an incident id\n");
    return 2;
  }
  std::string dir;
  try {
    // Only a file that skipped a record is worth a line on stderr.
    logging::init_logging("text", "warn");
    if (incidents_dir) {
      dir = *incidents_dir;
    } else {
      dir = config::load_incidents_config(flags, config::current_environment()).dir;
    }
  } catch (const config::ConfigError& e) {
    std::fprintf(stderr, "pgvitals: %s\n", e.what());
    return 2;
  }
  if (dir.empty()) {
    std::fprintf(stderr,
                 "pgvitals: incidents.dir is not set: give --incidents-dir DIR, set "
                 "PGVITALS_INCIDENTS_DIR, or incidents: {dir: ...} in the config file\n");
    return 2;
  }

  incidents::IncidentRecord record;
  try {
    record = incidents::read_incident(dir, which);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pgvitals: %s\n", config::redact(e.what()).c_str());
    return 1;
  }
  // The records were redacted when written; this is only belt and braces.
  if (format == "json") {
    nlohmann::json j = incidents::to_json(record);
    redact_strings(j);
    std::fputs((incidents::dump(j, 2) + "\n").c_str(), stdout);
  } else {
    std::fputs(config::redact(render_incident_text(record)).c_str(), stdout);
  }
  return 0;
}

}  // namespace pgv::app
