#pragma once

#include <prometheus/labels.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace pgv::telemetry {

// The Prometheus text exposition (0.0.4), written straight into a buffer that is handed to
// a sink (the response, or a gzip stream) each time it fills: no series is copied into an
// intermediate structure, and no whole text need exist. Numbers are formatted as
// prometheus-cpp's serializer formats them (%.16g, +Inf, -Inf), so the text did not change
// when the agent stopped using that serializer.
class TextWriter {
 public:
  using Sink = std::function<void(std::string_view)>;
  explicit TextWriter(Sink sink, std::size_t chunk_bytes = 64 * 1024);

  // "# HELP" and "# TYPE" lines; `type` is gauge, counter or histogram.
  void head(std::string_view name, std::string_view help, std::string_view type);
  // `name``suffix`{`labels`[,`extra`]} value — `labels` as label_text() renders them, both
  // may be empty.
  void sample(std::string_view name, std::string_view suffix, std::string_view labels,
              std::string_view extra, double value);
  void sample(std::string_view name, std::string_view suffix, std::string_view labels,
              std::string_view extra, std::uint64_t value);
  // Hands what is buffered to the sink.
  void flush();

  // `name="value",...` in the labels' (sorted) order, values escaped.
  static std::string label_text(const prometheus::Labels& labels);
  // `value` as the exposition writes it; `out` needs 32 bytes. Returns the length.
  static std::size_t format(double value, char* out);

 private:
  // Writes the line up to its value and returns where the value goes: room for 32 more
  // bytes is made with the rest, so a line costs one capacity check, not one per piece.
  char* open(std::string_view name, std::string_view suffix, std::string_view labels,
             std::string_view extra);
  void close_line(char* end);
  void append(std::string_view s);
  void reserve(std::size_t more);

  Sink sink_;
  std::size_t chunk_bytes_;
  std::unique_ptr<char[]> buffer_;
  std::size_t capacity_ = 0;
  std::size_t size_ = 0;
};

}  // namespace pgv::telemetry
