#include "log/log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "config/error.hpp"

using pgv::logging::format_fields;
using pgv::logging::init_logging;
using pgv::logging::log;
using pgv::logging::log_enabled;
using pgv::logging::LogLevel;
using pgv::logging::parse_log_level;
using pgv::logging::set_log_secrets;

namespace {

// Sends everything written to file descriptor 2 into a temporary file until finish().
class StderrCapture {
 public:
  StderrCapture() {
    std::string name =
        (std::filesystem::temp_directory_path() / "pgvitals-log-test-XXXXXX").string();
    const int fd = ::mkstemp(name.data());
    REQUIRE(fd >= 0);
    path_ = name;
    std::fflush(stderr);
    saved_ = ::dup(2);
    REQUIRE(saved_ >= 0);
    REQUIRE(::dup2(fd, 2) == 2);
    ::close(fd);
  }
  ~StderrCapture() {
    restore();
    ::unlink(path_.c_str());
  }
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;

  std::string finish() {
    restore();
    std::ifstream in(path_);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
    saved_ = -1;
  }

  std::string path_;
  int saved_ = -1;
};

// Puts the process-wide logger back the way an unconfigured process has it.
struct LoggingReset {
  ~LoggingReset() {
    set_log_secrets({});
    init_logging("text", "info");
  }
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Every string anywhere in a JSON value, decoded.
void collect_strings(const nlohmann::json& j, std::vector<std::string>& out) {
  if (j.is_string()) {
    out.push_back(j.get<std::string>());
  } else if (j.is_structured()) {
    for (const auto& [key, value] : j.items()) {
      out.push_back(key);
      collect_strings(value, out);
    }
  }
}

}  // namespace

TEST_CASE("text log lines are 'msg key=value' with values quoted when they hold blanks", "[log]") {
  CHECK(format_fields(false, "target down", {}) == "target down");
  CHECK(format_fields(false, "target down",
                      {{"target", "db"},
                       {"error", "connection refused"},
                       {"n", 3},
                       {"ok", false},
                       {"latency", 0.25}}) ==
        "target down target=db error=\"connection refused\" n=3 ok=false latency=0.25");
  CHECK(format_fields(false, "m", {{"empty", ""}}) == "m empty=\"\"");
  CHECK(format_fields(false, "m", {{"q", "say \"hi\""}}) == R"(m q="say \"hi\"")");
  CHECK(format_fields(false, "m", {{"eq", "a=b"}}) == R"(m eq="a=b")");
  CHECK(format_fields(false, "m", {{"nl", "two\nlines"}}) == R"(m nl="two\nlines")");
}

TEST_CASE("JSON log fields form a valid object with escaped strings and bare numbers", "[log]") {
  const std::string ctl = std::string("bell\x07") + "nul" + '\0' + "end";
  const std::string body = format_fields(true, "probe \"failed\"\n",
                                         {{"target", "db"},
                                          {"error", "line1\nline2\ttab \\ back \"quoted\"\r"},
                                          {"ctl", ctl},
                                          {"backend_pid", 4242},
                                          {"count", 12345678901LL},
                                          {"seconds", 0.0125},
                                          {"inf", std::numeric_limits<double>::infinity()},
                                          {"usable", true}});
  INFO(body);
  nlohmann::json j;
  REQUIRE_NOTHROW(j = nlohmann::json::parse("{" + body + "}"));
  CHECK(j["msg"] == "probe \"failed\"\n");
  CHECK(j["target"] == "db");
  CHECK(j["error"] == "line1\nline2\ttab \\ back \"quoted\"\r");
  CHECK(j["ctl"] == ctl);
  CHECK(j["backend_pid"].is_number_integer());
  CHECK(j["backend_pid"] == 4242);
  CHECK(j["count"] == 12345678901LL);
  CHECK(j["seconds"].is_number_float());
  CHECK(j["seconds"].get<double>() == Approx(0.0125));
  CHECK(j["inf"].is_null());
  CHECK(j["usable"].is_boolean());
  CHECK(j["usable"] == true);
  // Raw control characters never reach the line.
  CHECK(std::none_of(body.begin(), body.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20; }));
}

TEST_CASE("log scrubs a registered secret from every JSON line", "[log]") {
  const std::string canary = "Canary-7f3a9c-pw";
  pgv::config::Secrets secrets;
  secrets.add(canary);
  LoggingReset reset;
  std::string out;
  {
    StderrCapture capture;
    set_log_secrets(secrets);
    init_logging("json", "info");
    log(LogLevel::warn, "probe failed",
        {{"target", "db"},
         {"error", "password authentication failed: " + canary},
         {"dsn", "postgresql://app:" + canary + "@db:5432/app"},
         {"backend_pid", 17}});
    log(LogLevel::info, "message carrying " + canary);
    log(LogLevel::debug, "below the level " + canary);
    out = capture.finish();
  }
  INFO(out);
  CHECK(out.find(canary) == std::string::npos);
  const auto lines = lines_of(out);
  REQUIRE(lines.size() == 2);
  for (const std::string& line : lines) {
    nlohmann::json j;
    REQUIRE_NOTHROW(j = nlohmann::json::parse(line));
    CHECK(j.contains("ts"));
    CHECK(j.contains("level"));
    CHECK(j.contains("msg"));
  }
  const auto first = nlohmann::json::parse(lines[0]);
  CHECK(first["level"] == "warning");
  CHECK(first["msg"] == "probe failed");
  CHECK(first["target"] == "db");
  CHECK(first["backend_pid"] == 17);
  CHECK_THAT(first["error"].get<std::string>(), Catch::Contains("***"));
}

TEST_CASE("log scrubs a secret containing a quote or backslash from JSON lines", "[log]") {
  // JSON escaping turns `"` into `\"` before the line is scrubbed, so a search for the
  // secret as written no longer finds it; decoding the line gives the secret back.
  const std::string canary = R"(Can"ary\7f3a9c)";
  pgv::config::Secrets secrets;
  secrets.add(canary);
  LoggingReset reset;
  std::string out;
  {
    StderrCapture capture;
    set_log_secrets(secrets);
    init_logging("json", "info");
    log(LogLevel::warn, "probe failed", {{"error", "authentication failed for " + canary}});
    out = capture.finish();
  }
  INFO(out);
  const auto lines = lines_of(out);
  REQUIRE(lines.size() == 1);
  nlohmann::json j;
  REQUIRE_NOTHROW(j = nlohmann::json::parse(lines[0]));
  std::vector<std::string> strings;
  collect_strings(j, strings);
  for (const std::string& s : strings) CHECK(s.find(canary) == std::string::npos);
}

TEST_CASE("log writes text lines with level and fields when the format is text", "[log]") {
  LoggingReset reset;
  std::string out;
  {
    StderrCapture capture;
    init_logging("text", "warn");
    CHECK_FALSE(log_enabled(LogLevel::info));
    CHECK(log_enabled(LogLevel::warn));
    log(LogLevel::info, "hidden");
    log(LogLevel::error, "target down", {{"target", "db"}, {"reason", "timeout"}});
    out = capture.finish();
  }
  INFO(out);
  const auto lines = lines_of(out);
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], Catch::EndsWith(" error target down target=db reason=timeout"));
  CHECK_THAT(lines[0], Catch::Matches(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z .*)"));
}

TEST_CASE("parse_log_level accepts the known levels and rejects others with ConfigError", "[log]") {
  CHECK(parse_log_level("trace") == LogLevel::trace);
  CHECK(parse_log_level("debug") == LogLevel::debug);
  CHECK(parse_log_level("info") == LogLevel::info);
  CHECK(parse_log_level("warn") == LogLevel::warn);
  CHECK(parse_log_level("warning") == LogLevel::warn);
  CHECK(parse_log_level("error") == LogLevel::error);
  CHECK(parse_log_level("off") == LogLevel::off);
  CHECK_THROWS_AS(parse_log_level("verbose"), pgv::config::ConfigError);
  CHECK_THROWS_AS(parse_log_level(""), pgv::config::ConfigError);
  CHECK_THROWS_AS(parse_log_level("INFO"), pgv::config::ConfigError);
  CHECK_THROWS_WITH(parse_log_level("loud"), Catch::Contains("log.level") &&
                                                 Catch::Contains("loud") &&
                                                 Catch::Contains("allowed"));
}

TEST_CASE("init_logging rejects an unknown format or level with ConfigError", "[log]") {
  LoggingReset reset;
  CHECK_THROWS_AS(init_logging("xml", "info"), pgv::config::ConfigError);
  CHECK_THROWS_AS(init_logging("json", "chatty"), pgv::config::ConfigError);
}
