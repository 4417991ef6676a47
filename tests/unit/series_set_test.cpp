#include "telemetry/series_set.hpp"

#include <catch2/catch.hpp>

using pgv::telemetry::CounterSet;
using pgv::telemetry::Family;

namespace {

double value(Family<prometheus::Counter>& family, const std::string& db) {
  for (const auto& m : family.Collect()) {
    for (const auto& metric : m.metric) {
      for (const auto& label : metric.label) {
        if (label.name == "database" && label.value == db) return metric.counter.value;
      }
    }
  }
  return -1;
}

}  // namespace

TEST_CASE("counters mirror external totals and restart from 0 when a total goes down", "[series]") {
  pgv::telemetry::Family<prometheus::Counter> family("t_total", "h");
  {
    CounterSet set(family, "bouncer");
    set.replace({{{{"database", "a"}}, 10}, {{{"database", "b"}}, 5}});
    CHECK(value(family, "a") == 10);
    set.replace({{{{"database", "a"}}, 25}, {{{"database", "b"}}, 5}});
    CHECK(value(family, "a") == 25);
    // PgBouncer restarted: its totals start again, and so does the series.
    set.replace({{{{"database", "a"}}, 3}});
    CHECK(value(family, "a") == 3);
    CHECK(value(family, "b") == -1);  // gone with its database
  }
  CHECK(value(family, "a") == -1);  // removed with the set
}

TEST_CASE("a family keeps its targets' series apart and shows them as one family", "[series]") {
  Family<prometheus::Gauge> family("t_connections", "help text");
  std::vector<prometheus::Gauge*> added;
  for (int i = 0; i < 300; ++i) {
    const std::string target = "db-" + std::to_string(i);
    for (const char* state : {"idle", "active"}) {
      added.push_back(&family.Add({{"target", target}, {"state", state}}));
      added.back()->Set(i);
    }
  }
  prometheus::Gauge& untargeted = family.Add({{"state", "all"}});
  untargeted.Set(-1);
  auto count = [&] {
    const auto collected = family.Collect();
    REQUIRE(collected.size() == 1);
    CHECK(collected[0].name == "t_connections");
    CHECK(collected[0].help == "help text");
    CHECK(collected[0].type == prometheus::MetricType::Gauge);
    return collected[0].metric.size();
  };
  CHECK(count() == 601);
  // Adding again returns the same series.
  CHECK(&family.Add({{"target", "db-7"}, {"state", "idle"}}) == added[14]);

  // Removing one target's series leaves every other target's.
  family.Remove("db-7", added[14]);
  family.Remove("db-7", added[15]);
  CHECK(count() == 599);
  const auto after = family.Collect();
  for (const auto& m : after[0].metric) {
    for (const auto& l : m.label) CHECK_FALSE((l.name == "target" && l.value == "db-7"));
  }
  // A series is found only under its own target: the wrong one removes nothing.
  family.Remove("db-8", added[0]);
  CHECK(count() == 599);
  family.Remove("", &untargeted);
  CHECK(count() == 598);
  for (int i = 0; i < 300; ++i) {
    if (i == 7) continue;
    const std::string target = "db-" + std::to_string(i);
    family.Remove(target, added[2 * i]);
    family.Remove(target, added[2 * i + 1]);
  }
  CHECK(family.Collect().empty());  // no series: no family in the exposition
}
