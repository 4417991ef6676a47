#include "telemetry/gzip_pipeline.hpp"

#include <pthread.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "telemetry/gzip.hpp"

namespace pgv::telemetry {
namespace {

// How much of the block before is a block's dictionary. At level 1 zlib follows at most
// four links of a hash chain, so its back-references land within the last few lines: on
// a fleet's text 8 KiB gives the same size as deflate's whole 32 KiB window, and loading
// the dictionary (hashing every byte of it) costs a quarter as much.
constexpr std::size_t kWindow = 8 * 1024;
// mtime 0, no name, OS 3 (Unix): what zlib writes for a stream without a header of its own.
constexpr std::string_view kHeader("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10);
// A last, empty block with fixed codes: ends the deflate stream the sync-flushed blocks
// left open.
constexpr std::string_view kLastBlock("\x03\x00", 2);

void put_le32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

// Raw deflate, one block at a time; reset between blocks rather than made again, so a
// stream allocates its tables, and the room a block's output is written into, once per
// worker.
class Deflater {
 public:
  Deflater() {
    if (deflateInit2(&z_, kGzipLevel, Z_DEFLATED, -15, kGzipMemLevel, Z_DEFAULT_STRATEGY) != Z_OK) {
      throw std::runtime_error("zlib: deflateInit2 failed");
    }
    // A whole block fits in one call; a std::string of that size would be zero-filled for
    // every block that then writes a few KiB of it.
    room_size_ = deflateBound(&z_, GzipPipeline::kBlock) + 64;
    room_ = std::make_unique<Bytef[]>(room_size_);
  }
  ~Deflater() { deflateEnd(&z_); }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  // `input` as raw deflate blocks ending on a byte boundary, back-references reaching into
  // `dictionary` (the text before it).
  std::string compress(std::string_view input, std::string_view dictionary) {
    if (used_ && deflateReset(&z_) != Z_OK) throw std::runtime_error("zlib: deflateReset failed");
    used_ = true;
    if (!dictionary.empty() &&
        deflateSetDictionary(&z_, reinterpret_cast<const Bytef*>(dictionary.data()),
                             static_cast<uInt>(dictionary.size())) != Z_OK) {
      throw std::runtime_error("zlib: deflateSetDictionary failed");
    }
    std::string out;
    // zlib's API takes non-const input; it never writes through next_in.
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    z_.avail_in = static_cast<uInt>(input.size());
    for (;;) {
      z_.next_out = room_.get();
      z_.avail_out = static_cast<uInt>(room_size_);
      const int rc = deflate(&z_, Z_SYNC_FLUSH);
      if (rc != Z_OK && rc != Z_BUF_ERROR) throw std::runtime_error("zlib: deflate failed");
      out.append(reinterpret_cast<const char*>(room_.get()), room_size_ - z_.avail_out);
      // Done when all input is in and the flush fitted (room was left over).
      if (z_.avail_in == 0 && z_.avail_out != 0) break;
    }
    return out;
  }

 private:
  z_stream z_{};
  bool used_ = false;
  std::unique_ptr<Bytef[]> room_;
  std::size_t room_size_ = 0;
};

// The last kWindow bytes of the block before: what a block's back-references may reach.
std::string_view dictionary_of(const std::string* previous) {
  if (previous == nullptr) return {};
  const std::string_view p(*previous);
  return p.substr(p.size() - std::min(p.size(), kWindow));
}

}  // namespace

GzipPipeline::GzipPipeline() {
  for (std::size_t i = 0; i < kWorkers; ++i) {
    workers_.emplace_back([this] { run(); });
    ::pthread_setname_np(workers_.back().native_handle(), "pgv-gzip");
  }
}

GzipPipeline::~GzipPipeline() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  work_.notify_all();
  for (auto& w : workers_) w.join();
}

void GzipPipeline::rethrow_failure() const {
  if (failed_) std::rethrow_exception(failed_);
}

template <class Ready>
void GzipPipeline::wait_as_caller(std::unique_lock<std::mutex>& lock, Ready ready) {
  caller_waiting_ = true;
  done_.wait(lock, ready);
  caller_waiting_ = false;
}

void GzipPipeline::begin(std::size_t reserve) {
  std::unique_lock lock(mutex_);
  // An abandoned stream's blocks: untaken ones are dropped, taken ones waited for.
  std::erase_if(jobs_, [](const auto& j) { return !j->taken; });
  wait_as_caller(lock, [&] {
    return std::all_of(jobs_.begin(), jobs_.end(), [](const auto& j) { return j->done; });
  });
  jobs_.clear();
  spare_.clear();
  failed_ = nullptr;
  streaming_ = true;
  block_ = std::make_shared<std::string>();
  block_->reserve(kBlock);
  previous_.reset();
  out_.clear();
  out_.reserve(reserve);
  out_ += kHeader;
  crc_ = crc32(0, nullptr, 0);
  length_ = 0;
}

void GzipPipeline::write(std::string_view chunk) {
  if (!streaming_) throw std::logic_error("GzipPipeline: write outside a stream");
  length_ += chunk.size();
  while (!chunk.empty()) {
    const std::size_t n = std::min(chunk.size(), kBlock - block_->size());
    block_->append(chunk.substr(0, n));
    chunk.remove_prefix(n);
    if (block_->size() == kBlock) {
      std::unique_lock lock(mutex_);
      submit(lock);
    }
  }
}

void GzipPipeline::submit(std::unique_lock<std::mutex>& lock) {
  wait_as_caller(lock, [&] {
    collect();
    return jobs_.size() < kDepth || failed_;
  });
  rethrow_failure();
  auto job = std::make_unique<Job>();
  job->previous = std::move(previous_);
  job->input = block_;
  previous_ = std::move(block_);
  jobs_.push_back(std::move(job));
  work_.notify_one();
  // A buffer no block refers to any more (its own job collected, and the job after it
  // done with it as a dictionary) is written again instead of allocating another.
  const auto spare =
      std::find_if(spare_.begin(), spare_.end(), [](const auto& b) { return b.use_count() == 1; });
  if (spare != spare_.end()) {
    block_ = std::move(*spare);
    spare_.erase(spare);
    block_->clear();
  } else {
    block_ = std::make_shared<std::string>();
    block_->reserve(kBlock);
  }
}

void GzipPipeline::collect() {
  while (!jobs_.empty() && jobs_.front()->done) {
    Job& j = *jobs_.front();
    out_ += j.output;
    crc_ = crc32_combine(crc_, j.crc, static_cast<z_off_t>(j.input->size()));
    if (spare_.size() < kDepth) spare_.push_back(std::move(j.input));
    jobs_.pop_front();
  }
}

std::string GzipPipeline::finish() {
  if (!streaming_) throw std::logic_error("GzipPipeline: finish outside a stream");
  std::unique_lock lock(mutex_);
  if (!block_->empty()) submit(lock);
  wait_as_caller(lock, [&] {
    collect();
    return jobs_.empty() || failed_;
  });
  streaming_ = false;
  block_.reset();
  previous_.reset();
  spare_.clear();
  // Idle workers let go of their deflate state.
  work_.notify_all();
  rethrow_failure();
  out_ += kLastBlock;
  put_le32(out_, static_cast<std::uint32_t>(crc_));
  put_le32(out_, static_cast<std::uint32_t>(length_));  // ISIZE: the length modulo 2^32
  return std::move(out_);
}

void GzipPipeline::run() {
  // Kept for a stream's blocks, dropped between streams so that nothing of it stays
  // written between scrapes (a rendering ends with malloc_trim).
  std::unique_ptr<Deflater> deflater;
  std::unique_lock lock(mutex_);
  for (;;) {
    Job* job = nullptr;
    work_.wait(lock, [&] {
      if (closing_) return true;
      for (const auto& j : jobs_) {
        if (!j->taken) {
          job = j.get();
          return true;
        }
      }
      return !streaming_ && deflater != nullptr;
    });
    if (closing_) return;
    if (job == nullptr) {
      lock.unlock();
      deflater.reset();
      lock.lock();
      continue;
    }
    job->taken = true;
    std::shared_ptr<const std::string> input = job->input;
    std::shared_ptr<const std::string> previous = std::move(job->previous);
    lock.unlock();
    std::string output;
    uLong crc = 0;
    std::exception_ptr error;
    try {
      if (!deflater) deflater = std::make_unique<Deflater>();
      output = deflater->compress(*input, dictionary_of(previous.get()));
      crc =
          crc32(0, reinterpret_cast<const Bytef*>(input->data()), static_cast<uInt>(input->size()));
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    // Released under the lock: the caller reuses a buffer only when nothing else holds it.
    input.reset();
    previous.reset();
    job->output = std::move(output);
    job->crc = crc;
    job->done = true;
    if (error && !failed_) failed_ = error;
    if (caller_waiting_) done_.notify_one();
  }
}

}  // namespace pgv::telemetry
