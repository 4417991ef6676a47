// `pgvitals check --incident`: the real binary reading records IncidentFiles wrote, with no
// agent and no database.
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <tuple>

#include "agent_process.hpp"
#include "incidents/files.hpp"
#include "temp_dir.hpp"

using namespace pgv::testing;
using pgv::incidents::IncidentRecord;
namespace fs = std::filesystem;

namespace {

constexpr double k2200 = 1'796'162'400.0;  // 2026-12-01T22:00:00Z
const std::string kNewest = "20261201T221500Z-primary";
const std::string kOlder = "20261201T210000Z-primary";

pgv::telemetry::FailureRecord refused(double t, const std::string& probe) {
  pgv::telemetry::FailureRecord f;
  f.time_unix = t;
  f.target = "primary";
  f.probe = probe;
  f.phase = "connect";
  f.reason = "connection_refused";
  // Records are redacted when made; a password that slipped through must still not print.
  f.message =
      "connection to server at \"10.0.0.5\", port 5432 failed: Connection refused "
      "(postgresql://app:canary-s3cret@10.0.0.5/db)";
  f.seconds = 0.002;
  return f;
}

// billing-worker sits idle in transaction holding a lock that blocks an api session; then
// the server refuses connections for a while.
std::shared_ptr<IncidentRecord> newest() {
  const double opened = k2200 + 15 * 60;
  auto r = std::make_shared<IncidentRecord>();
  r->id = kNewest;
  r->target = "primary";
  r->trigger = "down";
  r->opened_unix = opened;
  r->cleared_unix = opened + 150;
  r->closed_unix = opened + 270;
  r->ended = "recovered";
  r->first_error = "primary/connectivity failed: connection refused: password=canary-s3cret";
  r->transitions = {{opened - 20, "trigger blocked_sessions: 1 sessions blocked (threshold 1)"},
                    {opened, "incident opened: down (primary/connectivity failed)"},
                    {opened + 150, "cleared down"},
                    {opened + 270, "incident closed: recovered"}};

  auto digest = std::make_shared<pgv::probes::ActivityDigest>();
  digest->client_backends = 17;
  digest->max_connections = 100;
  digest->reserved_connections = 3;
  digest->by_state = {{"active", 3}, {"idle", 9}, {"idle in transaction", 5}};
  digest->top_applications = {{"billing-worker", 12}, {"api", 5}};
  digest->waiting_by_event_type = {{"Lock", 1}};
  digest->longest_lock_wait_seconds = 95;
  digest->oldest_transactions = {
      {4100, "billing-worker", "billing", "idle in transaction", 3720, ""},
      {4242, "api", "api", "active", 95, ""}};
  digest->blocked = {{4242, {4100}}};
  auto moment = std::make_shared<pgv::incidents::Moment>();
  moment->t = opened - 5;
  moment->activity = digest;
  moment->activity_unix = opened - 6;
  moment->pool.in_use = 2;
  moment->pool.idle = 0;
  moment->pool.waiting = 3;
  moment->pool.max = 4;
  moment->connect_phases = {{"tcp", 0.0012}, {"auth", 0.0031}};
  moment->probes.emplace_back(
      "connectivity", pgv::incidents::ProbeOutcome{false, 0.002, "connection_refused", "connect"});
  r->moments = {moment};

  for (int i = 0; i < 3; ++i) r->failures.push_back(refused(opened + i * 60, "connectivity"));
  r->failures.push_back(refused(opened + 30, "new_connection"));
  for (const auto& [t, up, latency] :
       {std::tuple{5.0, false, -1.0f}, std::tuple{160.0, true, 0.0012f},
        std::tuple{200.0, true, 0.25f}}) {
    pgv::incidents::Sample s;
    s.t = opened + t;
    s.up = up;
    s.latency = latency;
    r->during.push_back(s);
  }
  return r;
}

std::shared_ptr<IncidentRecord> older() {
  auto r = std::make_shared<IncidentRecord>();
  r->id = kOlder;
  r->target = "primary";
  r->trigger = "saturation";
  r->opened_unix = k2200 - 3600;
  r->closed_unix = r->opened_unix + 60;
  r->ended = "recovered";
  r->first_error = "server connection saturation 0.95 (threshold 0.90)";
  r->transitions = {{r->opened_unix, "incident opened: saturation"}};
  return r;
}

struct Recorded {
  TempDir dir{"pgvitals-incident-cli"};
  Recorded() {
    pgv::incidents::IncidentFiles files(dir.path(), {});
    files.write(newest());
    files.write(older());
    files.flush();
  }
};

CommandResult pgvitals(const std::vector<std::string>& args, const Env& env) {
  std::vector<std::string> argv = {agent_binary(), "check"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_capture(argv, env);
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("check --incident last prints the newest record for a person", "[cli][incidents]") {
  Recorded rec;
  const auto r = pgvitals({"--incident", "last"}, {{"PGVITALS_INCIDENTS_DIR", rec.dir.path()}});
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(has(r.output, "Incident " + kNewest));
  CHECK(has(r.output, "opened:       2026-12-01T22:15:00Z"));
  CHECK(has(r.output, "closed:       2026-12-01T22:19:30Z (lasted 4m30s)"));
  CHECK(has(r.output, "ended:        recovered"));
  CHECK(has(r.output, "Timeline"));
  CHECK(has(r.output, "-20s     22:14:40Z  trigger blocked_sessions"));
  CHECK(has(r.output, "+4m30s   22:19:30Z  incident closed: recovered"));
  CHECK(has(r.output, "billing-worker"));
  CHECK(has(r.output,
            "pid 4242 (api, active, transaction 1m35s) <- pid 4100 (billing-worker, "
            "idle in transaction, transaction 1h02m)"));
  CHECK(has(r.output, "pool: 2 in use, 0 idle, 3 waiting, max 4"));
  CHECK(has(r.output, "tcp 1.2 ms, auth 3.1 ms"));
  CHECK(has(r.output, "connect / connection_refused: 4x"));
  CHECK(has(r.output, "probes connectivity, new_connection"));
  CHECK(has(r.output, "up in 67% of samples"));
  CHECK_FALSE(has(r.output, "canary-s3cret"));
  CHECK_FALSE(has(r.output, kOlder));
}

TEST_CASE("check --incident: json, by id, from the config file or a flag", "[cli][incidents]") {
  Recorded rec;
  const Env env = {{"PGVITALS_INCIDENTS_DIR", rec.dir.path()}};
  const auto json = pgvitals({"--incident", "last", "--format", "json"}, env);
  INFO(json.output);
  CHECK(json.exit_code == 0);
  const auto j = nlohmann::json::parse(json.output);
  CHECK(j.at("id") == kNewest);
  CHECK(j.at("failures").size() == 4);
  CHECK_FALSE(has(json.output, "canary-s3cret"));

  const auto by_id = pgvitals({"--incident", kOlder}, env);
  CHECK(by_id.exit_code == 0);
  CHECK(has(by_id.output, "Incident " + kOlder));
  CHECK(has(by_id.output, "trigger:      saturation"));

  // No target anywhere: reading records needs none.
  TempFile config("incidents:\n  dir: " + rec.dir.path() + "\n");
  const auto from_file = pgvitals({"--incident", kOlder, "--config", config.path()}, {});
  INFO(from_file.output);
  CHECK(from_file.exit_code == 0);
  CHECK(has(from_file.output, "Incident " + kOlder));
  const auto from_flag = pgvitals({"--incident", "last", "--incidents-dir", rec.dir.path()}, {});
  CHECK(from_flag.exit_code == 0);
  CHECK(has(from_flag.output, "Incident " + kNewest));
}

TEST_CASE("check --incident: what is missing is said, with exit 1 or 2", "[cli][incidents]") {
  Recorded rec;
  const Env env = {{"PGVITALS_INCIDENTS_DIR", rec.dir.path()}};
  const auto unknown = pgvitals({"--incident", "20991231T000000Z-nope"}, env);
  INFO(unknown.output);
  CHECK(unknown.exit_code == 1);
  CHECK(has(unknown.output, "no incident '20991231T000000Z-nope'"));
  CHECK(has(unknown.output, kNewest));

  const auto no_dir =
      pgvitals({"--incident", "last"}, {{"PGVITALS_INCIDENTS_DIR", rec.dir.path() + "/gone"}});
  INFO(no_dir.output);
  CHECK(no_dir.exit_code == 1);
  CHECK(has(no_dir.output, "no such directory"));

  TempDir empty("pgvitals-incident-cli");
  const auto none = pgvitals({"--incident", "last"}, {{"PGVITALS_INCIDENTS_DIR", empty.path()}});
  CHECK(none.exit_code == 1);
  CHECK(has(none.output, "no incidents recorded"));

  const auto unset = pgvitals({"--incident", "last"}, {});
  INFO(unset.output);
  CHECK(unset.exit_code == 2);
  CHECK(has(unset.output, "incidents.dir is not set"));

  CHECK(pgvitals({"--incident", "last", "--format", "yaml"}, env).exit_code == 2);
  CHECK(pgvitals({"--incidents-dir", rec.dir.path()}, {}).exit_code == 2);  // needs --incident
}
