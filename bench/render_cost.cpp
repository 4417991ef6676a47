// What one /metrics rendering costs at fleet scale, without a server: N targets' series,
// created as the agent creates them (TargetMetrics), rendered plain and gzip-encoded
// through the same path /metrics takes (Metrics::exposition). Prints medians, sizes and
// the heap's growth while rendering.
//   build/bench/render_cost [--targets N] [--runs R]
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "fleet_series.hpp"
#include "telemetry/metrics.hpp"

using namespace pgv;

namespace {

// The process' CPU time: the rendering thread's and the compressing one's (GzipPipeline).
double cpu_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

long heap_in_use() {
  const struct mallinfo2 m = ::mallinfo2();
  return static_cast<long>(m.uordblks + m.hblkhd);
}

}  // namespace

int main(int argc, char** argv) {
  int targets = 1000;
  int runs = 15;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--targets") == 0 && i + 1 < argc) {
      targets = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
      runs = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: render_cost [--targets N] [--runs R]\n");
      return 2;
    }
  }
  const long heap_empty = heap_in_use();
  telemetry::Metrics metrics;
  auto all = testing::make_fleet(metrics, targets);
  const long heap_series = heap_in_use();
  std::printf("%d targets: series hold %.1f MiB of heap (%.1f KiB per target)\n", targets,
              (heap_series - heap_empty) / 1048576.0,
              (heap_series - heap_empty) / 1024.0 / targets);

  for (auto encoding :
       {telemetry::Metrics::Encoding::identity, telemetry::Metrics::Encoding::gzip}) {
    std::vector<double> ms;
    std::vector<double> cpu;  // what a shared machine's steal leaves out
    std::size_t size = 0;
    long heap_peak = 0;
    for (int r = 0; r < runs; ++r) {
      const double cpu_start = cpu_ms();
      const auto start = std::chrono::steady_clock::now();
      // Dropped at once: a fleet's text is not kept, so every call renders again.
      const auto text = metrics.exposition(encoding);
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
      cpu.push_back(cpu_ms() - cpu_start);
      size = text->size();
      const bool gzip_magic = size > 2 && static_cast<unsigned char>((*text)[0]) == 0x1f &&
                              static_cast<unsigned char>((*text)[1]) == 0x8b;
      if (size == 0 || gzip_magic != (encoding == telemetry::Metrics::Encoding::gzip)) {
        std::fprintf(stderr, "render_cost: rendering %d gave a wrong body\n", r);
        return 1;
      }
      heap_peak = std::max(heap_peak, heap_in_use() - heap_series);
    }
    std::printf(
        "%-8s p50 %7.1f ms  min %7.1f ms  CPU p50 %7.1f ms  size %6.2f MiB  heap after render "
        "+%.1f MiB\n",
        encoding == telemetry::Metrics::Encoding::gzip ? "gzip" : "identity", bench::median(ms),
        *std::min_element(ms.begin(), ms.end()), bench::median(cpu), size / 1048576.0,
        heap_peak / 1048576.0);
  }
  const auto usage = bench::proc_usage(::getpid());
  std::printf("process: RSS %.1f MiB, peak %.1f MiB\n", usage.rss_kib / 1024.0,
              usage.peak_rss_kib / 1024.0);
  // What a reload that drops targets costs: each removes its own series, on the worker
  // loop that ran it.
  auto time_removal = [&](std::size_t n) {
    const auto start = std::chrono::steady_clock::now();
    all.resize(all.size() - n);
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
        .count();
  };
  const std::size_t tenth = all.size() / 10;
  const double one = time_removal(1);
  const double some = time_removal(tenth);
  std::printf("removing 1 target of %d: %.2f ms, then %zu more: %.1f ms\n", targets, one, tenth,
              some);
  // What is left renders exactly the targets left: none of the removed ones' series stay.
  const std::string left = metrics.serialize();  // not the 100 ms cache
  std::size_t up_lines = 0;
  for (std::size_t at = left.find("\npgvitals_up{"); at != std::string::npos;
       at = left.find("\npgvitals_up{", at + 1)) {
    ++up_lines;
  }
  if (up_lines != all.size()) {
    std::fprintf(stderr, "render_cost: %zu targets left, %zu pgvitals_up series\n", all.size(),
                 up_lines);
    return 1;
  }
  return 0;
}
