#pragma once

#include <memory>

#include "config/agent_config.hpp"
#include "incidents/files.hpp"
#include "incidents/incident_log.hpp"
#include "incidents/watcher.hpp"
#include "telemetry/telemetry.hpp"

namespace pgv::app {

// The incident recorder as the agent runs it: the log HTTP reads, the watcher that fills
// it, and incidents.dir when set (its records loaded back at start).
class IncidentRecorder {
 public:
  // Throws config::ConfigError when incidents.dir cannot be written (the agent exits 2).
  IncidentRecorder(const config::AgentConfig& config, telemetry::Telemetry& telemetry);
  ~IncidentRecorder();
  IncidentRecorder(const IncidentRecorder&) = delete;
  IncidentRecorder& operator=(const IncidentRecorder&) = delete;

  void start();
  // Closes open incidents ("agent stopped") and writes them out.
  void stop();
  // Thresholds, windows and limits; incidents.dir itself changes at the next restart.
  void reload(const config::AgentConfig& config);
  const incidents::IncidentLog& log() const noexcept { return log_; }

 private:
  incidents::IncidentLog log_;
  std::unique_ptr<incidents::IncidentFiles> files_;
  std::unique_ptr<incidents::Watcher> watcher_;
};

}  // namespace pgv::app
