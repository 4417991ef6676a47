// The incident tracker, driven by hand-made states: what opens an incident, what its record
// holds, when it closes, and how much history a target keeps.
#include <catch2/catch.hpp>

#include "config/loader.hpp"
#include "config_test_util.hpp"
#include "incidents/incident_log.hpp"
#include "incidents/record_json.hpp"
#include "incidents/tracker.hpp"

namespace {

using namespace pgv;
using incidents::TargetTracker;
using incidents::TrackerSettings;
using incidents::Trigger;
using incidents::Verdict;

struct Fixture {
  telemetry::TargetState state;
  Clock::time_point mono = Clock::now();
  double now = 1'800'000'000;

  Fixture() {
    state.name = "primary";
    state.interval_seconds = 5;
    state.timeout_seconds = 2;
  }

  // One cycle: connectivity ok or failed, and an activity digest with `blocked` sessions
  // blocked by a billing-worker holding its transaction `xact_age` seconds.
  void cycle(bool up, int client_backends = 10, int blocked = 0, double xact_age = 30) {
    now += state.interval_seconds;
    mono += std::chrono::seconds(static_cast<int>(state.interval_seconds));
    state.last_cycle_unix = now;
    auto& c = state.checks["connectivity"];
    c.ran = true;
    c.ok = up;
    c.last_run_unix = now;
    c.seconds = 0.002;
    c.reason = up ? "" : "connection_refused";
    c.phase = up ? "" : "connect";
    if (up) {
      c.last_success = mono;
      c.last_success_unix = now;
    }
    auto& a = state.checks["activity"];
    a.ran = true;
    a.ok = up;
    if (up) {
      a.last_success = mono;
      auto d = std::make_shared<probes::ActivityDigest>();
      d->client_backends = client_backends;
      d->max_connections = 100;
      d->top_applications = {{"billing-worker", 3}, {"api", 2}};
      d->oldest_transaction_seconds = xact_age;
      d->oldest_transactions = {
          {4242, "billing-worker", "app", "idle in transaction", xact_age, ""}};
      for (int i = 0; i < blocked; ++i) d->blocked.push_back({5000 + i, {4242}});
      state.activity = d;
      state.activity_unix = now;
    }
    state.pool.in_use = 1;
    state.pool.max = 5;
  }

  incidents::Changes observe(TargetTracker& t, std::vector<telemetry::FailureRecord> f = {}) {
    const bool up = state.checks["connectivity"].ok;
    return t.observe(state, Verdict{up, up ? "" : "connection refused", up, ""}, now, mono,
                     std::move(f));
  }

  telemetry::FailureRecord failure() const {
    telemetry::FailureRecord f;
    f.time_unix = now;
    f.target = "primary";
    f.probe = "connectivity";
    f.phase = "connect";
    f.reason = "connection_refused";
    f.message = "connection to server at 127.0.0.1 failed: Connection refused";
    return f;
  }
};

// A record for the incident log's tests: open, or closed a second after it opened.
std::shared_ptr<const incidents::IncidentRecord> rec(std::string id, double opened, bool open) {
  auto r = std::make_shared<incidents::IncidentRecord>();
  r->id = std::move(id);
  r->opened_unix = opened;
  r->closed_unix = open ? 0 : opened + 1;
  return r;
}

}  // namespace

TEST_CASE("incident: a required target that goes down opens one with the minutes before it",
          "[incidents]") {
  Fixture fx;
  TargetTracker tracker("primary", TrackerSettings{});
  for (int i = 0; i < 10; ++i) {
    fx.cycle(true);
    CHECK_FALSE(fx.observe(tracker).opened);
  }
  CHECK_FALSE(tracker.incident_open());

  fx.cycle(false);
  const auto opened = fx.observe(tracker, {fx.failure()});
  REQUIRE(opened.opened == Trigger::down);
  REQUIRE(opened.record);
  const auto& r = *opened.record;
  CHECK(r.trigger == "down");
  CHECK(r.target == "primary");
  CHECK(r.open());
  CHECK(r.first_error.find("Connection refused") != std::string::npos);
  CHECK(r.before.size() >= 10);
  REQUIRE_FALSE(r.moments.empty());
  // The activity from before the stop: who held the transaction.
  bool billing = false;
  for (const auto& m : r.moments) {
    if (m->activity && !m->activity->oldest_transactions.empty() &&
        m->activity->oldest_transactions.front().application == "billing-worker") {
      billing = true;
    }
  }
  CHECK(billing);
  REQUIRE(r.failures.size() == 1);
  CHECK(r.failures.front().phase == "connect");
  CHECK(tracker.incident_open());

  // Still down: more failures join the record.
  fx.cycle(false);
  const auto grown = fx.observe(tracker, {fx.failure()});
  REQUIRE(grown.record);
  CHECK(grown.record->failures.size() == 2);
  CHECK_FALSE(grown.closed);

  // Recovered: recording goes on for `after`, then the incident closes.
  fx.cycle(true);
  auto cleared = fx.observe(tracker);
  REQUIRE(cleared.record);
  CHECK(cleared.record->cleared_unix == fx.now);
  CHECK_FALSE(cleared.closed);
  bool closed = false;
  double closed_at = 0;
  for (int i = 0; i < 40 && !closed; ++i) {
    fx.cycle(true);
    const auto c = fx.observe(tracker);
    closed = c.closed;
    if (closed) {
      REQUIRE(c.record);
      CHECK(c.record->ended == "recovered");
      CHECK(c.record->closed_unix - c.record->cleared_unix >= 120);
      CHECK(c.record->during.size() >= 24);
      closed_at = c.record->closed_unix;
    }
  }
  CHECK(closed);
  CHECK(closed_at > 0);
  CHECK_FALSE(tracker.incident_open());
}

TEST_CASE("incident: an optional target that goes down opens none", "[incidents]") {
  Fixture fx;
  fx.state.required = false;
  TargetTracker tracker("primary", TrackerSettings{});
  fx.cycle(true);
  fx.observe(tracker);
  fx.cycle(false);
  CHECK_FALSE(fx.observe(tracker).opened);
  CHECK_FALSE(tracker.incident_open());
}

TEST_CASE("incident: saturation, blocked sessions and an old transaction open one", "[incidents]") {
  Fixture fx;
  SECTION("saturation at the threshold") {
    TargetTracker tracker("primary", TrackerSettings{});
    fx.cycle(true, 89);
    CHECK_FALSE(fx.observe(tracker).opened);
    fx.cycle(true, 90);
    CHECK(fx.observe(tracker).opened == Trigger::saturation);
  }
  SECTION("blocked sessions") {
    TargetTracker tracker("primary", TrackerSettings{});
    fx.cycle(true, 10, 4);
    CHECK_FALSE(fx.observe(tracker).opened);
    fx.cycle(true, 10, 5);
    const auto c = fx.observe(tracker);
    CHECK(c.opened == Trigger::blocked_sessions);
    REQUIRE(c.record);
    CHECK(c.record->first_error.find("5 sessions blocked") != std::string::npos);
  }
  SECTION("an old transaction, and a threshold of 0 turns it off") {
    TrackerSettings s;
    s.oldest_transaction = 600;
    TargetTracker tracker("primary", s);
    fx.cycle(true, 10, 0, 599);
    CHECK_FALSE(fx.observe(tracker).opened);
    fx.cycle(true, 10, 0, 601);
    CHECK(fx.observe(tracker).opened == Trigger::oldest_transaction);

    s.oldest_transaction = 0;
    s.blocked_sessions = 0;
    TargetTracker off("primary", s);
    fx.cycle(true, 10, 50, 99'999);
    CHECK_FALSE(fx.observe(off).opened);
  }
}

TEST_CASE("incident: a short interval is sampled less often", "[incidents]") {
  Fixture fx;
  fx.state.interval_seconds = 0.5;
  TargetTracker tracker("primary", TrackerSettings{});
  for (int i = 0; i < 2000; ++i) {
    fx.now += 0.5;
    fx.mono += std::chrono::milliseconds(500);
    fx.state.last_cycle_unix = fx.now;
    fx.state.checks["connectivity"].ran = true;
    fx.state.checks["connectivity"].ok = true;
    fx.observe(tracker);
  }
  const auto h = tracker.history();
  CHECK(h->samples.size() <= incidents::TargetHistory::kMaxSamples);
  CHECK(h->samples.size() >= incidents::TargetHistory::kMaxSamples - 2);
  CHECK(h->sample_every == Approx(2.0));
  CHECK(h->moments.size() <= incidents::TargetHistory::kMaxMoments);
  CHECK(h->samples.back().t - h->samples.front().t <= 120);
}

TEST_CASE("incident: close on stop, and the record survives a JSON round trip", "[incidents]") {
  Fixture fx;
  TargetTracker tracker("primary", TrackerSettings{});
  CHECK(tracker.close(fx.now, "agent stopped") == nullptr);
  for (int i = 0; i < 3; ++i) {
    fx.cycle(true);
    fx.observe(tracker);
  }
  fx.cycle(false);
  fx.observe(tracker, {fx.failure()});
  const auto closed = tracker.close(fx.now + 1, "agent stopped");
  REQUIRE(closed);
  CHECK(closed->ended == "agent stopped");
  CHECK_FALSE(closed->open());

  const auto back = incidents::record_from_json(
      nlohmann::json::parse(incidents::dump(incidents::to_json(*closed))));
  CHECK(back.id == closed->id);
  CHECK(back.trigger == "down");
  CHECK(back.ended == "agent stopped");
  CHECK(back.before.size() == closed->before.size());
  CHECK(back.failures.size() == 1);
  CHECK(back.transitions.size() == closed->transitions.size());
  REQUIRE_FALSE(back.moments.empty());
  REQUIRE(back.moments.front()->activity);
  CHECK(back.moments.front()->activity->oldest_transactions.front().application ==
        "billing-worker");
}

TEST_CASE("incident log: newest first, keep forgets closed ones only", "[incidents]") {
  incidents::IncidentLog log(2);
  log.publish(rec("a", 1, true));
  log.publish(rec("b", 2, false));
  log.publish(rec("c", 3, false));
  log.publish(rec("d", 4, false));
  const auto l = log.list();
  REQUIRE(l.size() == 2);
  CHECK(l[0]->id == "d");
  CHECK(l[1]->id == "a");  // open, kept whatever its age
  log.publish(rec("a", 1, false));
  CHECK(log.find("a")->closed_unix == 2);
  CHECK(log.find("b") == nullptr);
}

TEST_CASE("incident log: incidents that opened together are forgotten once they close",
          "[incidents]") {
  // A fleet-wide outage opens one incident per target at once; none can be forgotten while
  // open, and each closing replaces its record. Held after they all closed, 1,000 targets'
  // records kept 12 MiB that `keep` says are gone.
  incidents::IncidentLog log(2);
  for (const char* id : {"a", "b", "c", "d"}) log.publish(rec(id, id[0] - 'a' + 1, true));
  REQUIRE(log.list().size() == 4);
  for (const char* id : {"a", "b", "c", "d"}) log.publish(rec(id, id[0] - 'a' + 1, false));
  const auto l = log.list();
  REQUIRE(l.size() == 2);
  CHECK(l[0]->id == "d");
  CHECK(l[1]->id == "c");
  CHECK(log.find("a") == nullptr);

  log.set_keep(1);  // a reload that lowers keep forgets at once
  REQUIRE(log.list().size() == 1);
  CHECK(log.list()[0]->id == "d");
}

TEST_CASE("incidents config: defaults, every key, the environment and clear errors",
          "[incidents][config]") {
  using config::load_config;
  const config::Environment env{{"DATABASE_URL", "postgresql://localhost/postgres"}};
  const auto defaults = load_config({}, env).incidents;
  CHECK(defaults.dir.empty());
  CHECK(defaults.keep == 50);
  CHECK(defaults.max_bytes == 64ull << 20);
  CHECK(defaults.before == config::Millis{120'000});
  CHECK(defaults.saturation == Approx(0.9));

  const test::TempFile file(
      "incidents:\n  dir: /var/lib/pgvitals/incidents\n  keep: 7\n  max_bytes: 1MB\n"
      "  before: 30s\n  after: 10s\n  saturation: 0.8\n  blocked_sessions: 0\n"
      "  oldest_transaction: 15m\n");
  config::FlagOverrides flags;
  flags.config_file = file.path();
  const auto c = load_config(flags, env).incidents;
  CHECK(c.dir == "/var/lib/pgvitals/incidents");
  CHECK(c.keep == 7);
  CHECK(c.max_bytes == 1ull << 20);
  CHECK(c.before == config::Millis{30'000});
  CHECK(c.after == config::Millis{10'000});
  CHECK(c.saturation == Approx(0.8));
  CHECK(c.blocked_sessions == 0);
  CHECK(c.oldest_transaction == config::Millis{900'000});

  auto with_env = env;
  with_env["PGVITALS_INCIDENTS_DIR"] = "/tmp/elsewhere";
  CHECK(load_config(flags, with_env).incidents.dir == "/tmp/elsewhere");

  auto error_of = [&](const std::string& yaml) {
    const test::TempFile bad(yaml);
    config::FlagOverrides f;
    f.config_file = bad.path();
    return test::config_error([&] { load_config(f, env); });
  };
  CHECK_THAT(error_of("incidents:\n  saturation: 1.5\n"), Catch::Contains("not a ratio"));
  CHECK_THAT(error_of("incidents:\n  max_bytes: lots\n"), Catch::Contains("not a size"));
  CHECK_THAT(error_of("incidents:\n  max_bytes: 1kB\n"), Catch::Contains("at least 4kB"));
  CHECK_THAT(error_of("incidents:\n  keep: 0\n"), Catch::Contains("incidents.keep"));
  CHECK_THAT(error_of("incidents:\n  kept: 3\n"), Catch::Contains("kept"));
}
