#include "telemetry/text_writer.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

namespace pgv::telemetry {
namespace {

void append_escaped(std::string& out, std::string_view value, bool quote) {
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

}  // namespace

TextWriter::TextWriter(Sink sink, std::size_t chunk_bytes)
    : sink_(std::move(sink)), chunk_bytes_(chunk_bytes) {
  reserve(chunk_bytes_ + 4096);
}

std::size_t TextWriter::format(double value, char* out) {
  if (std::isnan(value)) {
    std::memcpy(out, "NaN", 3);
    return 3;
  }
  if (std::isinf(value)) {
    std::memcpy(out, value < 0 ? "-Inf" : "+Inf", 4);
    return 4;
  }
  // Most values are whole (counts, connections, timestamps in seconds), and %.16g prints a
  // whole number under 1e15 as its digits: the integer conversion is several times quicker
  // than the precision-bound one. -0 keeps its sign, as %g does.
  if (std::abs(value) < 1e15 && value == std::trunc(value) &&
      !(value == 0 && std::signbit(value))) {
    const auto r = std::to_chars(out, out + 32, static_cast<std::int64_t>(value));
    return static_cast<std::size_t>(r.ptr - out);
  }
  // prometheus-cpp's precision (max_digits10 - 1) in the stream's general format.
  const auto r = std::to_chars(out, out + 32, value, std::chars_format::general, 16);
  return static_cast<std::size_t>(r.ptr - out);
}

std::string TextWriter::label_text(const prometheus::Labels& labels) {
  std::string out;
  for (const auto& [name, value] : labels) {
    if (!out.empty()) out += ',';
    out += name;
    out += "=\"";
    append_escaped(out, value, true);
    out += '"';
  }
  return out;
}

void TextWriter::reserve(std::size_t more) {
  if (size_ + more <= capacity_) return;
  const std::size_t capacity = std::max(capacity_ * 2, size_ + more);
  auto grown = std::make_unique_for_overwrite<char[]>(capacity);
  if (size_ > 0) std::memcpy(grown.get(), buffer_.get(), size_);
  buffer_ = std::move(grown);
  capacity_ = capacity;
}

void TextWriter::append(std::string_view s) {
  reserve(s.size());
  std::memcpy(buffer_.get() + size_, s.data(), s.size());
  size_ += s.size();
}

void TextWriter::head(std::string_view name, std::string_view help, std::string_view type) {
  std::string line = "# HELP ";
  line += name;
  line += ' ';
  append_escaped(line, help, false);
  line += "\n# TYPE ";
  line += name;
  line += ' ';
  line += type;
  line += '\n';
  append(line);
}

char* TextWriter::open(std::string_view name, std::string_view suffix, std::string_view labels,
                       std::string_view extra) {
  // name suffix { labels , extra } space, then up to 32 bytes of value and the newline
  reserve(name.size() + suffix.size() + labels.size() + extra.size() + 4 + 33);
  char* p = buffer_.get() + size_;
  const auto put = [&p](std::string_view s) {
    std::memcpy(p, s.data(), s.size());
    p += s.size();
  };
  put(name);
  put(suffix);
  if (!labels.empty() || !extra.empty()) {
    *p++ = '{';
    put(labels);
    if (!labels.empty() && !extra.empty()) *p++ = ',';
    put(extra);
    *p++ = '}';
  }
  *p++ = ' ';
  return p;
}

void TextWriter::close_line(char* end) {
  *end++ = '\n';
  size_ = static_cast<std::size_t>(end - buffer_.get());
  if (size_ >= chunk_bytes_) flush();
}

void TextWriter::sample(std::string_view name, std::string_view suffix, std::string_view labels,
                        std::string_view extra, double value) {
  char* at = open(name, suffix, labels, extra);
  close_line(at + format(value, at));
}

void TextWriter::sample(std::string_view name, std::string_view suffix, std::string_view labels,
                        std::string_view extra, std::uint64_t value) {
  char* at = open(name, suffix, labels, extra);
  close_line(std::to_chars(at, at + 32, value).ptr);
}

void TextWriter::flush() {
  if (size_ == 0) return;
  sink_(std::string_view(buffer_.get(), size_));
  size_ = 0;
}

}  // namespace pgv::telemetry
