#include "telemetry/failures.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using pgv::telemetry::FailureRecord;
using pgv::telemetry::FailureRing;

namespace {

FailureRecord rec(const std::string& target, int n) {
  FailureRecord r;
  r.target = target;
  r.probe = "connectivity";
  r.message = target + "-" + std::to_string(n);
  return r;
}

std::vector<std::string> messages(const std::vector<FailureRecord>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(r.message);
  return out;
}

using Strings = std::vector<std::string>;

}  // namespace

TEST_CASE("failure ring keeps only the newest N records", "[failures]") {
  FailureRing ring(3);
  CHECK(ring.capacity() == 3);
  for (int i = 0; i < 5; ++i) ring.push(rec("db", i));
  CHECK(messages(ring.recent("", 100)) == Strings{"db-4", "db-3", "db-2"});
}

TEST_CASE("failure ring defaults to a capacity of 256", "[failures]") {
  const FailureRing ring;
  CHECK(ring.capacity() == 256);
  CHECK(ring.total() == 0);
  CHECK(ring.recent("", 10).empty());
}

TEST_CASE("recent returns newest first, filtered by target and cut at the limit", "[failures]") {
  FailureRing ring(10);
  ring.push(rec("a", 0));
  ring.push(rec("b", 0));
  ring.push(rec("a", 1));
  ring.push(rec("b", 1));
  ring.push(rec("a", 2));
  CHECK(messages(ring.recent("", 100)) == Strings{"a-2", "b-1", "a-1", "b-0", "a-0"});
  CHECK(messages(ring.recent("a", 100)) == Strings{"a-2", "a-1", "a-0"});
  CHECK(messages(ring.recent("b", 100)) == Strings{"b-1", "b-0"});
  CHECK(messages(ring.recent("a", 2)) == Strings{"a-2", "a-1"});
  CHECK(messages(ring.recent("", 1)) == Strings{"a-2"});
  CHECK(ring.recent("", 0).empty());
  CHECK(ring.recent("c", 100).empty());
}

TEST_CASE("total counts every failure pushed, also those dropped from the ring", "[failures]") {
  FailureRing ring(2);
  for (int i = 0; i < 7; ++i) ring.push(rec("db", i));
  CHECK(ring.total() == 7);
  CHECK(ring.recent("", 100).size() == 2);
}

TEST_CASE("set_capacity shrinks the ring to its newest records", "[failures]") {
  FailureRing ring(5);
  for (int i = 0; i < 5; ++i) ring.push(rec("db", i));
  ring.set_capacity(2);
  CHECK(ring.capacity() == 2);
  CHECK(messages(ring.recent("", 100)) == Strings{"db-4", "db-3"});
  CHECK(ring.total() == 5);
  ring.push(rec("db", 5));
  CHECK(messages(ring.recent("", 100)) == Strings{"db-5", "db-4"});

  SECTION("growing again keeps what is there and makes room for more") {
    ring.set_capacity(4);
    ring.push(rec("db", 6));
    ring.push(rec("db", 7));
    CHECK(messages(ring.recent("", 100)) == Strings{"db-7", "db-6", "db-5", "db-4"});
  }
}
