#include "telemetry/path.hpp"

#include <array>

#include "config/probe_catalog.hpp"

namespace pgv::telemetry {
namespace {

const CheckState* up_check(const TargetState* t) {
  if (t == nullptr) return nullptr;
  const auto it = t->checks.find(std::string(config::up_probe().name));
  return it == t->checks.end() || !it->second.ran ? nullptr : &it->second;
}

std::string normal_host(const std::string& host) {
  if (host == "localhost" || host == "127.0.0.1" || host == "::1") return "loopback";
  return host;
}

// Texts of PgBouncer's own errors that say the server behind it failed.
constexpr std::array<std::string_view, 5> kServerSide = {
    "server login has been failing",  // server_login_retry
    "(server down)",                  // client_login_timeout with no server
    "cannot connect to server", "server conn crashed", "server closed"};

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

}  // namespace

bool reaches_same_server(const TargetState& self, const TargetState& pooler,
                         const TargetState& candidate) {
  if (candidate.kind != config::TargetKind::postgres || !candidate.via.empty()) return false;
  if (!pooler.pooler || candidate.name == self.name) return false;
  const probes::PoolerDatabase* db = pooler.pooler->database(self.endpoint.dbname);
  if (db == nullptr) return false;
  const int port = db->port > 0 ? db->port : 5432;
  return normal_host(db->host) == normal_host(candidate.endpoint.host) &&
         port == candidate.endpoint.port;
}

HopVerdict place_failure(const PathTargets& path, const pg::Error::Details& error,
                         std::string_view message) {
  const CheckState* pooler = up_check(path.pooler.get());
  const CheckState* direct = up_check(path.direct.get());
  if (pooler != nullptr && !pooler->ok) {
    return {"pooler",
            "the pooler target '" + path.pooler->name + "' fails too (" + pooler->reason + ")"};
  }
  for (std::string_view part : kServerSide) {
    if (contains(message, part)) return {"server", "the pooler cannot reach PostgreSQL"};
  }
  // PgBouncer reports its own trouble as 08P01; anything else raised while a query ran is
  // PostgreSQL's answer, relayed.
  if (error.phase == pg::Phase::query && !error.sqlstate.empty() && error.sqlstate != "08P01") {
    return {"server", "PostgreSQL answered with SQLSTATE " + error.sqlstate};
  }
  if (direct != nullptr && !direct->ok) {
    return {"server",
            "the direct target '" + path.direct->name + "' fails too (" + direct->reason + ")"};
  }
  if (direct != nullptr) {
    return {"pooler", "PostgreSQL answers the direct target '" + path.direct->name + "'"};
  }
  if (error.reason == pg::Reason::refused && error.phase == pg::Phase::connect) {
    return {"pooler", "nothing accepts connections at the pooler's address"};
  }
  if (error.sqlstate == "08P01") return {"pooler", "PgBouncer refused the request"};
  return {"unknown", "neither the pooler nor a direct target to the server tells"};
}

PathHealth path_health(const TargetState& self, const PathTargets& path) {
  PathHealth out;
  const CheckState* own = up_check(&self);
  const CheckState* pooler = up_check(path.pooler.get());
  const CheckState* direct = up_check(path.direct.get());
  const bool self_up = own != nullptr && own->ok;
  if (pooler != nullptr) {
    out.pooler_up = pooler->ok;
  } else if (self_up) {
    out.pooler_up = true;
  }
  if (self_up) {
    out.server_up = true;
  } else if (direct != nullptr) {
    out.server_up = direct->ok;
  } else if (own != nullptr && own->hop == "server") {
    out.server_up = false;
  }
  if (self_up && direct != nullptr && direct->ok) {
    out.added_latency_seconds = own->seconds - direct->seconds;
  }
  return out;
}

}  // namespace pgv::telemetry
