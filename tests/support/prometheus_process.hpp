#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>

namespace pgv::testing {

// A real Prometheus (the Debian package's binary) with its own config, rules and
// storage in a temp dir, on a free loopback port. Killed and cleaned up on destruction.
class PrometheusProcess {
 public:
  // `scrape_port`: the agent to scrape every second; `rule_files`: paths to load.
  PrometheusProcess(int scrape_port, const std::vector<std::string>& rule_files);
  ~PrometheusProcess();
  PrometheusProcess(const PrometheusProcess&) = delete;
  PrometheusProcess& operator=(const PrometheusProcess&) = delete;
  PrometheusProcess(PrometheusProcess&&) = delete;
  PrometheusProcess& operator=(PrometheusProcess&&) = delete;

  int port() const noexcept { return port_; }
  // GET /api/v1/<path> with URL-encoded params; the parsed body, or a JSON null on failure.
  nlohmann::json api(const std::string& path,
                     const std::vector<std::pair<std::string, std::string>>& params = {}) const;
  // An instant query: the "data" object, or null.
  nlohmann::json query(const std::string& promql) const;
  std::string log() const;

 private:
  int port_ = 0;
  pid_t pid_ = -1;
  std::string dir_;
};

}  // namespace pgv::testing
