#include "telemetry/text_writer.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

using pgv::telemetry::TextWriter;

namespace {

std::string formatted(double v) {
  char out[32];
  return {out, TextWriter::format(v, out)};
}

// What prometheus-cpp's serializer printed for a finite value.
std::string printf_g16(double v) {
  char out[64];
  std::snprintf(out, sizeof out, "%.16g", v);
  return out;
}

}  // namespace

TEST_CASE("a value is written as %.16g by the quick path for whole numbers too", "[metrics]") {
  std::vector<double> values = {0.0,
                                -0.0,
                                1.0,
                                -1.0,
                                42.0,
                                1764693000.0,
                                999999999999999.0,
                                1e15,
                                -1e15,
                                1e15 + 1,
                                1e16,
                                1e17,
                                9007199254740993.0,
                                1e300,
                                -1e300,
                                0.5,
                                5e-5,
                                0.1 + 0.2,
                                1764693000.123,
                                -2.5,
                                123456789012345.6};
  std::mt19937_64 rng(20261203);
  std::uniform_int_distribution<std::int64_t> whole(-2'000'000'000'000'000, 2'000'000'000'000'000);
  std::uniform_real_distribution<double> real(-1e6, 1e6);
  for (int i = 0; i < 2000; ++i) {
    values.push_back(static_cast<double>(whole(rng)));
    values.push_back(static_cast<double>(whole(rng) % 100000));
    values.push_back(real(rng));
  }
  for (const double v : values) {
    INFO(printf_g16(v));
    CHECK(formatted(v) == printf_g16(v));
  }
  CHECK(formatted(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(formatted(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(formatted(std::nan("")) == "NaN");
}

TEST_CASE("the text writer hands its buffer over in chunks, lines whole", "[metrics]") {
  std::vector<std::string> chunks;
  TextWriter w([&](std::string_view c) { chunks.emplace_back(c); }, 100);
  const std::string long_labels = "target=\"" + std::string(300, 'x') + "\"";
  for (int i = 0; i < 10; ++i) w.sample("m", "_total", "target=\"a\"", "", std::uint64_t(i));
  w.sample("m", "", long_labels, "le=\"1\"", 0.25);
  w.head("m", "help with \\ and\nnewline", "gauge");
  w.flush();
  std::string all;
  for (const auto& c : chunks) {
    CHECK(!c.empty());
    CHECK(c.back() == '\n');
    all += c;
  }
  CHECK(chunks.size() > 2);
  CHECK(all.find("m_total{target=\"a\"} 9\n") != std::string::npos);
  CHECK(all.find("m{" + long_labels + ",le=\"1\"} 0.25\n") != std::string::npos);
  CHECK(all.find("# HELP m help with \\\\ and\\nnewline\n# TYPE m gauge\n") != std::string::npos);
}
