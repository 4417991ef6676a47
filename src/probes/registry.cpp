#include "probes/registry.hpp"

#include "config/error.hpp"
#include "probes/activity.hpp"
#include "probes/connectivity.hpp"
#include "probes/lifecycle.hpp"
#include "probes/new_connection.hpp"
#include "probes/pooler.hpp"
#include "probes/replication.hpp"
#include "probes/settings.hpp"

namespace pgv::probes {
namespace {

// The factory of each row of config::kProbeTable. A switch without default, so a new row
// without a case here is a compiler warning (an error with -Werror).
std::unique_ptr<Probe> make_probe(config::ProbeId id, const config::TargetConfig& target,
                                  const config::AgentConfig& agent) {
  switch (id) {
    case config::ProbeId::connectivity:
      return std::make_unique<ConnectivityProbe>(target.kind);
    case config::ProbeId::new_connection:
      return std::make_unique<NewConnectionProbe>(target.interval);
    case config::ProbeId::lifecycle:
      return std::make_unique<LifecycleProbe>();
    case config::ProbeId::settings:
      return std::make_unique<SettingsProbe>(agent.settings_every);
    case config::ProbeId::activity:
      return std::make_unique<ActivityProbe>(target.applications);
    case config::ProbeId::replication:
      return std::make_unique<ReplicationProbe>(agent.settings_every);
    case config::ProbeId::pooler:
      return std::make_unique<PoolerProbe>(agent.settings_every);
  }
  return nullptr;
}

}  // namespace

std::vector<std::unique_ptr<Probe>> make_probes(const config::TargetConfig& target,
                                                const config::AgentConfig& agent) {
  std::vector<std::unique_ptr<Probe>> out;
  for (const std::string& name : target.probes) {
    const config::ProbeSpec* spec = config::find_probe(name);
    if (spec == nullptr) {
      std::string allowed;
      for (const std::string& known : config::known_probes()) {
        allowed += (allowed.empty() ? "" : ", ") + known;
      }
      throw config::ConfigError("config: targets." + target.name + ".probes: unknown probe: got '" +
                                name + "'; allowed: " + allowed);
    }
    out.push_back(make_probe(spec->id, target, agent));
  }
  return out;
}

}  // namespace pgv::probes
