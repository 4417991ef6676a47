#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "telemetry/gzip.hpp"

namespace pgv::telemetry {

// Compresses on a thread of its own (pgv-gzip) what its caller writes, so that rendering a
// fleet's text and compressing it overlap: compression is two thirds of a gzip scrape's CPU
// (docs/BENCHMARKS.md), and the machine has a second core for it. At most kDepth chunks
// wait, so the text still never exists whole. One stream at a time, from one caller thread
// (Metrics renders under its lock); the thread lives as long as the pipeline, idle between
// streams, so its CPU time can be read from /proc.
class GzipPipeline {
 public:
  static constexpr std::size_t kDepth = 4;

  GzipPipeline();
  ~GzipPipeline();
  GzipPipeline(const GzipPipeline&) = delete;
  GzipPipeline& operator=(const GzipPipeline&) = delete;

  // Starts a stream; what a stream left unfinished (its rendering threw) is dropped first.
  void begin(int level = 1, std::size_t reserve = 0);
  // Copies `chunk` into the queue; waits while kDepth chunks are queued. Rethrows what the
  // compressing thread failed with.
  void write(std::string_view chunk);
  // Waits for the last chunk, ends the stream and hands over the bytes.
  std::string finish();

 private:
  void run();
  void wait_idle(std::unique_lock<std::mutex>& lock);

  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<GzipWriter> gz_;    // the worker's while chunks are queued or in hand
  std::vector<std::string> queue_;  // oldest first; at most kDepth
  std::vector<std::string> spare_;  // emptied chunks, their buffers reused
  bool busy_ = false;               // the worker holds a chunk
  bool discard_ = false;            // drop the queued chunks of an abandoned stream
  bool closing_ = false;
  std::exception_ptr failed_;
  std::thread worker_;
};

}  // namespace pgv::telemetry
