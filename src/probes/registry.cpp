#include "probes/registry.hpp"

#include "config/error.hpp"
#include "probes/activity.hpp"
#include "probes/connectivity.hpp"
#include "probes/lifecycle.hpp"
#include "probes/new_connection.hpp"
#include "probes/settings.hpp"

namespace pgv::probes {

std::vector<std::unique_ptr<Probe>> make_probes(const config::TargetConfig& target,
                                                const config::AgentConfig& agent) {
  std::vector<std::unique_ptr<Probe>> out;
  for (const std::string& name : target.probes) {
    if (name == "connectivity") {
      out.push_back(std::make_unique<ConnectivityProbe>());
    } else if (name == "new_connection") {
      out.push_back(std::make_unique<NewConnectionProbe>(target.interval));
    } else if (name == "lifecycle") {
      out.push_back(std::make_unique<LifecycleProbe>());
    } else if (name == "settings") {
      out.push_back(std::make_unique<SettingsProbe>(agent.settings_every));
    } else if (name == "activity") {
      out.push_back(std::make_unique<ActivityProbe>());
    } else {
      throw config::ConfigError("config: targets." + target.name + ".probes: unknown probe: got '" +
                                name +
                                "'; allowed: connectivity, new_connection, lifecycle, "
                                "settings, activity");
    }
  }
  return out;
}

}  // namespace pgv::probes
