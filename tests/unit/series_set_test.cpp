#include "telemetry/series_set.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>

using pgv::telemetry::CounterSet;
using pgv::telemetry::Family;

namespace {

std::string text_of(const pgv::telemetry::FamilyBase& family) {
  std::string out;
  pgv::telemetry::TextWriter writer([&](std::string_view chunk) { out += chunk; });
  family.render(writer);
  writer.flush();
  return out;
}

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
