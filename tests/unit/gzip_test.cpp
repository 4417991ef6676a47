// /metrics compression: Accept-Encoding negotiation, the chunked gzip writer, and the
// router answering gzip only to clients that ask for it.
#include "telemetry/gzip.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>

#include "exposition_text.hpp"
#include "http/encoding.hpp"
#include "http/router.hpp"
#include "telemetry/gzip_pipeline.hpp"
#include "telemetry/telemetry.hpp"

using pgv::http::accepts_gzip;

TEST_CASE("Accept-Encoding: gzip when named or by * with q above 0", "[metrics][encoding]") {
  CHECK(accepts_gzip("gzip"));
  CHECK(accepts_gzip("gzip, deflate, br"));
  CHECK(accepts_gzip("br;q=1.0, GZIP;q=0.5"));
  CHECK(accepts_gzip("x-gzip"));
  CHECK(accepts_gzip("*"));
  CHECK(accepts_gzip(" deflate ,  gzip ; q=0.001 "));
  CHECK_FALSE(accepts_gzip(""));
  CHECK_FALSE(accepts_gzip("identity"));
  CHECK_FALSE(accepts_gzip("deflate, br"));
  CHECK_FALSE(accepts_gzip("gzip;q=0"));
  CHECK_FALSE(accepts_gzip("gzip;q=0.000"));
  CHECK_FALSE(accepts_gzip("*, gzip;q=0"));  // named refusal beats the wildcard
  CHECK_FALSE(accepts_gzip("*;q=0"));
  CHECK_FALSE(accepts_gzip("gzip;q=bogus"));
  CHECK_FALSE(accepts_gzip("gzip;q=1.5"));
  CHECK_FALSE(accepts_gzip("gzipped"));
}

TEST_CASE("the gzip writer compresses chunk by chunk into one valid stream", "[metrics][gzip]") {
  using pgv::telemetry::GzipWriter;
  const std::string text = pgv::testing::up_lines(200'000, 1000, 2);
  GzipWriter w;
  for (std::size_t at = 0; at < text.size(); at += 70'001) w.write(text.substr(at, 70'001));
  const std::string gz = w.finish();
  CHECK(gz.size() < text.size() / 5);
  CHECK(static_cast<unsigned char>(gz[0]) == 0x1f);
  CHECK(static_cast<unsigned char>(gz[1]) == 0x8b);
  CHECK(pgv::telemetry::gunzip(gz) == text);
  CHECK(pgv::telemetry::gunzip(pgv::telemetry::gzip("")).empty());
  CHECK_THROWS(pgv::telemetry::gunzip("not gzip at all"));
  CHECK_THROWS(pgv::telemetry::gunzip(gz.substr(0, gz.size() / 2)));
}

TEST_CASE("/metrics is gzip for a client that asks, plain otherwise, and the same text",
          "[metrics][gzip]") {
  pgv::telemetry::Telemetry tel;
  tel.metrics.up.Add({{"target", "primary"}}).Set(1);
  const pgv::http::Router router(tel, {});
  pgv::http::Request req;
  req.method = "GET";
  req.path = "/metrics";
  req.version = "HTTP/1.1";

  auto header = [](const pgv::http::Response& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return std::string();
  };
  const auto plain = router.handle(req);
  REQUIRE(plain.status == 200);
  CHECK(header(plain, "Content-Encoding").empty());
  CHECK(header(plain, "Vary") == "Accept-Encoding");
  const std::string text(plain.payload());
  CHECK(text.find("pgvitals_up{target=\"primary\"} 1") != std::string::npos);

  req.headers["accept-encoding"] = "gzip";
  const auto gz = router.handle(req);
  REQUIRE(gz.status == 200);
  CHECK(header(gz, "Content-Encoding") == "gzip");
  CHECK(header(gz, "Vary") == "Accept-Encoding");
  const std::string inflated = pgv::telemetry::gunzip(gz.payload());
  CHECK(pgv::testing::without_process_series(inflated) ==
        pgv::testing::without_process_series(text));

  req.headers["accept-encoding"] = "gzip;q=0, identity";
  CHECK(header(router.handle(req), "Content-Encoding").empty());
}

namespace {

// `gz` inflated by GNU gzip (its own inflate, not zlib's).
std::string gnu_gunzip(const std::string& gz) {
  char path[] = "/tmp/pgvitals-gzip-XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, gz.data(), gz.size()) == static_cast<ssize_t>(gz.size()));
  ::close(fd);
  std::string out;
  FILE* p = ::popen(("gzip -dc < " + std::string(path)).c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[65536];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  CHECK(::pclose(p) == 0);
  ::unlink(path);
  return out;
}

}  // namespace

TEST_CASE("the gzip pipeline compresses on two threads into one valid stream", "[metrics][gzip]") {
  using pgv::telemetry::GzipPipeline;
  const std::string text = pgv::testing::up_lines(300'000, 997, 3);
  GzipPipeline pipeline;
  const auto stream = [&](std::string_view what) {
    pipeline.begin();
    // Chunks of many sizes, far more of them than the queue holds.
    std::size_t at = 0;
    for (std::size_t n = 1; at < what.size(); n = n * 7 % 100'003 + 1) {
      pipeline.write(what.substr(at, n));
      at += n;
    }
    return pipeline.finish();
  };
  const std::string gz = stream(text);
  CHECK(gz.size() < text.size() / 5);
  CHECK(pgv::telemetry::gunzip(gz) == text);
  // Another inflater than zlib's: GNU gzip reads the joined blocks as one stream.
  CHECK(gnu_gunzip(gz) == text);
  // A text of whole blocks ends on an empty one; a text of one short block has no
  // dictionary.
  const std::string whole = text.substr(0, 3 * GzipPipeline::kBlock);
  CHECK(pgv::telemetry::gunzip(stream(whole)) == whole);
  CHECK(pgv::telemetry::gunzip(stream("one line\n")) == "one line\n");
  CHECK(pgv::telemetry::gunzip(stream("")).empty());
  // A stream whose rendering threw is left unfinished: the next one drops what it queued.
  pipeline.begin();
  for (int i = 0; i < 50; ++i) pipeline.write(std::string_view(text).substr(0, 65'536));
  CHECK(pgv::telemetry::gunzip(stream("after\n")) == "after\n");
  CHECK_THROWS_AS(pipeline.write("outside a stream"), std::logic_error);
  // Destroyed in the middle of a stream, it stops without waiting for it.
  GzipPipeline abandoned;
  abandoned.begin();
  for (int i = 0; i < 50; ++i) abandoned.write(std::string_view(text).substr(0, 65'536));
}

TEST_CASE("a fleet's gzip /metrics, compressed beside its rendering, is the plain text",
          "[metrics][gzip]") {
  pgv::telemetry::Metrics metrics;
  for (int i = 0; i < 30'000; ++i) {
    metrics.up.Add({{"target", "fleet-database-with-a-long-name-" + std::to_string(i)}}).Set(i % 2);
  }
  const std::string plain = metrics.serialize();  // also sizes the next rendering
  REQUIRE(plain.size() > pgv::telemetry::Metrics::kKeepBytes);
  const auto gz = metrics.exposition(pgv::telemetry::Metrics::Encoding::gzip);
  CHECK(pgv::testing::without_process_series(pgv::telemetry::gunzip(*gz)) ==
        pgv::testing::without_process_series(plain));
}
