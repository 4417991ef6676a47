#pragma once

#include "probes/probe.hpp"
#include "probes/server_versions.hpp"

namespace pgv::probes {

// Server facts that change rarely: version, connection limits, recovery state. Runs on
// the first cycle and then every `every` cycles.
class SettingsProbe final : public Probe {
 public:
  static std::string sql(ServerVersion server);

  explicit SettingsProbe(int every)
      : Probe(config::ProbeId::settings), every_(every < 1 ? 1 : every) {}
  bool due(std::uint64_t cycle) const noexcept override { return cycle % every_ == 0; }

 protected:
  async::Task<void> execute(ProbeContext& ctx, ProbeResult& result) override;

 private:
  std::uint64_t every_;
};

}  // namespace pgv::probes
