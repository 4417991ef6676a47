#include "prometheus_process.hpp"

#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "net.hpp"
#include "process.hpp"

namespace pgv::testing {

PrometheusProcess::PrometheusProcess(int scrape_port, const std::vector<std::string>& rule_files) {
  char pattern[] = "/tmp/pgvitals-prom-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  {
    std::ofstream cfg(dir_ + "/prometheus.yml");
    cfg << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        << "scrape_configs:\n  - job_name: pgvitals\n    static_configs:\n"
        << "      - targets: ['127.0.0.1:" << scrape_port << "']\n";
    if (!rule_files.empty()) {
      cfg << "rule_files:\n";
      for (const auto& f : rule_files) cfg << "  - '" << f << "'\n";
    }
  }
  port_ = free_port();
  const std::string log_path = dir_ + "/prometheus.log";
  pid_ = ::fork();
  if (pid_ == 0) {
    const int log = ::open(log_path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
    ::dup2(log, 1);
    ::dup2(log, 2);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    const std::string config = "--config.file=" + dir_ + "/prometheus.yml";
    const std::string storage = "--storage.tsdb.path=" + dir_ + "/data";
    const std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port_);
    ::execlp("prometheus", "prometheus", config.c_str(), storage.c_str(), listen.c_str(),
             "--log.level=warn", static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < until) {
    httplib::Client c("127.0.0.1", port_);
    c.set_connection_timeout(1);
    if (auto r = c.Get("/-/ready"); r && r->status == 200) return;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("prometheus exited: " + log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("prometheus not ready within 30 s: " + log());
}

PrometheusProcess::~PrometheusProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    if (!wait_for_exit(pid_, std::chrono::seconds(10))) {
      ::kill(pid_, SIGKILL);
      wait_for_exit(pid_, std::chrono::seconds(5));
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

nlohmann::json PrometheusProcess::api(
    const std::string& path, const std::vector<std::pair<std::string, std::string>>& params) const {
  httplib::Client c("127.0.0.1", port_);
  c.set_connection_timeout(2);
  c.set_read_timeout(10);
  httplib::Params p;
  for (const auto& [k, v] : params) p.emplace(k, v);
  auto r = c.Get(("/api/v1/" + path).c_str(), p, httplib::Headers{});
  if (!r) return nullptr;
  return nlohmann::json::parse(r->body, nullptr, false);
}

nlohmann::json PrometheusProcess::query(const std::string& promql) const {
  const auto body = api("query", {{"query", promql}});
  if (!body.is_object() || body.value("status", "") != "success") return body;
  return body["data"];
}

std::string PrometheusProcess::log() const {
  std::ifstream in(dir_ + "/prometheus.log");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace pgv::testing
