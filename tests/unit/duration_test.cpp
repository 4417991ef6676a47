#include "config/duration.hpp"

#include <catch2/catch.hpp>

#include "config/error.hpp"

using pgv::config::ConfigError;
using pgv::config::format_duration;
using pgv::config::Millis;
using pgv::config::parse_duration;

TEST_CASE("durations are read in ms, s, m and h, decimals included", "[config][duration]") {
  CHECK(parse_duration("k", "500ms") == Millis{500});
  CHECK(parse_duration("k", "2s") == Millis{2000});
  CHECK(parse_duration("k", "1.5s") == Millis{1500});
  CHECK(parse_duration("k", "1.250s") == Millis{1250});
  CHECK(parse_duration("k", "0.5m") == Millis{30'000});
  CHECK(parse_duration("k", "30m") == Millis{1'800'000});
  CHECK(parse_duration("k", "1h") == Millis{3'600'000});
  CHECK(parse_duration("k", "0.001s") == Millis{1});
  CHECK(parse_duration("k", " 2s ") == Millis{2000});
}

TEST_CASE("malformed durations are refused with the key, the value and the forms allowed",
          "[config][duration]") {
  const auto bad = GENERATE(as<std::string>{}, "", "5", "-5s", "5d", "5 s", "s", "1.s", ".5s",
                            "1..5s", "1.5.0s", "250us", "1.5ms", "0.0001s", "0s", "0ms",
                            "99999999999999999999h", "1000000h", "5S", "1h30m");
  INFO("value: '" << bad << "'");
  CHECK_THROWS_AS(parse_duration("pool.timeout", bad), ConfigError);
  CHECK_THROWS_WITH(parse_duration("pool.timeout", bad),
                    Catch::StartsWith("config: pool.timeout: ") &&
                        Catch::Contains("got '" + bad + "'") && Catch::Contains("allowed: "));
}

TEST_CASE("duration errors say what is wrong", "[config][duration]") {
  CHECK_THROWS_WITH(parse_duration("k", "5"), Catch::Contains("missing unit"));
  CHECK_THROWS_WITH(parse_duration("k", "-1s"), Catch::Contains("negative"));
  CHECK_THROWS_WITH(parse_duration("k", "250us"), Catch::Contains("resolution"));
  CHECK_THROWS_WITH(parse_duration("k", "1.5ms"), Catch::Contains("whole number of milli"));
  CHECK_THROWS_WITH(parse_duration("k", "5d"), Catch::Contains("unknown unit"));
  CHECK_THROWS_WITH(parse_duration("k", "1000000h"), Catch::Contains("too large"));
  CHECK_THROWS_WITH(parse_duration("k", "0s"), Catch::Contains("zero"));
}

TEST_CASE("a caller's minimum is enforced and named in the message", "[config][duration]") {
  CHECK(parse_duration("interval", "100ms", Millis{100}) == Millis{100});
  CHECK_THROWS_WITH(
      parse_duration("interval", "99ms", Millis{100}),
      Catch::StartsWith("config: interval: too short: got '99ms'") && Catch::Contains(">= 0.1s"));
}

TEST_CASE("durations are formatted in their shortest exact spelling", "[config][duration]") {
  CHECK(format_duration(Millis{1'800'000}) == "30m");
  CHECK(format_duration(Millis{3'600'000}) == "1h");
  CHECK(format_duration(Millis{2000}) == "2s");
  CHECK(format_duration(Millis{1500}) == "1.5s");
  CHECK(format_duration(Millis{500}) == "0.5s");
  CHECK(format_duration(Millis{10}) == "10ms");
  CHECK(format_duration(Millis{1}) == "1ms");
  CHECK(format_duration(Millis{90'000}) == "90s");
  CHECK(format_duration(Millis{150'000}) == "150s");  // ties with 2.5m: integral wins
  CHECK(format_duration(Millis{5'400'000}) == "90m");
  CHECK(format_duration(Millis{0}) == "0s");
  CHECK(format_duration(Millis{-2000}) == "-2s");
}

TEST_CASE("formatting then parsing gives back the same duration", "[config][duration]") {
  for (std::int64_t ms = 1; ms < 10'000'000; ms = ms * 3 + 7) {
    const Millis d{ms};
    INFO(ms << "ms formats as " << format_duration(d));
    CHECK(parse_duration("k", format_duration(d)) == d);
  }
}
