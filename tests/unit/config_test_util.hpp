#pragma once

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <functional>
#include <string>

#include "config/error.hpp"

namespace pgv::test {

// A file with the given content, removed when the test ends (also when it fails).
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    std::string name = (std::filesystem::temp_directory_path() / "pgvitals-test-XXXXXX").string();
    const int fd = ::mkstemp(name.data());
    REQUIRE(fd >= 0);
    path_ = name;
    const auto written = ::write(fd, content.data(), content.size());
    ::close(fd);
    REQUIRE(written == static_cast<ssize_t>(content.size()));
  }
  ~TempFile() { ::unlink(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The ConfigError message `action` throws; fails the test when it throws none.
inline std::string config_error(const std::function<void()>& action) {
  try {
    action();
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  FAIL("expected a ConfigError, none was thrown");
  return {};
}

}  // namespace pgv::test
