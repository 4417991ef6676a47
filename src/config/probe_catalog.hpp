#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// The one probe table: every probe the agent knows, and the properties the rest of the code
// reads instead of comparing names. It sits with config, the lowest layer, because config
// validates `probes:` against it; probes/registry.cpp maps each row to its factory (a switch
// over ProbeId, so the compiler names a row without one). A new probe is one file, one row
// here and one case there.
namespace pgv::config {

enum class ProbeId : std::uint8_t {
  connectivity,
  new_connection,
  lifecycle,
  settings,
  activity,
  replication,
  pooler
};

// What a target is: a PostgreSQL database (reached directly or through a pooler), or a
// PgBouncer admin console. Each probe row says which kinds it applies to.
enum class TargetKind : std::uint8_t { postgres, pgbouncer };

constexpr std::string_view to_string(TargetKind kind) noexcept {
  return kind == TargetKind::pgbouncer ? "pgbouncer" : "postgres";
}

// A set of kinds, as bits.
using KindSet = std::uint8_t;
constexpr KindSet kind_bit(TargetKind kind) noexcept {
  return static_cast<KindSet>(1U << static_cast<unsigned>(kind));
}
inline constexpr KindSet kPostgresOnly = kind_bit(TargetKind::postgres);
inline constexpr KindSet kPgbouncerOnly = kind_bit(TargetKind::pgbouncer);
inline constexpr KindSet kAnyKind = kPostgresOnly | kPgbouncerOnly;

// Which health answers count a probe's result.
enum class HealthGate : std::uint8_t {
  none,     // shown, never counted
  healthz,  // counted by /healthz and /readyz; it decides whether a target is up
  readyz,   // counted by /readyz only (a full server is saturated, not down)
};

struct ProbeSpec {
  ProbeId id;
  std::string_view name;
  // Needs the pool: skipped in a cycle whose up/down probe failed.
  bool uses_pool;
  HealthGate health;
  // Never runs more often than this, whatever the interval (0: every cycle); its results
  // age on max(interval, min_spacing).
  std::chrono::milliseconds min_spacing;
  // Its phases are the connect phases published as pgvitals_connect_phase_seconds.
  bool times_connect;
  // The target kinds it runs on; a target's default probes are every row of its kind.
  KindSet kinds;

  bool applies_to(TargetKind kind) const noexcept { return (kinds & kind_bit(kind)) != 0; }
};

inline constexpr std::array<ProbeSpec, 7> kProbeTable = {{
    {ProbeId::connectivity, "connectivity", true, HealthGate::healthz, {}, false, kAnyKind},
    {ProbeId::new_connection, "new_connection", false, HealthGate::readyz,
     std::chrono::milliseconds{5000}, true, kAnyKind},
    {ProbeId::lifecycle, "lifecycle", true, HealthGate::none, {}, false, kPostgresOnly},
    {ProbeId::settings, "settings", true, HealthGate::none, {}, false, kPostgresOnly},
    {ProbeId::activity, "activity", true, HealthGate::none, {}, false, kPostgresOnly},
    {ProbeId::replication, "replication", true, HealthGate::none, {}, false, kPostgresOnly},
    {ProbeId::pooler, "pooler", true, HealthGate::none, {}, false, kPgbouncerOnly},
}};

// The row of a probe; rows are in ProbeId order.
constexpr const ProbeSpec& probe_spec(ProbeId id) noexcept {
  return kProbeTable[static_cast<std::size_t>(id)];
}
static_assert([] {
  for (std::size_t i = 0; i < kProbeTable.size(); ++i) {
    if (static_cast<std::size_t>(kProbeTable[i].id) != i) return false;
  }
  return true;
}());

// The row of a probe name; nullptr for a name no probe has.
inline const ProbeSpec* find_probe(std::string_view name) noexcept {
  for (const ProbeSpec& spec : kProbeTable) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

// The probe whose result says whether a target is up (the one /healthz counts).
inline const ProbeSpec& up_probe() noexcept {
  for (const ProbeSpec& spec : kProbeTable) {
    if (spec.health == HealthGate::healthz) return spec;
  }
  return kProbeTable.front();
}

// Every probe name in table order.
inline const std::vector<std::string>& known_probes() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names;
    for (const ProbeSpec& spec : kProbeTable) names.emplace_back(spec.name);
    return names;
  }();
  return kNames;
}

// The probes of one kind of target in table order: its default `probes:` list.
inline std::vector<std::string> default_probes(TargetKind kind) {
  std::vector<std::string> names;
  for (const ProbeSpec& spec : kProbeTable) {
    if (spec.applies_to(kind)) names.emplace_back(spec.name);
  }
  return names;
}

}  // namespace pgv::config
