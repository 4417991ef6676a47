#include "telemetry/series_set.hpp"

#include <catch2/catch.hpp>

using pgv::telemetry::CounterSet;

namespace {

double value(prometheus::Family<prometheus::Counter>& family, const std::string& db) {
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
  prometheus::Registry registry;
  auto& family = prometheus::BuildCounter().Name("t_total").Help("h").Register(registry);
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
