#include "telemetry/recorder.hpp"

#include <chrono>

#include "config/probe_catalog.hpp"
#include "log/log.hpp"

namespace pgv::telemetry {
namespace {

constexpr auto kRepeatLogEvery = std::chrono::seconds(60);
constexpr auto kDirectSearchEvery = std::chrono::seconds(60);

double seconds_of(config::Millis d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

TargetRecorder::TargetRecorder(Telemetry& hub, const config::TargetConfig& target,
                               pg::Endpoint endpoint, Clock::duration plateau_for)
    : hub_(hub),
      metrics_(hub.metrics, target.name, target.labels, target.required, target.probes, target.via),
      application_metrics_(hub.metrics, target.name, target.applications, plateau_for) {
  if (target.kind == config::TargetKind::pgbouncer) {
    pooler_metrics_ = std::make_unique<PoolerMetrics>(hub.metrics, target.name);
  }
  if (!target.via.empty()) {
    hop_up_ = std::make_unique<SeriesSet>(hub.metrics.path_hop_up, target.name);
    added_latency_ = std::make_unique<SeriesSet>(hub.metrics.path_added_latency, target.name);
  }
  TargetState& s = edit();
  s.name = target.name;
  s.kind = target.kind;
  s.via = target.via;
  s.endpoint = std::move(endpoint);
  s.labels = target.labels;
  s.applications = target.applications;
  s.required = target.required;
  s.interval_seconds = seconds_of(target.interval);
  s.timeout_seconds = seconds_of(target.timeout);
  s.probes = target.probes;
  s.max_replication_lag = target.max_replication_lag;
  publish();
}

TargetRecorder::~TargetRecorder() {
  hub_.state.remove(view().name);
}

const TargetState& TargetRecorder::view() const noexcept {
  return lent_ ? *published_ : state_;
}

TargetState& TargetRecorder::edit() {
  if (lent_) {
    state_ = *published_;
    lent_ = false;
  }
  return state_;
}

void TargetRecorder::publish() {
  auto made = std::make_shared<const TargetState>(std::move(edit()));
  published_ = made;
  lent_ = true;
  hub_.state.publish(std::move(made));
}

void TargetRecorder::record(const probes::ProbeResult& r) {
  const config::ProbeSpec* spec = config::find_probe(r.probe);
  record_check(r);
  if (spec != nullptr) record_by_role(r, *spec);
  record_server_facts(r);
  publish();
}

void TargetRecorder::record_check(const probes::ProbeResult& r) {
  CheckState& check = edit().checks[r.probe];
  const double now_unix = unix_now();
  check.ran = true;
  check.ok = r.ok;
  check.last_run_unix = now_unix;
  check.seconds = r.seconds;
  if (!r.ok) {
    record_failure(r, check);
    return;
  }
  check.last_success_unix = now_unix;
  check.last_success = Clock::now();
  check.reason.clear();
  check.phase.clear();
  check.sqlstate.clear();
  check.message.clear();
  check.hop.clear();
  check.hop_detail.clear();
  metrics_.probe_duration(r.probe).Observe(r.seconds);
  metrics_.probe_last_success(r.probe).Set(now_unix);
  limits_.erase(r.probe);
  edit().starting = false;
}

void TargetRecorder::record_by_role(const probes::ProbeResult& r, const config::ProbeSpec& spec) {
  if (spec.health == config::HealthGate::healthz) {
    const bool was_up = up_.value_or(false);
    if (!up_ || *up_ != r.ok) log_transition(r, was_up);
    up_ = r.ok;
    metrics_.up().Set(r.ok ? 1 : 0);
  }
  if (spec.id == config::ProbeId::activity && !r.ok) {
    metrics_.clear_activity();
    application_metrics_.clear();
  }
  if (spec.id == config::ProbeId::replication && !r.ok) {
    if (replication_metrics_) replication_metrics_->clear();
    edit().replication = nullptr;
  }
  if (spec.id == config::ProbeId::pooler && !r.ok) clear_pooler();
  if (r.ok && spec.times_connect) {
    double total = 0;
    for (const auto& [phase, secs] : r.phases) {
      metrics_.connect_phase(phase).Set(secs);
      total += secs;
    }
    metrics_.connect_duration().Observe(total);
    edit().connect_phases = r.phases;
  }
}

void TargetRecorder::record_server_facts(const probes::ProbeResult& r) {
  if (r.in_recovery) {
    edit().in_recovery = r.in_recovery;
    metrics_.set_in_recovery(*r.in_recovery);
  }
  if (r.settings) {
    edit().settings = r.settings;
    edit().in_recovery = r.settings->in_recovery;
    metrics_.set_server(
        r.settings->max_connections,
        r.settings->superuser_reserved_connections + r.settings->reserved_connections,
        r.settings->in_recovery, r.settings->version_num);
  }
  if (r.replication) record_replication(r.replication);
  if (r.pooler) record_pooler(r.pooler);
  if (!r.activity) return;
  edit().activity = r.activity;
  edit().activity_unix = unix_now();
  activity_this_cycle_ = true;
  // Valid as long as /healthz trusts a result (TargetState::fresh).
  const auto fresh_for = std::chrono::duration<double>(edit().max_age_seconds(r.probe));
  metrics_.set_activity(*r.activity,
                        Clock::now() + std::chrono::duration_cast<Clock::duration>(fresh_for));
  application_metrics_.set(*r.activity, Clock::now());
  if (!r.activity->privileged) warn_unprivileged();
}

void TargetRecorder::warn_unprivileged() {
  // Once per target, whichever probe notices first.
  if (warned_unprivileged_) return;
  warned_unprivileged_ = true;
  logging::log(logging::LogLevel::warn,
               "the monitoring role lacks pg_monitor: other roles' session states, ages, waits "
               "and queries, standbys' WAL positions and the WAL receiver's state are hidden; "
               "only counts are exact (GRANT pg_monitor TO <role>)",
               {{"target", edit().name}});
}

void TargetRecorder::record_replication(std::shared_ptr<const probes::ReplicationDigest> digest) {
  if (!replication_metrics_) {
    replication_metrics_ = std::make_unique<ReplicationMetrics>(hub_.metrics, edit().name);
  }
  replication_metrics_->set(*digest);
  replication_this_cycle_ = true;
  if (!digest->privileged) warn_unprivileged();
  edit().replication = std::move(digest);
}

void TargetRecorder::record_pooler(std::shared_ptr<const probes::PoolerDigest> digest) {
  if (pooler_metrics_) pooler_metrics_->set(*digest);
  pooler_this_cycle_ = true;
  edit().pooler = std::move(digest);
}

void TargetRecorder::clear_pooler() {
  if (pooler_metrics_) pooler_metrics_->clear();
  edit().pooler = nullptr;
}

PathTargets TargetRecorder::path_targets() {
  PathTargets path;
  path.pooler = hub_.state.get(edit().via);
  if (!path.pooler) return path;
  if (!direct_.empty()) {
    path.direct = hub_.state.get(direct_);
    // While the pooler's console does not answer, its last known mapping still holds.
    const bool unknown_now = !path.pooler->pooler;
    if (path.direct && (unknown_now || reaches_same_server(edit(), *path.pooler, *path.direct))) {
      return path;
    }
    path.direct = nullptr;
    direct_.clear();
  }
  // Without a direct target the fleet is walked (and its snapshot copied) at most once a
  // minute, or when the pooler names another server: not every cycle of every path.
  const probes::PoolerDatabase* db =
      path.pooler->pooler ? path.pooler->pooler->database(edit().endpoint.dbname) : nullptr;
  const std::string server = db ? db->host + ":" + std::to_string(db->port) : "";
  const Clock::time_point now = Clock::now();
  if (server == searched_for_ && now < next_search_) return path;
  searched_for_ = server;
  next_search_ = now + kDirectSearchEvery;
  const std::shared_ptr<const Snapshot> all = hub_.state.snapshot();
  for (const auto& [name, candidate] : *all) {
    if (reaches_same_server(edit(), *path.pooler, *candidate)) {
      path.direct = candidate;
      direct_ = name;
      break;
    }
  }
  return path;
}

void TargetRecorder::record_path() {
  const PathHealth health = path_health(edit(), path_targets());
  std::map<prometheus::Labels, double> hops;
  if (health.pooler_up) hops[{{"hop", "pooler"}}] = *health.pooler_up ? 1 : 0;
  if (health.server_up) hops[{{"hop", "server"}}] = *health.server_up ? 1 : 0;
  hop_up_->replace(hops);
  std::map<prometheus::Labels, double> added;
  if (health.added_latency_seconds) added[{}] = *health.added_latency_seconds;
  added_latency_->replace(added);
}

void TargetRecorder::record_failure(const probes::ProbeResult& r, CheckState& check) {
  const pg::Error::Details details = r.error.value_or(pg::Error::Details{});
  const std::string reason = pg::reason_label(details.reason, details.sqlstate);
  check.reason = reason;
  check.phase = std::string(pg::to_string(details.phase));
  check.sqlstate = details.sqlstate;
  check.message = r.error_message;
  edit().starting = r.server_starting();
  if (!edit().via.empty()) {
    HopVerdict verdict = place_failure(path_targets(), details, r.error_message);
    check.hop = std::move(verdict.hop);
    check.hop_detail = std::move(verdict.detail);
  }
  metrics_.probe_failures(r.probe, reason, check.hop).Increment();

  FailureRecord record;
  record.time_unix = unix_now();
  record.target = edit().name;
  record.probe = r.probe;
  record.phase = check.phase;
  record.reason = reason;
  record.sqlstate = details.sqlstate;
  record.message = r.error_message;
  record.backend_pid = details.backend_pid;
  record.seconds = r.seconds;
  record.phases = r.phases;
  record.hop = check.hop;
  record.hop_detail = check.hop_detail;
  hub_.failures.push(record);

  LogLimit& limit = limits_[r.probe];
  const Clock::time_point now = Clock::now();
  if (limit.last_reason == reason && now - limit.last_logged < kRepeatLogEvery) {
    ++limit.suppressed;
    return;
  }
  logging::log(logging::LogLevel::warn, "probe failed",
               {{"target", edit().name},
                {"probe", r.probe},
                {"phase", record.phase},
                {"reason", record.reason},
                {"sqlstate", record.sqlstate},
                {"backend_pid", record.backend_pid},
                {"seconds", record.seconds},
                {"repeats_suppressed", limit.suppressed},
                {"hop", record.hop},
                {"error", record.message}});
  limit.last_reason = reason;
  limit.last_logged = now;
  limit.suppressed = 0;
}

void TargetRecorder::log_transition(const probes::ProbeResult& r, bool was_up) {
  const Clock::time_point now = Clock::now();
  if (r.ok) {
    const double down_for =
        was_up || down_since_ == Clock::time_point{} ? 0.0 : seconds_between(down_since_, now);
    logging::log(
        logging::LogLevel::info, "target up",
        {{"target", edit().name}, {"latency_seconds", r.seconds}, {"down_seconds", down_for}});
    return;
  }
  down_since_ = now;
  logging::log(logging::LogLevel::warn, "target down",
               {{"target", edit().name},
                {"reason", r.error ? pg::reason_label(r.error->reason, r.error->sqlstate)
                                   : std::string(pg::to_string(pg::Reason::other))},
                {"phase", r.error ? std::string(pg::to_string(r.error->phase)) : ""},
                {"error", r.error_message}});
}

void TargetRecorder::record_cycle(double lag_seconds, const pool::PoolStats& pool) {
  // A cycle that ended without an activity result (skipped after a failed connectivity
  // probe, or cut short by a timeout) leaves nothing current to show.
  if (!activity_this_cycle_) {
    metrics_.clear_activity();
    application_metrics_.clear();
  }
  activity_this_cycle_ = false;
  if (!replication_this_cycle_) {
    if (replication_metrics_) replication_metrics_->clear();
    edit().replication = nullptr;
  }
  replication_this_cycle_ = false;
  if (!pooler_this_cycle_) clear_pooler();
  pooler_this_cycle_ = false;
  if (hop_up_) record_path();
  metrics_.schedule_lag().Observe(lag_seconds < 0 ? 0 : lag_seconds);
  metrics_.set_pool(pool);
  const double now_unix = unix_now();
  metrics_.last_cycle().Set(now_unix);
  edit().pool = pool;
  edit().last_cycle_unix = now_unix;
  publish();
}

}  // namespace pgv::telemetry
