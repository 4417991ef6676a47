#pragma once

#include "probes/probe.hpp"

namespace pgv::probes {

// Server facts that change rarely: version, connection limits, recovery state. Runs on
// the first cycle and then every `every` cycles.
class SettingsProbe final : public Probe {
 public:
  static constexpr const char* kSql =
      "SELECT current_setting('server_version_num'), current_setting('server_version'), "
      "current_setting('max_connections'), current_setting('superuser_reserved_connections'), "
      "coalesce(current_setting('reserved_connections', true), '0'), pg_is_in_recovery()";

  explicit SettingsProbe(int every)
      : Probe(config::ProbeId::settings), every_(every < 1 ? 1 : every) {}
  bool due(std::uint64_t cycle) const noexcept override { return cycle % every_ == 0; }

 protected:
  async::Task<void> execute(ProbeContext& ctx, ProbeResult& result) override;

 private:
  std::uint64_t every_;
};

}  // namespace pgv::probes
