#include "http/server.hpp"

#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <set>
#include <stdexcept>

#include "http/auth.hpp"
#include "http/debug_json.hpp"
#include "http/health.hpp"
#include "telemetry/log.hpp"

namespace pgv::http {
namespace {

constexpr const char* kTextPlain = "text/plain; charset=utf-8";
constexpr const char* kJson = "application/json";
constexpr const char* kMetricsType = "text/plain; version=0.0.4; charset=utf-8";

bool wants_json(const httplib::Request& req) {
  if (req.has_param("format")) return req.get_param_value("format") == "json";
  return req.get_header_value("Accept").find("application/json") != std::string::npos;
}

std::set<std::string> excludes(const httplib::Request& req) {
  std::set<std::string> out;
  const std::size_t n = req.get_param_value_count("exclude");
  for (std::size_t i = 0; i < n; ++i) out.insert(req.get_param_value("exclude", i));
  return out;
}

void no_store(httplib::Response& res) {
  res.set_header("Cache-Control", "no-store");
}

void answer_health(const httplib::Request& req, httplib::Response& res, const Report& report) {
  no_store(res);
  res.status = !report.found ? 404 : (report.ok ? 200 : 503);
  if (wants_json(req)) {
    res.set_content(render_json(report, Clock::now()), kJson);
  } else {
    res.set_content(render_text(report, req.has_param("verbose")), kTextPlain);
  }
}

}  // namespace

HttpServer::HttpServer(const config::AgentConfig& config, telemetry::Telemetry& telemetry)
    : config_(config), telemetry_(telemetry) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::install_routes() {
  httplib::Server& s = *server_;
  const config::AuthConfig auth = config_.auth;
  // Wraps a handler with the configured auth; health checks only when asked to.
  auto guarded = [auth](bool protect, httplib::Server::Handler handler) {
    return [auth, protect, handler = std::move(handler)](const httplib::Request& req,
                                                         httplib::Response& res) {
      if (protect && !authorized(auth, req.get_header_value("Authorization"))) {
        res.status = 401;
        res.set_header("WWW-Authenticate",
                       auth.bearer_token.empty() ? R"(Basic realm="pgvitals")" : "Bearer");
        res.set_content("unauthorized\n", kTextPlain);
        return;
      }
      handler(req, res);
    };
  };
  const bool health_protected = auth.protect_health;
  telemetry::Telemetry& tel = telemetry_;

  auto health = [&tel](Endpoint endpoint) {
    return [&tel, endpoint](const httplib::Request& req, httplib::Response& res) {
      const std::string target = req.matches.size() > 1 ? std::string(req.matches[1]) : "";
      answer_health(req, res,
                    evaluate(*tel.state.snapshot(), endpoint, target, excludes(req), Clock::now()));
    };
  };
  s.Get("/healthz", guarded(health_protected, health(Endpoint::healthz)));
  s.Get(R"(/healthz/([A-Za-z0-9_.\-]+))", guarded(health_protected, health(Endpoint::healthz)));
  s.Get("/readyz", guarded(health_protected, health(Endpoint::readyz)));
  s.Get(R"(/readyz/([A-Za-z0-9_.\-]+))", guarded(health_protected, health(Endpoint::readyz)));
  s.Get("/livez",
        guarded(health_protected, [&tel](const httplib::Request& req, httplib::Response& res) {
          answer_health(req, res,
                        evaluate_liveness(tel.state.liveness(), excludes(req), Clock::now()));
        }));

  auto role = [&tel](bool primary) {
    return [&tel, primary](const httplib::Request& req, httplib::Response& res) {
      const RoleAnswer a = evaluate_role(*tel.state.snapshot(), req.get_param_value("target"),
                                         primary, Clock::now());
      no_store(res);
      res.status = a.status;
      res.set_content(a.body, kTextPlain);
    };
  };
  s.Get("/primary", guarded(health_protected, role(true)));
  s.Get("/replica", guarded(health_protected, role(false)));

  s.Get("/metrics", guarded(true, [&tel](const httplib::Request&, httplib::Response& res) {
          no_store(res);
          res.set_content(tel.metrics.serialize(), kMetricsType);
        }));

  s.Get("/debug/failures",
        guarded(true, [&tel](const httplib::Request& req, httplib::Response& res) {
          std::size_t limit = tel.failures.capacity();
          if (req.has_param("limit")) {
            const std::string v = req.get_param_value("limit");
            std::size_t parsed = 0;
            const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), parsed);
            if (ec != std::errc() || end != v.data() + v.size()) {
              res.status = 400;
              res.set_content("limit must be a non-negative integer\n", kTextPlain);
              return;
            }
            limit = parsed;
          }
          no_store(res);
          res.set_content(failures_json(tel.failures.recent(req.get_param_value("target"), limit),
                                        tel.failures.capacity(), tel.failures.total()),
                          kJson);
        }));

  s.Get("/debug/activity",
        guarded(true, [&tel](const httplib::Request& req, httplib::Response& res) {
          const auto snapshot = tel.state.snapshot();
          const std::string target = req.get_param_value("target");
          if (!target.empty() && !snapshot->contains(target)) {
            res.status = 404;
            res.set_content("unknown target\n", kTextPlain);
            return;
          }
          no_store(res);
          res.set_content(activity_json(*snapshot, target), kJson);
        }));

  s.Get("/", guarded(true, [&tel](const httplib::Request&, httplib::Response& res) {
          no_store(res);
          res.set_content(landing_html(*tel.state.snapshot(), Clock::now()),
                          "text/html; charset=utf-8");
        }));

  s.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) {
      res.set_content(res.status == 404 ? "not found\n" : "bad request\n", kTextPlain);
    }
  });
  s.set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr error) {
        std::string what = "unknown error";
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        telemetry::log(telemetry::LogLevel::error, "http handler failed",
                       {{"path", req.path}, {"error", what}});
        res.status = 500;
        res.set_content("internal error\n", kTextPlain);
      });
}

void HttpServer::start() {
  const std::string address = config_.listen.host + ":" + std::to_string(config_.listen.port);
  if (!config_.tls.cert_file.empty()) {
    auto ssl = std::make_unique<httplib::SSLServer>(config_.tls.cert_file.c_str(),
                                                    config_.tls.key_file.c_str());
    if (!ssl->is_valid()) {
      throw std::runtime_error("tls: cannot load certificate '" + config_.tls.cert_file +
                               "' and key '" + config_.tls.key_file + "'");
    }
    server_ = std::move(ssl);
    tls_ = true;
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  const config::HttpLimits& limits = config_.http;
  server_->set_read_timeout(limits.read_timeout);
  server_->set_write_timeout(limits.write_timeout);
  server_->set_keep_alive_timeout(std::max<time_t>(
      1, std::chrono::duration_cast<std::chrono::seconds>(limits.keep_alive_timeout).count()));
  server_->set_keep_alive_max_count(100);
  server_->set_payload_max_length(limits.max_request_bytes);
  const int threads = std::max(1, limits.threads);
  // httplib owns the queue it is given and takes it as a raw pointer.
  server_->new_task_queue = [threads] {
    return new httplib::ThreadPool(static_cast<size_t>(threads));
  };
  install_routes();

  if (config_.listen.port == 0) {
    port_ = server_->bind_to_any_port(config_.listen.host);
  } else if (server_->bind_to_port(config_.listen.host, config_.listen.port)) {
    port_ = config_.listen.port;
  }
  if (port_ <= 0) {
    throw std::runtime_error("listen: cannot bind " + address +
                             " (address in use, or not an address of this host)");
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  telemetry::log(telemetry::LogLevel::info, "http listening",
                 {{"address", config_.listen.host + ":" + std::to_string(port_)}, {"tls", tls_}});
}

void HttpServer::stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace pgv::http
