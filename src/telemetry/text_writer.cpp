#include "telemetry/text_writer.hpp"

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
  buffer_.reserve(chunk_bytes_ + 4096);
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

void TextWriter::head(std::string_view name, std::string_view help, std::string_view type) {
  buffer_ += "# HELP ";
  buffer_ += name;
  buffer_ += ' ';
  append_escaped(buffer_, help, false);
  buffer_ += "\n# TYPE ";
  buffer_ += name;
  buffer_ += ' ';
  buffer_ += type;
  buffer_ += '\n';
}

void TextWriter::open(std::string_view name, std::string_view suffix, std::string_view labels,
                      std::string_view extra) {
  buffer_ += name;
  buffer_ += suffix;
  if (!labels.empty() || !extra.empty()) {
    buffer_ += '{';
    buffer_ += labels;
    if (!labels.empty() && !extra.empty()) buffer_ += ',';
    buffer_ += extra;
    buffer_ += '}';
  }
  buffer_ += ' ';
}

void TextWriter::close_line() {
  buffer_ += '\n';
  if (buffer_.size() >= chunk_bytes_) flush();
}

void TextWriter::sample(std::string_view name, std::string_view suffix, std::string_view labels,
                        std::string_view extra, double value) {
  open(name, suffix, labels, extra);
  char digits[32];
  buffer_.append(digits, format(value, digits));
  close_line();
}

void TextWriter::sample(std::string_view name, std::string_view suffix, std::string_view labels,
                        std::string_view extra, std::uint64_t value) {
  open(name, suffix, labels, extra);
  char digits[24];
  const auto r = std::to_chars(digits, digits + sizeof digits, value);
  buffer_.append(digits, r.ptr);
  close_line();
}

void TextWriter::flush() {
  if (buffer_.empty()) return;
  sink_(buffer_);
  buffer_.clear();
}

}  // namespace pgv::telemetry
