#include "incidents/tracker.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "config/probe_catalog.hpp"

namespace pgv::incidents {
namespace {

// Bounds on one record, whatever the incident's length: past them, samples and moments are
// thinned (every other one dropped, the spacing doubled) and failures counted, not kept.
constexpr std::size_t kMaxDuring = 720;
constexpr std::size_t kMaxMoments = 48;
constexpr std::size_t kMaxFailures = 200;
constexpr std::size_t kMaxRecentFailures = 20;
constexpr std::size_t kMaxRecentTransitions = 50;
constexpr std::size_t kMaxTransitions = 500;
// A sample is due a little before its full spacing, so that a cycle ending a few
// milliseconds early is not skipped.
constexpr double kEarly = 0.9;

// Drops the oldest entries of `v` (oldest first) that `keep` refuses, then any beyond the
// last `most`. Vectors, not deques: an empty std::deque allocates ~600 bytes, and a target
// keeps four of these lists, all short.
template <class T, class Keep>
void keep_last(std::vector<T>& v, std::size_t most, Keep keep) {
  auto first = std::find_if(v.begin(), v.end(), keep);
  if (static_cast<std::size_t>(v.end() - first) > most) {
    first = v.end() - static_cast<std::ptrdiff_t>(most);
  }
  v.erase(v.begin(), first);
}

template <typename T>
void thin(std::vector<T>& v) {
  std::size_t kept = 0;
  for (std::size_t i = 0; i < v.size(); i += 2) v[kept++] = std::move(v[i]);
  v.resize(kept);
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::uint16_t clamp16(int v) {
  return static_cast<std::uint16_t>(std::clamp(v, 0, 65535));
}

std::string id_for(const std::string& target, double opened) {
  const std::time_t t = static_cast<std::time_t>(opened);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return std::string(buf) + "-" + target;
}

}  // namespace

TrackerSettings TrackerSettings::from(const config::IncidentsConfig& c) {
  auto secs = [](config::Millis m) { return std::chrono::duration<double>(m).count(); };
  return {secs(c.before), secs(c.after), c.saturation, c.blocked_sessions,
          secs(c.oldest_transaction)};
}

TargetTracker::TargetTracker(std::string target, TrackerSettings settings)
    : target_(std::move(target)), settings_(settings) {
  history_.target = target_;
}

std::shared_ptr<const TargetHistory> TargetTracker::history() const {
  return std::make_shared<const TargetHistory>(history_);
}

std::map<Trigger, std::string> TargetTracker::triggers(const telemetry::TargetState& st,
                                                       const Verdict& v,
                                                       Clock::time_point now_mono) const {
  std::map<Trigger, std::string> out;
  const auto up = st.checks.find(std::string(config::up_probe().name));
  const bool up_ran = up != st.checks.end() && up->second.ran;
  if (st.required && up_ran && !v.up) {
    out[Trigger::down] = v.up_detail;
  } else if (st.required && up_ran && !v.ready) {
    out[Trigger::not_ready] = v.ready_detail;
  }
  const auto activity = st.checks.find("activity");
  if (!st.activity || activity == st.checks.end() || !activity->second.ok ||
      !st.fresh("activity", activity->second, now_mono)) {
    return out;
  }
  const probes::ActivityDigest& a = *st.activity;
  if (a.max_connections > 0 && a.saturation() >= settings_.saturation) {
    out[Trigger::saturation] = "server connection saturation " + fixed(a.saturation(), 2) +
                               " (threshold " + fixed(settings_.saturation, 2) + ")";
  }
  const int blocked = static_cast<int>(a.blocked.size());
  if (settings_.blocked_sessions > 0 && blocked >= settings_.blocked_sessions) {
    out[Trigger::blocked_sessions] = std::to_string(blocked) + " sessions blocked (threshold " +
                                     std::to_string(settings_.blocked_sessions) + ")";
  }
  if (settings_.oldest_transaction > 0 && a.oldest_transaction_seconds &&
      *a.oldest_transaction_seconds >= settings_.oldest_transaction) {
    out[Trigger::oldest_transaction] = "oldest transaction " +
                                       fixed(*a.oldest_transaction_seconds, 0) + " s (threshold " +
                                       fixed(settings_.oldest_transaction, 0) + " s)";
  }
  return out;
}

void TargetTracker::transition(double now, std::string what) {
  const Transition t{now, std::move(what)};
  if (open_) {
    if (open_->transitions.size() < kMaxTransitions) open_->transitions.push_back(t);
  } else {
    recent_.push_back(t);
    if (recent_.size() > kMaxRecentTransitions) recent_.erase(recent_.begin());
  }
}

void TargetTracker::note_checks(const telemetry::TargetState& st, double now) {
  for (const auto& [probe, c] : st.checks) {
    if (!c.ran) continue;
    const auto [it, first] = last_ok_.try_emplace(probe, c.ok);
    if (!first && it->second == c.ok) continue;
    it->second = c.ok;
    if (c.ok && first) continue;  // a probe that works from the start is no news
    std::string what = target_ + "/" + probe + (c.ok ? " ok" : " failed: " + c.reason);
    if (!c.ok && !c.message.empty()) what += ": " + c.message;
    transition(now, std::move(what));
  }
}

bool TargetTracker::add_sample(const telemetry::TargetState& st, const Verdict& v, double now) {
  // A short interval is sampled less often, so that `before` never holds more than
  // kMaxSamples samples.
  history_.interval_seconds = st.interval_seconds;
  history_.sample_every =
      std::max(st.interval_seconds, settings_.before / TargetHistory::kMaxSamples);
  Sample s;
  s.t = st.last_cycle_unix > 0 ? st.last_cycle_unix : now;
  s.up = v.up;
  const auto up = st.checks.find(std::string(config::up_probe().name));
  if (up != st.checks.end() && up->second.ok &&
      up->second.last_run_unix >= s.t - st.interval_seconds) {
    s.latency = static_cast<float>(up->second.seconds);
  }
  const auto activity = st.checks.find("activity");
  if (st.activity && activity != st.checks.end() && activity->second.ok &&
      st.activity->max_connections > 0) {
    s.saturation = static_cast<float>(st.activity->saturation());
  }
  s.pool_in_use = clamp16(st.pool.in_use);
  s.pool_idle = clamp16(st.pool.idle);
  s.pool_max = clamp16(st.pool.max);
  s.pool_waiting = clamp16(st.pool.waiting);
  int failed = 0;
  for (const auto& [probe, c] : st.checks) failed += c.ran && !c.ok ? 1 : 0;
  s.failed_probes = clamp16(failed);

  bool added = false;
  if (history_.samples.empty() ||
      s.t - history_.samples.back().t >= kEarly * history_.sample_every) {
    history_.samples.push_back(s);
    added = true;
  }
  if (open_ && (open_->during.empty() || s.t - last_during_ >= kEarly * during_every_)) {
    open_->during.push_back(s);
    last_during_ = s.t;
    if (open_->during.size() > kMaxDuring) {
      thin(open_->during);
      during_every_ *= 2;
    }
  }
  return added;
}

std::shared_ptr<const Moment> TargetTracker::moment(const telemetry::TargetState& st, double now) {
  auto m = std::make_shared<Moment>();
  m->t = now;
  if (st.activity) {
    // The same digest as last time is trimmed once.
    if (st.activity_unix != last_activity_unix_ || !last_trimmed_) {
      last_trimmed_ = trim_digest(*st.activity);
      last_activity_unix_ = st.activity_unix;
    }
    m->activity = last_trimmed_;
    m->activity_unix = st.activity_unix;
  }
  m->pool = st.pool;
  m->connect_phases = st.connect_phases;
  m->probes.reserve(st.checks.size());
  for (const auto& [probe, c] : st.checks) {
    if (c.ran) m->probes.emplace_back(probe, ProbeOutcome{c.ok, c.seconds, c.reason, c.phase});
  }
  return m;
}

void TargetTracker::forget_before(double now) {
  const double horizon = now - settings_.before;
  keep_last(history_.samples, TargetHistory::kMaxSamples,
            [&](const Sample& s) { return s.t >= horizon; });
  keep_last(history_.moments, TargetHistory::kMaxMoments,
            [&](const auto& m) { return m->t >= horizon; });
  keep_last(recent_, recent_.size(), [&](const Transition& t) { return t.t >= horizon; });
  keep_last(recent_failures_, recent_failures_.size(),
            [&](const telemetry::FailureRecord& f) { return f.time_unix >= horizon; });
}

void TargetTracker::open(Trigger trigger, const std::string& detail, double now,
                         std::shared_ptr<const Moment> at_trigger) {
  open_ = std::make_unique<IncidentRecord>();
  IncidentRecord& r = *open_;
  r.id = id_for(target_, now);
  if (r.id == last_id_ || last_id_.starts_with(r.id + "-")) {
    r.id += "-" + std::to_string(static_cast<long long>(std::fmod(now, 1.0) * 1000));
  }
  last_id_ = r.id;
  r.target = target_;
  r.trigger = std::string(to_string(trigger));
  r.opened_unix = now;
  // The failure that brought it, if any: the oldest one of the last cycle.
  r.first_error = recent_failures_.empty() || recent_failures_.back().time_unix <
                                                  now - 2 * history_.interval_seconds - 5
                      ? detail
                      : recent_failures_.back().message;
  r.transitions.assign(recent_.begin(), recent_.end());
  recent_.clear();
  r.before.assign(history_.samples.begin(), history_.samples.end());
  r.moments.assign(history_.moments.begin(), history_.moments.end());
  r.moments.push_back(std::move(at_trigger));
  r.failures.assign(recent_failures_.begin(), recent_failures_.end());
  during_every_ = history_.sample_every;
  last_during_ = 0;
  last_during_moment_ = now;
  transition(now, "incident opened: " + r.trigger + (detail.empty() ? "" : " (" + detail + ")"));
}

void TargetTracker::update(const std::map<Trigger, std::string>& active, double now,
                           std::vector<telemetry::FailureRecord>& failures, Changes& out) {
  for (auto& f : failures) {
    if (open_->failures.size() < kMaxFailures) {
      open_->failures.push_back(std::move(f));
    } else {
      ++open_->failures_dropped;
    }
  }
  for (const auto& [trigger, detail] : active) {
    if (!active_.contains(trigger)) {
      transition(now, "trigger " + std::string(to_string(trigger)) + ": " + detail);
    }
  }
  for (const auto& [trigger, detail] : active_) {
    if (!active.contains(trigger)) transition(now, "cleared " + std::string(to_string(trigger)));
  }
  if (active.empty() && open_->cleared_unix == 0) {
    open_->cleared_unix = now;
    transition(now,
               "every trigger cleared; recording for " + fixed(settings_.after, 0) + " s more");
  } else if (!active.empty()) {
    open_->cleared_unix = 0;
  }
  out.record = std::make_shared<const IncidentRecord>(*open_);
  if (open_->cleared_unix > 0 && now - open_->cleared_unix >= settings_.after) {
    out.record = close(now, "recovered");
    out.closed = true;
  }
}

Changes TargetTracker::observe(const telemetry::TargetState& st, const Verdict& v, double now,
                               Clock::time_point now_mono,
                               std::vector<telemetry::FailureRecord> failures) {
  Changes out;
  for (const auto& f : failures) {
    recent_failures_.push_back(f);
    if (recent_failures_.size() > kMaxRecentFailures) {
      recent_failures_.erase(recent_failures_.begin());
    }
  }
  forget_before(now);
  note_checks(st, now);
  out.history = add_sample(st, v, now);
  const double moment_every =
      std::max(st.interval_seconds, settings_.before / TargetHistory::kMaxMoments);
  if (history_.moments.empty() || now - last_moment_ >= kEarly * moment_every) {
    history_.moments.push_back(moment(st, now));
    last_moment_ = now;
    out.history = true;
  }
  const auto active = triggers(st, v, now_mono);
  if (!open_ && !active.empty()) {
    const auto& [trigger, detail] = *active.begin();  // map order: down first
    open(trigger, detail, now, moment(st, now));
    out.opened = trigger;
    failures.clear();  // already among the failures before the trigger
  } else if (open_ && now - last_during_moment_ >= kEarly * moment_every) {
    open_->moments.push_back(moment(st, now));
    last_during_moment_ = now;
    if (open_->moments.size() > kMaxMoments) thin(open_->moments);
  }
  if (open_) update(active, now, failures, out);
  active_ = active;
  return out;
}

std::shared_ptr<const IncidentRecord> TargetTracker::close(double now, const std::string& why) {
  if (!open_) return nullptr;
  transition(now, "incident closed: " + why);
  open_->closed_unix = now;
  open_->ended = why;
  auto done = std::make_shared<const IncidentRecord>(std::move(*open_));
  open_.reset();
  active_.clear();
  return done;
}

}  // namespace pgv::incidents
