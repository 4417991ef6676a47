#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "config/error.hpp"
#include "incidents/files.hpp"
#include "incidents/record_json.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using pgv::incidents::IncidentFiles;
using pgv::incidents::IncidentRecord;
using namespace std::chrono_literals;
using pgv::testing::TempDir;

namespace {

// A record opened `minute` minutes after 22:00, 1 Dec 2026; closed unless `open`.
std::shared_ptr<IncidentRecord> record(int minute, bool open = false) {
  auto r = std::make_shared<IncidentRecord>();
  char id[64];
  std::snprintf(id, sizeof id, "20261201T22%02d00Z-db", minute % 60);
  r->id = id;
  r->target = "db";
  r->trigger = "down";
  r->opened_unix = 1'796'162'400.0 + minute * 60;
  r->first_error = "db/connectivity failed: refused";
  r->transitions.push_back({r->opened_unix, "incident opened: down"});
  if (!open) {
    r->closed_unix = r->opened_unix + 30;
    r->ended = "recovered";
  }
  return r;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

IncidentRecord read_back(const std::string& path) {
  return pgv::incidents::record_from_json(nlohmann::json::parse(slurp(path)));
}

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string config_error(const std::function<void()>& action) {
  try {
    action();
  } catch (const pgv::config::ConfigError& e) {
    return e.what();
  }
  FAIL("expected a ConfigError, none was thrown");
  return {};
}

}  // namespace

TEST_CASE("incident files are written whole under their id, no temp file left",
          "[incidents][files]") {
  TempDir dir("pgvitals-incidents");
  std::ofstream(dir.file("20261130T000000Z-db.json.tmp")) << "half a record";
  IncidentFiles files(dir.path() + "/nested/incidents", {});
  CHECK(fs::exists(dir.file("20261130T000000Z-db.json.tmp")));  // only its own dir is cleaned
  IncidentFiles here(dir.path(), {});
  CHECK_FALSE(fs::exists(dir.file("20261130T000000Z-db.json.tmp")));  // leftover removed

  const auto r = record(15);
  here.write(r);
  here.flush();
  CHECK(names_in(dir.path()) == std::vector<std::string>{"20261201T221500Z-db.json", "nested"});
  const IncidentRecord back = read_back(dir.file("20261201T221500Z-db.json"));
  CHECK(back.id == r->id);
  CHECK(back.ended == "recovered");
  CHECK(back.transitions.size() == 1);
}

TEST_CASE("an open record is written at once, then coalesced, and its closing goes out at once",
          "[incidents][files]") {
  TempDir dir("pgvitals-incidents");
  IncidentFiles files(dir.path(), {});
  const std::string path = dir.file("20261201T220100Z-db.json");
  auto r = record(1, true);
  files.write(r);
  files.flush();
  REQUIRE(read_back(path).transitions.size() == 1);

  for (int i = 0; i < 50; ++i) {
    auto next = std::make_shared<IncidentRecord>(*r);
    next->transitions.push_back({r->opened_unix + i, "update " + std::to_string(i)});
    r = next;
    files.write(r);
  }
  // Written a moment ago: the next copy waits its turn (a few seconds).
  std::this_thread::sleep_for(300ms);
  CHECK(read_back(path).transitions.size() == 1);
  files.flush();  // flush does not wait for the turn
  CHECK(read_back(path).transitions.size() == 51);
  CHECK(read_back(path).transitions.back().what == "update 49");

  auto closed = std::make_shared<IncidentRecord>(*r);
  closed->closed_unix = r->opened_unix + 60;
  closed->ended = "recovered";
  const auto sent = std::chrono::steady_clock::now();
  files.write(closed);
  bool seen = false;
  while (!seen && std::chrono::steady_clock::now() - sent < 3s) {
    std::this_thread::sleep_for(20ms);
    try {
      seen = read_back(path).ended == "recovered";
    } catch (const std::exception&) {
      // never half a file: the rename is atomic, so this is only a missing file
    }
  }
  CHECK(seen);
}

TEST_CASE("incidents.keep: the oldest files go beyond it", "[incidents][files]") {
  TempDir dir("pgvitals-incidents");
  IncidentFiles files(dir.path(), {.keep = 50, .max_bytes = 64ull << 20});
  for (int i = 0; i < 60; ++i) {
    files.write(record(i));
    files.flush();  // one by one: each file older than the next
  }
  const auto names = names_in(dir.path());
  CHECK(names.size() == 50);
  CHECK(names.front() == "20261201T221000Z-db.json");
  CHECK(names.back() == "20261201T225900Z-db.json");
  CHECK_FALSE(fs::exists(dir.file("20261201T220900Z-db.json")));
}

TEST_CASE("incidents.max_bytes: the oldest files go beyond it, never the one just written",
          "[incidents][files]") {
  TempDir dir("pgvitals-incidents");
  const std::uint64_t one =
      pgv::incidents::dump(pgv::incidents::to_json(*record(0))).size() + 1;  // + newline
  IncidentFiles files(dir.path(), {.keep = 50, .max_bytes = one * 3});
  for (int i = 0; i < 6; ++i) {
    files.write(record(i));
    files.flush();
  }
  CHECK(names_in(dir.path()) == std::vector<std::string>{"20261201T220300Z-db.json",
                                                         "20261201T220400Z-db.json",
                                                         "20261201T220500Z-db.json"});
  files.set_limits({.keep = 50, .max_bytes = 10});
  auto big = record(6);
  big->first_error = std::string(4096, 'x');
  files.write(big);
  files.flush();
  CHECK(names_in(dir.path()) == std::vector<std::string>{"20261201T220600Z-db.json"});
}

TEST_CASE("load: newest first, a bad file skipped, an open one closed as the agent restarted",
          "[incidents][files]") {
  TempDir dir("pgvitals-incidents");
  {
    IncidentFiles files(dir.path(), {});
    files.write(record(5));
    files.write(record(30));
    auto open = record(10, true);
    pgv::incidents::Sample last;
    last.t = open->opened_unix + 42;
    open->during.push_back(last);
    files.write(open);
  }  // the destructor writes what is queued
  std::ofstream(dir.file("20261201T225900Z-broken.json")) << "{\"id\": ";
  std::ofstream(dir.file("notes.txt")) << "not a record";
  IncidentFiles files(dir.path(), {});
  const auto loaded = files.load();
  REQUIRE(loaded.size() == 3);
  CHECK(loaded[0]->id == "20261201T223000Z-db");
  CHECK(loaded[1]->id == "20261201T221000Z-db");
  CHECK(loaded[2]->id == "20261201T220500Z-db");
  CHECK_FALSE(loaded[1]->open());
  CHECK(loaded[1]->ended == "agent restarted");
  CHECK(loaded[1]->closed_unix == loaded[1]->opened_unix + 42);

  CHECK(pgv::incidents::read_incident(dir.path(), "last").id == "20261201T223000Z-db");
  CHECK(pgv::incidents::read_incident(dir.path(), "20261201T221000Z-db").open());
  try {
    pgv::incidents::read_incident(dir.path(), "nope");
    FAIL("no error for an unknown id");
  } catch (const std::runtime_error& e) {
    CHECK_THAT(e.what(),
               Catch::Contains("no incident 'nope'") && Catch::Contains("20261201T223000Z-db"));
  }
}

TEST_CASE("an unusable incidents.dir is a configuration error", "[incidents][files]") {
  TempDir dir("pgvitals-incidents");
  std::ofstream(dir.file("plain")) << "a file";
  const std::string under_file = config_error([&] { IncidentFiles f(dir.file("plain/sub"), {}); });
  CHECK_THAT(under_file, Catch::StartsWith("incidents.dir: '" + dir.file("plain/sub") + "': ") &&
                             Catch::Contains("not writable"));
  CHECK_THAT(config_error([&] { IncidentFiles f(dir.file("plain"), {}); }),
             Catch::Contains("not a directory"));
  // Even root cannot create files in /proc.
  CHECK_THAT(config_error([] { IncidentFiles f("/proc/self/pgvitals-incidents", {}); }),
             Catch::Contains("not writable"));
  CHECK_THAT(config_error([] { IncidentFiles f("/proc/self", {}); }),
             Catch::Contains("not writable"));
}

TEST_CASE("a full disk is reported and the writer goes on", "[incidents][files]") {
  if (::geteuid() != 0) {
    WARN("skipped: mounting a tiny tmpfs needs root");
    return;
  }
  TempDir dir("pgvitals-incidents");
  constexpr int kCannotMount = 77;
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    if (::unshare(CLONE_NEWNS) != 0 ||
        ::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("tmpfs", dir.path().c_str(), "tmpfs", 0, "size=16k") != 0) {
      ::_exit(kCannotMount);
    }
    std::atomic<int> failures{0};
    int code = 0;
    {
      IncidentFiles files(dir.path(), {}, [&failures] { ++failures; });
      auto big = record(1);
      big->first_error = std::string(64 * 1024, 'x');
      files.write(big);
      files.flush();
      if (failures.load() < 1) code |= 1;
      if (fs::exists(dir.file("20261201T220100Z-db.json"))) code |= 2;
      if (fs::exists(dir.file("20261201T220100Z-db.json.tmp"))) code |= 4;
      files.write(record(2));
      files.flush();
      if (!fs::exists(dir.file("20261201T220200Z-db.json"))) code |= 8;
      if (failures.load() != 1) code |= 16;
    }
    ::_exit(code);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  if (WEXITSTATUS(status) == kCannotMount) {
    WARN("skipped: no mount namespace here (unshare or mount refused)");
    return;
  }
  INFO("bits: 1 no failure, 2 file written, 4 temp left, 8 writer stopped, 16 extra failure");
  CHECK(WEXITSTATUS(status) == 0);
}
