#include "telemetry/series_set.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>

#include "family_text.hpp"

using pgv::telemetry::CounterSet;
using pgv::telemetry::Family;
using pgv::testing::text_of;

namespace {

double value(Family<prometheus::Counter>& family, const std::string& db) {
  const std::string text = text_of(family);
  const std::string key = "database=\"" + db + "\"";
  const auto at = text.find(key);
  if (at == std::string::npos) return -1;
  const auto space = text.find("} ", at);
  return std::stod(text.substr(space + 2, text.find('\n', space) - space - 2));
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
    const std::string text = text_of(family);
    // One head for the whole family, whatever shards its series are in.
    CHECK(text.starts_with("# HELP t_connections help text\n# TYPE t_connections gauge\n"));
    CHECK(text.find("# HELP", 1) == std::string::npos);
    const auto lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
    CHECK(lines - 2 == family.size());
    return family.size();
  };
  CHECK(count() == 601);
  // Adding again returns the same series.
  CHECK(&family.Add({{"target", "db-7"}, {"state", "idle"}}) == added[14]);

  // Removing one target's series leaves every other target's.
  family.Remove("db-7", added[14]);
  family.Remove("db-7", added[15]);
  CHECK(count() == 599);
  const std::string after = text_of(family);
  CHECK(after.find("target=\"db-7\"") == std::string::npos);
  CHECK(after.find("target=\"db-70\"") != std::string::npos);
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
  CHECK(family.size() == 0);
  CHECK(text_of(family).empty());  // no series: no family in the exposition
}

TEST_CASE("removing a target's series takes that target's alone", "[series]") {
  // Targets in the removed one's shard, so that the label match itself is what tells them
  // apart: names that contain it, and other labels whose values hold its text.
  using G = Family<prometheus::Gauge>;
  auto shard = [](std::string_view target) {
    return std::hash<std::string_view>{}(target) % G::kShards;
  };
  auto beside = [&](const std::string& prefix, const std::string& suffix) {
    for (int i = 0;; ++i) {
      std::string name = prefix + std::to_string(i) + suffix;
      if (shard(name) == shard("db-7")) return name;
    }
  };
  const std::string longer = beside("db-7", "");    // db-7<n>
  const std::string wider = beside("x", "db-7");    // x<n>db-7
  const std::string quoted = beside("db-7\"", "");  // db-7"<n>
  const std::string other = beside("other-", "");
  G family("t_up", "h");
  for (const std::string& target : {std::string("db-7"), longer, wider, quoted}) {
    family.Add({{"target", target}}).Set(1);
    family.Add({{"target", target}, {"zone", "a"}}).Set(1);
  }
  family.Add({{"target", other}, {"note", "target=\"db-7\""}}).Set(1);
  family.Add({{"note", ",target=\"db-7\","}, {"target", other}}).Set(1);
  family.Add({{"atarget", "db-7"}, {"target", other}}).Set(1);
  CHECK(family.size() == 11);

  family.remove_target("db-7");
  CHECK(family.size() == 9);
  const std::string text = text_of(family);
  CHECK(text.find("target=\"db-7\"}") == std::string::npos);
  CHECK(text.find("target=\"db-7\",zone") == std::string::npos);
  for (const std::string& kept : {longer, wider}) {
    CHECK(text.find("target=\"" + kept + "\"") != std::string::npos);
  }
  family.remove_target(quoted);
  CHECK(family.size() == 7);
  family.remove_target(other);
  CHECK(family.size() == 4);
}
