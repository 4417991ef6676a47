#pragma once

#include <zlib.h>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace pgv::telemetry {

// One gzip stream (RFC 1952, level 1) compressed by two threads of its own (pgv-gzip) while
// the caller goes on writing, as pigz does: the text is cut into 128 KiB blocks, each
// compressed as raw deflate with the 8 KiB before it as its dictionary and ended on a byte
// boundary (a sync flush), and the blocks' output is joined in order with their CRCs
// combined. Compression is two thirds of a gzip scrape's CPU (docs/BENCHMARKS.md), so a
// fleet's rendering and its compression share the machine's cores instead of queueing on
// one. At most kDepth blocks are in flight, so the text still never exists whole.
// One stream at a time, from one caller thread (Metrics renders under its lock); the
// threads live as long as the pipeline, idle between streams, so their CPU time can be
// read from /proc.
// A wake-up is a futex call, and on a VM often an exit to the host: a block wakes one
// worker, and a finished block wakes the caller only when it waits for it. Within a stream
// the blocks' buffers and each worker's deflate state are reused; between streams nothing
// of them stays allocated.
class GzipPipeline {
 public:
  static constexpr std::size_t kWorkers = 2;
  static constexpr std::size_t kBlock = 128 * 1024;
  static constexpr std::size_t kDepth = 4;

  GzipPipeline();
  ~GzipPipeline();
  GzipPipeline(const GzipPipeline&) = delete;
  GzipPipeline& operator=(const GzipPipeline&) = delete;

  // Starts a stream, `reserve` bytes of output ahead; what a stream left unfinished (its
  // rendering threw) is dropped first.
  void begin(std::size_t reserve = 0);
  // Takes a copy of `chunk`; waits while kDepth blocks are in flight. Rethrows what a
  // compressing thread failed with.
  void write(std::string_view chunk);
  // Waits for the last block, ends the stream and hands over the bytes.
  std::string finish();

 private:
  struct Job {
    std::shared_ptr<std::string> input;           // this block's text
    std::shared_ptr<const std::string> previous;  // the block before it: the dictionary
    std::string output;                           // raw deflate, ended by a sync flush
    uLong crc = 0;
    bool taken = false;
    bool done = false;
  };

  void run();
  void submit(std::unique_lock<std::mutex>& lock);
  void collect();  // appends the finished blocks at the front, in order; under the lock
  // Waits on done_ until `ready` holds, letting the workers know someone waits.
  template <class Ready>
  void wait_as_caller(std::unique_lock<std::mutex>& lock, Ready ready);
  void rethrow_failure() const;

  std::mutex mutex_;
  std::condition_variable work_;  // workers: a block to take, or closing
  std::condition_variable done_;  // the caller: a block finished, while it waits
  bool caller_waiting_ = false;
  std::deque<std::unique_ptr<Job>> jobs_;            // in stream order, not yet collected
  std::vector<std::shared_ptr<std::string>> spare_;  // collected blocks' buffers, for reuse
  bool streaming_ = false;
  bool closing_ = false;
  std::exception_ptr failed_;
  // The caller's, between begin() and finish().
  std::shared_ptr<std::string> block_;
  std::shared_ptr<const std::string> previous_;
  std::string out_;
  uLong crc_ = 0;
  std::uint64_t length_ = 0;
  std::vector<std::thread> workers_;
};

}  // namespace pgv::telemetry
