#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pool/observer.hpp"
#include "probes/result.hpp"

namespace pgv::incidents {

// One finished probe cycle of one target, as the sparkline and an incident's timeline need
// it. Small on purpose: a thousand targets keep a couple of minutes of these each.
struct Sample {
  double t = 0;           // unix seconds, when the cycle ended
  bool up = false;        // the connectivity probe's last run succeeded
  float latency = -1;     // connectivity round trip of this cycle, seconds; < 0: none
  float saturation = -1;  // server connection saturation (activity probe); < 0: unknown
  std::uint16_t pool_in_use = 0;
  std::uint16_t pool_idle = 0;
  std::uint16_t pool_max = 0;
  std::uint16_t pool_waiting = 0;
  std::uint16_t failed_probes = 0;  // probes whose last run failed
};

// How one probe last ended.
struct ProbeOutcome {
  bool ok = false;
  double seconds = 0;
  std::string reason;  // of a failure
  std::string phase;
};

// A fuller picture, kept less often than samples: who held connections, which transaction
// was blocking, the pool, the connect phases and every probe's outcome.
struct Moment {
  double t = 0;
  // The latest pg_stat_activity digest, trimmed to a few applications and sessions; null when
  // the target never had one.
  std::shared_ptr<const probes::ActivityDigest> activity;
  double activity_unix = 0;  // when that digest was read
  pool::PoolStats pool;
  std::vector<std::pair<std::string, double>> connect_phases;  // last new connection
  // By probe name, in name order; a vector, not a map: a target keeps a few moments of a few
  // probes each, and a map node costs more than the outcome it holds.
  std::vector<std::pair<std::string, ProbeOutcome>> probes;
};

// The short in-memory history of one target: samples over the last `before` window (at
// most kMaxSamples of them, so a short interval is sampled less often) and a few moments.
// Immutable once published; the watcher publishes a fresh copy after each change.
struct TargetHistory {
  static constexpr std::size_t kMaxSamples = 60;
  static constexpr std::size_t kMaxMoments = 4;

  std::string target;
  double interval_seconds = 5;
  double sample_every = 5;                             // seconds between samples kept
  std::vector<Sample> samples;                         // oldest first
  std::vector<std::shared_ptr<const Moment>> moments;  // oldest first
};

// A copy of `digest` cut to what an incident needs (the first few applications, oldest
// transactions and blocking pairs), so that keeping minutes of them stays cheap.
std::shared_ptr<const probes::ActivityDigest> trim_digest(const probes::ActivityDigest& digest);

}  // namespace pgv::incidents
