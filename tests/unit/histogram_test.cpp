#include "telemetry/histogram.hpp"

#include <catch2/catch.hpp>
#include <limits>
#include <stdexcept>
#include <string>

#include "family_text.hpp"
#include "telemetry/family.hpp"

using pgv::telemetry::Family;
using pgv::telemetry::Histogram;
using pgv::testing::text_of;

TEST_CASE("a histogram counts a value in the first bucket whose bound is at or above it",
          "[series]") {
  Family<Histogram> family("t_seconds", "h");
  Histogram& h = family.Add({{"target", "db"}}, Histogram::BucketBoundaries{0.1, 1, 10});
  for (double v : {0.05, 0.1, 0.5, 1.0, 20.0, 20.0}) h.Observe(v);
  CHECK(h.bucket(0) == 2);  // 0.05, and 0.1 on its bound
  CHECK(h.bucket(1) == 2);
  CHECK(h.bucket(2) == 0);
  CHECK(h.bucket(3) == 2);  // +Inf
  CHECK(h.sum() == Approx(41.65));
  CHECK(text_of(family) ==
        "# HELP t_seconds h\n"
        "# TYPE t_seconds histogram\n"
        "t_seconds_count{target=\"db\"} 6\n"
        "t_seconds_sum{target=\"db\"} 41.65\n"
        "t_seconds_bucket{target=\"db\",le=\"0.1\"} 2\n"
        "t_seconds_bucket{target=\"db\",le=\"1\"} 4\n"
        "t_seconds_bucket{target=\"db\",le=\"10\"} 4\n"
        "t_seconds_bucket{target=\"db\",le=\"+Inf\"} 6\n");
}

TEST_CASE("histograms with the same bounds share one copy of them", "[series]") {
  const Histogram a(Histogram::BucketBoundaries{0.5, 1, 2});
  const Histogram b(Histogram::BucketBoundaries{0.5, 1, 2});
  const Histogram c(Histogram::BucketBoundaries{0.5, 1, 3});
  CHECK(a.bounds().data() == b.bounds().data());
  CHECK(a.bounds().data() != c.bounds().data());
  CHECK(c.bounds().back() == 3);
}

TEST_CASE("a histogram refuses bounds out of order or too many of them", "[series]") {
  CHECK_THROWS_AS(Histogram(Histogram::BucketBoundaries{1, 0.5}), std::invalid_argument);
  CHECK_THROWS_AS(Histogram(Histogram::BucketBoundaries(Histogram::kMaxBounds + 1, 1.0)),
                  std::invalid_argument);
  CHECK_NOTHROW(Histogram(Histogram::BucketBoundaries(Histogram::kMaxBounds, 1.0)));
  // Through a family: nothing is added, and the family stays usable.
  Family<Histogram> family("t_seconds", "h");
  CHECK_THROWS_AS(family.Add({{"target", "db"}}, Histogram::BucketBoundaries{2, 1}),
                  std::invalid_argument);
  CHECK(family.size() == 0);
  family.Add({{"target", "db"}}, Histogram::BucketBoundaries{1, 2}).Observe(1.5);
  CHECK(family.size() == 1);
}

TEST_CASE("a histogram puts NaN in +Inf, as prometheus-cpp did", "[series]") {
  Histogram h(Histogram::BucketBoundaries{1, 2});
  h.Observe(std::numeric_limits<double>::quiet_NaN());
  CHECK(h.bucket(0) == 0);
  CHECK(h.bucket(2) == 1);
}

TEST_CASE("a series keeps label text of any length with its value", "[series]") {
  Family<prometheus::Gauge> family("t_info", "h");
  for (std::size_t length : {0U, 1U, 7U, 8U, 9U, 15U, 16U, 17U, 300U}) {
    const std::string value(length, 'x');
    auto [gauge, created] = family.Ensure({{"target", "db"}, {"v", value}});
    CHECK(created);
    gauge.Set(static_cast<double>(length));
    auto [again, made] = family.Ensure({{"target", "db"}, {"v", value}});
    CHECK_FALSE(made);
    CHECK(&again == &gauge);
  }
  const std::string text = text_of(family);
  CHECK(text.find("t_info{target=\"db\",v=\"\"} 0\n") != std::string::npos);
  CHECK(text.find("t_info{target=\"db\",v=\"" + std::string(300, 'x') + "\"} 300\n") !=
        std::string::npos);
  CHECK(family.size() == 9);
}
