#include "incidents/record_json.hpp"

#include <stdexcept>

#include "telemetry/digest_json.hpp"

namespace pgv::incidents {
namespace {

using telemetry::list_at;
using telemetry::map_at;

nlohmann::json or_null(double v) {
  return v > 0 ? nlohmann::json(v) : nlohmann::json(nullptr);
}

double number_or_zero(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it == j.end() || it->is_null() ? 0 : it->get<double>();
}

Sample sample_from_json(const nlohmann::json& j) {
  Sample s;
  s.t = j.at("t").get<double>();
  s.up = j.value("up", false);
  s.latency = j.contains("latency") && !j["latency"].is_null() ? j["latency"].get<float>() : -1;
  s.saturation =
      j.contains("saturation") && !j["saturation"].is_null() ? j["saturation"].get<float>() : -1;
  s.pool_in_use = j.value("pool_in_use", std::uint16_t{0});
  s.pool_idle = j.value("pool_idle", std::uint16_t{0});
  s.pool_max = j.value("pool_max", std::uint16_t{0});
  s.pool_waiting = j.value("pool_waiting", std::uint16_t{0});
  s.failed_probes = j.value("failed_probes", std::uint16_t{0});
  return s;
}

std::shared_ptr<const Moment> moment_from_json(const nlohmann::json& j) {
  auto m = std::make_shared<Moment>();
  m->t = j.at("t").get<double>();
  if (j.contains("activity") && j["activity"].is_object()) {
    m->activity =
        std::make_shared<probes::ActivityDigest>(telemetry::activity_from_json(j["activity"]));
  }
  m->activity_unix = number_or_zero(j, "activity_time");
  const auto& pool = map_at(j, "pool");
  m->pool.idle = pool.value("idle", 0);
  m->pool.in_use = pool.value("in_use", 0);
  m->pool.waiting = pool.value("waiting", 0);
  m->pool.max = pool.value("max", 0);
  for (const auto& p : list_at(j, "connect_phases")) {
    m->connect_phases.emplace_back(p.at(0).get<std::string>(), p.at(1).get<double>());
  }
  for (const auto& [name, p] : map_at(j, "probes").items()) {
    m->probes.emplace_back(name, ProbeOutcome{p.value("ok", false), p.value("seconds", 0.0),
                                              p.value("reason", ""), p.value("phase", "")});
  }
  return m;
}

template <typename T, typename F>
nlohmann::json array_of(const T& items, F&& each) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& item : items) out.push_back(each(item));
  return out;
}

}  // namespace

nlohmann::json to_json(const Sample& s) {
  nlohmann::json j = {{"t", s.t},
                      {"up", s.up},
                      {"latency", s.latency >= 0 ? nlohmann::json(s.latency) : nullptr},
                      {"saturation", s.saturation >= 0 ? nlohmann::json(s.saturation) : nullptr},
                      {"pool_in_use", s.pool_in_use},
                      {"pool_idle", s.pool_idle},
                      {"pool_max", s.pool_max},
                      {"pool_waiting", s.pool_waiting}};
  if (s.failed_probes > 0) j["failed_probes"] = s.failed_probes;
  return j;
}

nlohmann::json to_json(const Moment& m) {
  nlohmann::json probes = nlohmann::json::object();
  for (const auto& [name, p] : m.probes) {
    nlohmann::json one = {{"ok", p.ok}, {"seconds", p.seconds}};
    if (!p.ok) {
      one["reason"] = p.reason;
      one["phase"] = p.phase;
    }
    probes[name] = std::move(one);
  }
  return {{"t", m.t},
          {"activity", m.activity ? telemetry::activity_to_json(*m.activity) : nullptr},
          {"activity_time", or_null(m.activity_unix)},
          {"pool",
           {{"idle", m.pool.idle},
            {"in_use", m.pool.in_use},
            {"waiting", m.pool.waiting},
            {"max", m.pool.max}}},
          {"connect_phases", m.connect_phases},
          {"probes", probes}};
}

nlohmann::json to_json(const IncidentSummary& s) {
  return {{"id", s.id},
          {"target", s.target},
          {"trigger", s.trigger},
          {"opened", s.opened_unix},
          {"closed", or_null(s.closed_unix)},
          {"open", s.closed_unix == 0},
          {"first_error", s.first_error}};
}

nlohmann::json to_json(const IncidentRecord& r) {
  nlohmann::json j = to_json(summary_of(r));
  j["format"] = 1;
  j["cleared"] = or_null(r.cleared_unix);
  j["ended"] = r.ended;
  j["transitions"] = array_of(r.transitions, [](const Transition& t) {
    return nlohmann::json{{"t", t.t}, {"what", t.what}};
  });
  j["before"] = array_of(r.before, [](const Sample& s) { return to_json(s); });
  j["during"] = array_of(r.during, [](const Sample& s) { return to_json(s); });
  j["moments"] = array_of(r.moments, [](const auto& m) { return to_json(*m); });
  j["failures"] = array_of(r.failures, [](const auto& f) { return telemetry::failure_to_json(f); });
  j["failures_dropped"] = r.failures_dropped;
  return j;
}

nlohmann::json to_json(const TargetHistory& h) {
  return {{"target", h.target},
          {"interval_seconds", h.interval_seconds},
          {"sample_every", h.sample_every},
          {"samples", array_of(h.samples, [](const Sample& s) { return to_json(s); })},
          {"moments", array_of(h.moments, [](const auto& m) { return to_json(*m); })}};
}

IncidentRecord record_from_json(const nlohmann::json& j) {
  try {
    if (!j.is_object()) throw std::runtime_error("not a JSON object");
    IncidentRecord r;
    r.id = j.at("id").get<std::string>();
    r.target = j.at("target").get<std::string>();
    r.trigger = j.at("trigger").get<std::string>();
    r.opened_unix = j.at("opened").get<double>();
    r.closed_unix = number_or_zero(j, "closed");
    r.cleared_unix = number_or_zero(j, "cleared");
    r.first_error = j.value("first_error", "");
    r.ended = j.value("ended", "");
    for (const auto& t : list_at(j, "transitions")) {
      r.transitions.push_back({t.at("t").get<double>(), t.at("what").get<std::string>()});
    }
    for (const auto& s : list_at(j, "before")) {
      r.before.push_back(sample_from_json(s));
    }
    for (const auto& s : list_at(j, "during")) {
      r.during.push_back(sample_from_json(s));
    }
    for (const auto& m : list_at(j, "moments")) {
      r.moments.push_back(moment_from_json(m));
    }
    for (const auto& f : list_at(j, "failures")) {
      r.failures.push_back(telemetry::failure_from_json(f));
    }
    r.failures_dropped = j.value("failures_dropped", std::size_t{0});
    return r;
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("not an incident record: ") + e.what());
  }
}

std::string dump(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace pgv::incidents
