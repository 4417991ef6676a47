#pragma once

#include <stdexcept>
#include <string>

namespace pgv::config {

// Bad configuration: the message names the key, the bad value (redacted) and what is
// allowed. `pgvitals` turns it into exit status 2.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace pgv::config
