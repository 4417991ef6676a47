// Heavy answers off the event loop: the offload thread itself, and an HTTP server that
// keeps answering /livez while a fleet's /metrics renders.
#include "http/offload.hpp"

#include <httplib.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <future>
#include <thread>
#include <vector>

#include "exposition_text.hpp"
#include "fleet_series.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "telemetry/gzip.hpp"
#include "telemetry/telemetry.hpp"

using namespace pgv;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

namespace {

bool readable_within(int fd, std::chrono::milliseconds limit) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(limit.count())) == 1;
}

http::Response answer_with(int status) {
  http::Response r;
  r.status = status;
  return r;
}

// An in-process server on a free loopback port, with one HTTP thread (the default).
config::AgentConfig loopback_server() {
  config::AgentConfig config;
  config.listen.host = "127.0.0.1";
  config.listen.port = 0;
  config.http.threads = 1;
  return config;
}

double ms_since(SteadyClock::time_point start) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count();
}

}  // namespace

TEST_CASE("an offloaded job turns its descriptor readable once its answer is stored", "[offload]") {
  http::Offload offload(4);
  std::promise<void> release;
  auto gate = release.get_future().share();
  const auto job = offload.submit([gate] {
    gate.wait();
    return answer_with(201);
  });
  REQUIRE(job);
  CHECK_FALSE(readable_within(job->fd(), 50ms));
  CHECK_FALSE(job->done());
  release.set_value();
  REQUIRE(readable_within(job->fd(), 5000ms));
  REQUIRE(job->done());
  CHECK(job->take().status == 201);
}

TEST_CASE("the offload queue is bounded, and abandoned jobs are released without working",
          "[offload]") {
  http::Offload offload(2);
  std::promise<void> release;
  auto gate = release.get_future().share();
  std::atomic<int> worked{0};
  std::promise<void> started;
  auto work = [&, gate] {
    gate.wait();
    ++worked;
    return answer_with(200);
  };
  const auto running = offload.submit([&, gate] {
    started.set_value();
    gate.wait();
    ++worked;
    return answer_with(200);
  });
  REQUIRE(running);
  // Once the first job runs, the thread is held and the queue is empty: two fit.
  started.get_future().wait();
  std::vector<std::shared_ptr<http::OffloadJob>> queued;
  for (int i = 0; i < 2; ++i) queued.push_back(offload.submit(work));
  CHECK(queued[0]);
  CHECK(queued[1]);
  CHECK_FALSE(offload.submit(work));
  for (auto& job : queued) {
    if (job) job->abandon();
  }
  release.set_value();
  for (auto& job : queued) {
    if (!job) continue;
    REQUIRE(readable_within(job->fd(), 5000ms));
    CHECK(job->done());
  }
  REQUIRE(readable_within(running->fd(), 5000ms));
  CHECK(worked.load() == 1);  // only the job nobody abandoned
}

TEST_CASE("a job that throws is a 500, and stop() releases what is queued", "[offload]") {
  http::Offload offload(8);
  const auto failing =
      offload.submit([]() -> http::Response { throw std::runtime_error("rendering broke"); });
  REQUIRE(failing);
  REQUIRE(readable_within(failing->fd(), 5000ms));
  CHECK(failing->take().status == 500);

  std::promise<void> release;
  auto gate = release.get_future().share();
  const auto running = offload.submit([gate] {
    gate.wait();
    return answer_with(200);
  });
  const auto queued = offload.submit([] { return answer_with(200); });
  REQUIRE(running);
  REQUIRE(queued);
  std::thread stopper([&] { offload.stop(); });
  release.set_value();
  stopper.join();
  CHECK(running->done());
  CHECK(queued->done());
  CHECK(readable_within(queued->fd(), 0ms));
  CHECK_FALSE(offload.submit([] { return answer_with(200); }));
}

TEST_CASE("only heavy answers leave the loop, and /metrics only when it must render",
          "[offload][router]") {
  telemetry::Telemetry telemetry;
  auto fleet = testing::make_fleet(telemetry.metrics, 1);
  const http::Router router(telemetry, config::AuthConfig{});
  auto get = [](const std::string& path, const std::string& encoding = "") {
    http::Request r;
    r.method = "GET";
    r.version = "HTTP/1.1";
    r.path = path;
    if (!encoding.empty()) r.headers["accept-encoding"] = encoding;
    return r;
  };
  // Health, roles and refusals are always answered where they arrive.
  for (const char* path : {"/livez", "/healthz", "/readyz", "/primary", "/nope"}) {
    INFO(path);
    CHECK(router.handle_quick(get(path)));
  }
  // The status JSON, the page and the other debug routes are always heavy.
  for (const char* path : {"/debug/status", "/", "/debug/failures", "/debug/activity"}) {
    INFO(path);
    CHECK_FALSE(router.handle_quick(get(path)));
  }
  // /metrics: a first rendering counts as expensive; after it, the one-target case is
  // answered on the loop (from the shared rendering, or a new one: cheaper than handing it
  // to another thread).
  CHECK_FALSE(router.handle_quick(get("/metrics")));
  // Renders, then answers from that rendering; a pause past the window (a loaded machine)
  // between the two would leave the second to the cheapness rule, so that pair is redone.
  auto render_then_quick = [&] {
    for (int attempt = 0; attempt < 20; ++attempt) {
      const auto t0 = SteadyClock::now();
      const auto rendered = router.handle(get("/metrics"));
      auto quick = router.handle_quick(get("/metrics"));
      if (SteadyClock::now() - t0 >= telemetry::Metrics::kRenderEvery) continue;
      REQUIRE(quick);
      CHECK(quick->shared_body == rendered.shared_body);
      return rendered;
    }
    FAIL("no rendering and answer within one render window in 20 attempts");
    return http::Response{};
  };
  const auto rendered = render_then_quick();
  CHECK(rendered.payload().find("pgvitals_up{target=\"target-0\"}") != std::string::npos);
  // Each encoding has its own rendering, and its own first one.
  CHECK_FALSE(router.handle_quick(get("/metrics", "gzip")));
  // Past the shared window a new rendering is made here, with the value of the moment, if
  // the last one was cheap (one target: some 50 us; under a sanitizer it may not be).
  fleet[0]->up().Set(0);
  std::this_thread::sleep_for(telemetry::Metrics::kRenderEvery);  // the window's length
  const bool cheap = telemetry.metrics.last_render(telemetry::Metrics::Encoding::identity) <
                     telemetry::Metrics::kQuickRender;
  const auto fresh = router.handle_quick(get("/metrics"));
  INFO("last rendering cheap: " << cheap);
  REQUIRE(fresh.has_value() == cheap);
  if (fresh) {
    CHECK(fresh->payload().find("pgvitals_up{target=\"target-0\"} 0") != std::string::npos);
  }
  // A target that came (a reload may add a thousand) makes the next rendering expensive
  // until one has been measured.
  fleet.push_back(std::make_unique<telemetry::TargetMetrics>(
      telemetry.metrics, "target-1", std::map<std::string, std::string>{}, true));
  std::this_thread::sleep_for(telemetry::Metrics::kRenderEvery);
  CHECK_FALSE(router.handle_quick(get("/metrics")));
  CHECK(render_then_quick().payload().find("target-1") != std::string::npos);
}

// The first promise at fleet scale: with one HTTP thread (the default), a /metrics of
// thousands of targets used to render on the loop, and /livez sent meanwhile waited for the
// whole rendering (35 s once, on a loaded machine, where Kubernetes gives it 2).
TEST_CASE("/livez answers while a fleet's /metrics renders", "[offload][http]") {
  telemetry::Telemetry telemetry;
  const auto fleet = testing::make_fleet(telemetry.metrics, 3000);
  http::HttpServer server(loopback_server(), telemetry);
  server.start();

  // gzip, as Prometheus asks: a 3,000-target body of a few MB, so the scrape is mostly the
  // rendering, which is what a health answer must not wait for.
  httplib::Client scraper("127.0.0.1", server.port());
  scraper.set_read_timeout(120, 0);
  scraper.set_decompress(false);
  httplib::Client prober("127.0.0.1", server.port());
  prober.set_read_timeout(120, 0);
  // A connection per probe, as the kubelet makes them.
  prober.set_keep_alive(false);

  // Several rounds: each is one /metrics (large renderings are not kept between scrapes)
  // with /livez sent every 5 ms until it is answered.
  for (int round = 0; round < 3; ++round) {
    std::atomic<bool> scraped{false};
    auto scrape = std::async(std::launch::async, [&] {
      const auto res = scraper.Get("/metrics", {{"Accept-Encoding", "gzip"}});
      scraped = true;
      return res ? res->body.size() : std::size_t{0};
    });
    std::vector<double> livez_ms;
    while (!scraped.load()) {
      const auto sent = SteadyClock::now();
      const auto res = prober.Get("/livez");
      REQUIRE(res);
      CHECK(res->status == 200);
      livez_ms.push_back(ms_since(sent));
      std::this_thread::sleep_for(5ms);  // pacing, not synchronisation
    }
    const std::size_t body = scrape.get();
    const double render_ms = std::chrono::duration<double, std::milli>(
                                 telemetry.metrics.last_render(telemetry::Metrics::Encoding::gzip))
                                 .count();
    const double worst = *std::max_element(livez_ms.begin(), livez_ms.end());
    INFO("round " << round << ": gzip /metrics of " << body << " bytes rendered in " << render_ms
                  << " ms; " << livez_ms.size() << " /livez answers, the slowest in " << worst
                  << " ms");
    REQUIRE(body > 1'000'000);
    // Only a rendering long enough to be seen tells the two designs apart: on the loop, a
    // /livez sent within 5 ms of the scrape waits for nearly all of it.
    REQUIRE(render_ms > 60);
    CHECK(livez_ms.size() >= 5);
    CHECK(worst < render_ms / 2);
  }
  server.stop();
}

TEST_CASE("stopping the server while a rendering is in flight", "[offload][http]") {
  telemetry::Telemetry telemetry;
  const auto fleet = testing::make_fleet(telemetry.metrics, 500);
  auto server = std::make_unique<http::HttpServer>(loopback_server(), telemetry);
  server->start();
  httplib::Client scraper("127.0.0.1", server->port());
  scraper.set_read_timeout(30, 0);
  auto scrape = std::async(std::launch::async, [&] { return scraper.Get("/metrics"); });
  // Whether the request was read or not when the server stops, the client gets an answer
  // or a closed connection, and the server's threads all end.
  std::this_thread::sleep_for(20ms);
  server->stop();
  server.reset();
  const auto res = scrape.get();
  if (res) CHECK((res->status == 200 || res->status == 503));
}

// A plain client of a fleet (a person with curl) gets the text inflated from the gzip
// rendering as it is sent: the agent never holds the fleet's 15 MiB of text whole for it.
TEST_CASE("a fleet's plain /metrics is the gzip rendering, inflated as it is sent",
          "[offload][http]") {
  telemetry::Telemetry telemetry;
  const auto fleet = testing::make_fleet(telemetry.metrics, 300);
  http::HttpServer server(loopback_server(), telemetry);
  server.start();
  httplib::Client client("127.0.0.1", server.port());
  client.set_read_timeout(60, 0);
  client.set_decompress(false);

  const auto zipped = client.Get("/metrics", {{"Accept-Encoding", "gzip"}});
  REQUIRE(zipped);
  REQUIRE(zipped->get_header_value("Content-Encoding") == "gzip");
  const std::string text = telemetry::gunzip(zipped->body);
  REQUIRE(text.size() > telemetry::Metrics::kKeepBytes);
  REQUIRE(telemetry.metrics.large());

  const auto plain = client.Get("/metrics");
  REQUIRE(plain);
  CHECK(plain->status == 200);
  CHECK_FALSE(plain->has_header("Content-Encoding"));
  CHECK(plain->get_header_value("Content-Length") == std::to_string(plain->body.size()));
  // The process' own series (memory, threads) move between two renderings; all else is equal.
  CHECK(testing::without_process_series(plain->body) == testing::without_process_series(text));
  // No plain text was rendered for it: it came from the compressed rendering.
  CHECK(telemetry.metrics.last_render(telemetry::Metrics::Encoding::identity) ==
        std::chrono::hours(1));

  const auto head = client.Head("/metrics");
  REQUIRE(head);
  CHECK(std::stoul(head->get_header_value("Content-Length")) > telemetry::Metrics::kKeepBytes);
  CHECK(head->body.empty());
  server.stop();
}
