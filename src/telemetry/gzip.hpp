#pragma once

#include <zlib.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace pgv::telemetry {

// zlib's level for /metrics, its fastest: on /metrics text it already gives about a tenth
// of the size, and a scrape of a thousand targets is bound by the CPU it takes
// (docs/BENCHMARKS.md). Both gzip writers use it.
inline constexpr int kGzipLevel = 1;

// zlib's memLevel for /metrics (its default is 8). At 6 the match finder's tables are a
// quarter of the size and stay in cache: on a fleet's text, 13-16% quicker at level 1, the
// output no larger (4.70% of the text against 4.76%), 0.2 MiB less held while compressing.
inline constexpr int kGzipMemLevel = 6;

// A gzip stream (RFC 1952) written chunk by chunk: each chunk is compressed as it comes, so
// a large text never exists whole beside its compressed copy. Owns its zlib state.
class GzipWriter {
 public:
  explicit GzipWriter(int level = kGzipLevel, std::size_t reserve = 0);
  ~GzipWriter();
  GzipWriter(const GzipWriter&) = delete;
  GzipWriter& operator=(const GzipWriter&) = delete;

  void write(std::string_view chunk);
  // Ends the stream and hands over the bytes; the writer is spent afterwards.
  std::string finish();

 private:
  void pump(std::string_view in, int flush);

  z_stream z_{};
  std::string out_;
  std::size_t used_ = 0;  // of out_, which runs ahead
  bool finished_ = false;
};

// Reads a gzip stream back piece by piece, so a large text can be sent without ever
// existing whole (a plain /metrics of a fleet, served from the compressed rendering).
// `data` must outlive the reader. Owns its zlib state.
class GzipReader {
 public:
  explicit GzipReader(std::string_view data);
  ~GzipReader();
  GzipReader(const GzipReader&) = delete;
  GzipReader& operator=(const GzipReader&) = delete;

  // Up to `size` bytes of text into `out`; 0 at the end. Throws std::runtime_error on a
  // corrupt or truncated stream.
  std::size_t read(char* out, std::size_t size);
  // The text's length, from the stream's trailer (exact below 4 GiB).
  static std::uint32_t plain_size(std::string_view data);

 private:
  z_stream z_{};
  bool done_ = false;
};

// The whole of `text` as one gzip stream (small bodies, tests).
std::string gzip(std::string_view text, int level = kGzipLevel);
// Inflates a gzip stream; throws std::runtime_error on a corrupt one (tests, bench).
std::string gunzip(std::string_view data);

}  // namespace pgv::telemetry
