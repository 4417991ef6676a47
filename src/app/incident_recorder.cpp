#include "app/incident_recorder.hpp"

#include "http/health.hpp"
#include "log/log.hpp"

namespace pgv::app {
namespace {

// A target is judged by the health answers' own rules, so an incident opens exactly when
// /healthz or /readyz starts failing for it.
incidents::Verdict judge(const telemetry::Snapshot& snapshot, const telemetry::TargetState& t,
                         Clock::time_point now) {
  incidents::Verdict v;
  const http::Check up = http::up_check(t, now);
  v.up = up.ok;
  v.up_detail = up.detail;
  const http::Report ready = http::evaluate(snapshot, http::Endpoint::readyz, t.name, {}, now);
  v.ready = ready.ok;
  for (const auto& c : ready.checks) {
    if (c.ok || !c.counted) continue;
    v.ready_detail = c.name + ": " + c.detail;
    break;
  }
  return v;
}

incidents::IncidentFiles::Limits limits_of(const config::IncidentsConfig& c) {
  return {static_cast<std::size_t>(c.keep), c.max_bytes};
}

}  // namespace

IncidentRecorder::IncidentRecorder(const config::AgentConfig& config, telemetry::Telemetry& tel)
    : log_(static_cast<std::size_t>(config.incidents.keep)) {
  prometheus::Counter& write_failures = tel.metrics.incident_write_failures.Add({});
  if (!config.incidents.dir.empty()) {
    files_ = std::make_unique<incidents::IncidentFiles>(
        config.incidents.dir, limits_of(config.incidents),
        [&write_failures] { write_failures.Increment(); });
    std::size_t reopened = 0;
    for (auto& record : files_->load()) {
      // One left open by an agent that died is shown closed ("agent restarted"): persist that.
      if (record->ended == "agent restarted") {
        files_->write(record);
        ++reopened;
      }
      log_.publish(std::move(record));
    }
    logging::log(logging::LogLevel::info, "incident records loaded",
                 {{"dir", config.incidents.dir},
                  {"records", static_cast<long long>(log_.list().size())},
                  {"left_open", static_cast<long long>(reopened)}});
  }
  incidents::Watcher::Sink sink;
  if (files_) sink = [files = files_.get()](auto record) { files->write(std::move(record)); };
  watcher_ = std::make_unique<incidents::Watcher>(
      tel, log_, judge, incidents::TrackerSettings::from(config.incidents), std::move(sink));
}

IncidentRecorder::~IncidentRecorder() {
  stop();
}

void IncidentRecorder::start() {
  watcher_->start();
}

void IncidentRecorder::stop() {
  watcher_->stop();
  if (files_) files_->flush();
}

void IncidentRecorder::reload(const config::AgentConfig& config) {
  log_.set_keep(static_cast<std::size_t>(config.incidents.keep));
  watcher_->set_settings(incidents::TrackerSettings::from(config.incidents));
  if (files_) files_->set_limits(limits_of(config.incidents));
}

}  // namespace pgv::app
