#include "config/lag_limit.hpp"

#include <catch2/catch.hpp>

#include "config/error.hpp"
#include "config_test_util.hpp"

using pgv::config::parse_lag_limit;

TEST_CASE("lag limits take PostgreSQL's size units, plain bytes or durations", "[config][lag]") {
  CHECK(*parse_lag_limit("lag", "16MB").bytes == 16.0 * 1024 * 1024);
  CHECK(*parse_lag_limit("lag", "512kB").bytes == 512.0 * 1024);
  CHECK(*parse_lag_limit("lag", "1GB").bytes == 1024.0 * 1024 * 1024);
  CHECK(*parse_lag_limit("lag", "1048576").bytes == 1048576);
  CHECK(*parse_lag_limit("lag", " 2TB ").bytes == 2.0 * 1024 * 1024 * 1024 * 1024);
  CHECK(*parse_lag_limit("lag", "10s").seconds == 10);
  CHECK(*parse_lag_limit("lag", "500ms").seconds == 0.5);
  CHECK(*parse_lag_limit("lag", "2m").seconds == 120);
  CHECK_FALSE(parse_lag_limit("lag", "10s").bytes);
  CHECK_FALSE(parse_lag_limit("lag", "16MB").seconds);
}

TEST_CASE("a bad lag limit names the key, the value and the accepted forms", "[config][lag]") {
  for (const char* bad : {"", "-1MB", "16XB", "lots", "1.5.2MB", "MB"}) {
    INFO(bad);
    const std::string message =
        pgv::test::config_error([&] { parse_lag_limit("max_replication_lag", bad); });
    CHECK(message.find("max_replication_lag") != std::string::npos);
    CHECK(message.find("16MB") != std::string::npos);
  }
}
