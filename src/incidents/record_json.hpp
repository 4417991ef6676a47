#pragma once

#include <nlohmann/json.hpp>

#include "incidents/history.hpp"
#include "incidents/record.hpp"

namespace pgv::incidents {

// The one JSON form of incidents and histories: what incidents.dir holds, what
// /debug/incidents and /debug/history serve and what `check --incident` reads back.
nlohmann::json to_json(const Sample& s);
nlohmann::json to_json(const Moment& m);
nlohmann::json to_json(const IncidentSummary& s);
nlohmann::json to_json(const IncidentRecord& r);
// {target, interval_seconds, sample_every, samples: [...], moments: [...]}
nlohmann::json to_json(const TargetHistory& h);

// Reads a record written by to_json; throws std::runtime_error naming what is wrong.
IncidentRecord record_from_json(const nlohmann::json& j);

// Serialises for a file or a response: invalid UTF-8 from a server message is replaced,
// never thrown.
std::string dump(const nlohmann::json& j, int indent = -1);

}  // namespace pgv::incidents
