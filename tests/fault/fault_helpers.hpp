#pragma once

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "agent_helpers.hpp"
#include "helpers.hpp"
#include "proc_usage.hpp"
#include "watcher.hpp"

namespace pgv::testing {

using SteadyClock = std::chrono::steady_clock;

// Interval 1 s, timeout 0.5 s: detection is due within 1.5 s, recovery within 2 s.
inline constexpr double kInterval = 1.0;
inline constexpr double kTimeout = 0.5;
// Scheduling margin on a loaded 2-core machine, on top of each bound.
inline constexpr double kSlack = 0.3;

// What every fault scenario asserts about the agent while and after the fault.
struct FaultReport {
  explicit FaultReport(std::string name) : scenario(std::move(name)) {}
  std::string scenario;
  std::optional<double> detected;   // seconds from the fault to /healthz 503
  std::optional<double> recovered;  // seconds from the end of the fault to /healthz 200
  double slowest_healthz = 0;
  double slowest_metrics = 0;
  int livez_misses = 0;

  void print() const {
    std::cout << "fault " << scenario << ": detected "
              << (detected ? std::to_string(*detected) + " s" : std::string("-")) << ", recovered "
              << (recovered ? std::to_string(*recovered) + " s" : std::string("-"))
              << ", slowest /healthz " << slowest_healthz * 1e3 << " ms, slowest /metrics "
              << slowest_metrics * 1e3 << " ms, /livez misses " << livez_misses << "\n";
  }
};

// Returns just after the agent finished a probe cycle (of its first target, seen through
// /metrics): a fault started now lands between cycles, and the next cycle's first probe,
// connectivity, is the first to meet it.
inline void wait_cycle_end(const AgentProcess& agent) {
  auto last_cycle = [&] {
    return metric_value(agent.get("/metrics").body,
                        "pgvitals_scheduler_last_cycle_timestamp_seconds");
  };
  const double before = last_cycle();
  // NaN before the first cycle ends; NaN != NaN, hence the explicit test.
  REQUIRE(eventually(
      [&] {
        const double now = last_cycle();
        return !std::isnan(now) && (std::isnan(before) || now != before);
      },
      std::chrono::seconds(3)));
}

// How many answers (or failed attempts) the watcher has recorded for `path` so far.
inline int answers(const Watcher& w, const std::string& path) {
  int n = 0;
  for (const auto& s : w.samples()) n += s.path == path ? 1 : 0;
  return n;
}

inline void check_always_answered(const Watcher& w, SteadyClock::time_point from, FaultReport& r) {
  r.slowest_healthz = w.slowest("/healthz", from);
  r.slowest_metrics = w.slowest("/metrics", from);
  r.livez_misses = w.count_not("/livez", 200, from);
  CHECK(r.livez_misses == 0);
  // 50 ms is the bound for the build people run; ASan+UBSan make every answer two to three
  // times slower, and the slot-filling scenario's burst of 40 backend forks and exits lands
  // a 50-65 ms answer there.
  const double bound = kSanitized ? 0.15 : 0.05;
  CHECK(r.slowest_healthz < bound);
  CHECK(r.slowest_metrics < bound);
}

// The newest failure trace of `probe` on any target, or null.
inline nlohmann::json last_trace(const AgentProcess& agent,
                                 const std::string& probe = "connectivity") {
  const auto body =
      nlohmann::json::parse(agent.get("/debug/failures?limit=256").body, nullptr, false);
  if (!body.is_object()) return nullptr;
  for (const auto& f : body["failures"]) {
    if (f.value("probe", "") == probe) return f;
  }
  return nullptr;
}

inline std::string field(const nlohmann::json& trace, const char* name) {
  return trace.is_object() ? trace.value(name, "") : "";
}

}  // namespace pgv::testing
