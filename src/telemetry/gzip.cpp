#include "telemetry/gzip.hpp"

#include <stdexcept>

namespace pgv::telemetry {
namespace {

constexpr int kGzipWindow = 15 + 16;  // 32 KiB window, gzip header and trailer
constexpr std::size_t kStep = 64 * 1024;
constexpr std::size_t kShrinkBelow = 256 * 1024;

}  // namespace

GzipWriter::GzipWriter(int level, std::size_t reserve) {
  if (deflateInit2(&z_, level, Z_DEFLATED, kGzipWindow, kGzipMemLevel, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    throw std::runtime_error("zlib: deflateInit2 failed");
  }
  out_.reserve(reserve);
}

GzipWriter::~GzipWriter() {
  deflateEnd(&z_);
}

void GzipWriter::pump(std::string_view in, int flush) {
  // zlib's API takes non-const input; it never writes through next_in.
  z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z_.avail_in = static_cast<uInt>(in.size());
  for (;;) {
    // out_ is grown (and zero-filled) a step at a time, ahead of what is written, so a
    // chunk that compresses to a few KiB does not fill a fresh 64 KiB each time.
    if (out_.size() - used_ < kStep / 2) out_.resize(used_ + kStep);
    const std::size_t room = out_.size() - used_;
    z_.next_out = reinterpret_cast<Bytef*>(out_.data() + used_);
    z_.avail_out = static_cast<uInt>(room);
    const int rc = deflate(&z_, flush);
    used_ += room - z_.avail_out;
    if (rc == Z_STREAM_END) return;
    if (rc != Z_OK && rc != Z_BUF_ERROR) throw std::runtime_error("zlib: deflate failed");
    if (flush == Z_NO_FLUSH && z_.avail_in == 0) return;
  }
}

void GzipWriter::write(std::string_view chunk) {
  if (finished_) throw std::logic_error("GzipWriter: write after finish");
  // Chunks are at most a family's text; split anything beyond uInt's range.
  while (!chunk.empty()) {
    const std::size_t n = std::min<std::size_t>(chunk.size(), 1u << 30);
    pump(chunk.substr(0, n), Z_NO_FLUSH);
    chunk.remove_prefix(n);
  }
}

std::string GzipWriter::finish() {
  if (!finished_) {
    pump({}, Z_FINISH);
    finished_ = true;
  }
  out_.resize(used_);
  // A small body may be kept between scrapes: it gives back its slack. A fleet's is held
  // only while it is sent, and shrinking it would copy a megabyte at the scrape's peak.
  if (used_ < kShrinkBelow) out_.shrink_to_fit();
  return std::move(out_);
}

std::string gzip(std::string_view text, int level) {
  GzipWriter w(level, text.size() / 4 + 64);
  w.write(text);
  return w.finish();
}

GzipReader::GzipReader(std::string_view data) {
  if (inflateInit2(&z_, kGzipWindow) != Z_OK) throw std::runtime_error("zlib: inflateInit2 failed");
  // zlib's API takes non-const input; it never writes through next_in.
  z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z_.avail_in = static_cast<uInt>(data.size());
}

GzipReader::~GzipReader() {
  inflateEnd(&z_);
}

std::size_t GzipReader::read(char* out, std::size_t size) {
  if (done_ || size == 0) return 0;
  z_.next_out = reinterpret_cast<Bytef*>(out);
  z_.avail_out = static_cast<uInt>(size);
  while (z_.avail_out != 0) {
    const int rc = inflate(&z_, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      done_ = true;
      break;
    }
    if (rc != Z_OK) throw std::runtime_error("not a valid gzip stream");
    if (z_.avail_in == 0 && z_.avail_out != 0) throw std::runtime_error("truncated gzip stream");
  }
  return size - z_.avail_out;
}

std::uint32_t GzipReader::plain_size(std::string_view data) {
  if (data.size() < 18) throw std::runtime_error("not a valid gzip stream");
  // ISIZE, the trailer's last four bytes: the text's length modulo 2^32, little-endian.
  std::uint32_t n = 0;
  for (int i = 0; i < 4; ++i) {
    n |= static_cast<std::uint32_t>(static_cast<unsigned char>(data[data.size() - 4 + i]))
         << (8 * i);
  }
  return n;
}

std::string gunzip(std::string_view data) {
  GzipReader reader(data);
  std::string out;
  for (;;) {
    const std::size_t used = out.size();
    out.resize(used + kStep);
    const std::size_t n = reader.read(out.data() + used, kStep);
    out.resize(used + n);
    if (n == 0) return out;
  }
}

}  // namespace pgv::telemetry
