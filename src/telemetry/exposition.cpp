// The exposition: /metrics text, rendered one family at a time and shared between scrapes.
#include <malloc.h>

#include "telemetry/gzip.hpp"
#include "telemetry/gzip_pipeline.hpp"
#include "telemetry/metrics.hpp"
#include "telemetry/process_metrics.hpp"
#include "telemetry/target_metrics.hpp"

namespace pgv::telemetry {

void Metrics::expire_stale() const {
  const Clock::time_point now = Clock::now();
  std::lock_guard lock(expiry_mutex_);
  for (TargetMetrics* target : expiring_) target->expire(now);
}

void Metrics::render(const TextWriter::Sink& sink) const {
  expire_stale();
  TextWriter out(sink);
  for (const auto& family : families_) family->render(out);
  write_process_metrics(out);
  out.flush();
}

Metrics::~Metrics() = default;

std::string Metrics::serialize() const {
  std::string out;
  out.reserve(size_hint_.load(std::memory_order_relaxed));
  render([&](std::string_view chunk) { out += chunk; });
  size_hint_.store(out.size() + out.size() / 16 + 4096, std::memory_order_relaxed);
  return out;
}

std::shared_ptr<const std::string> Metrics::quick(Encoding encoding) const {
  std::unique_lock lock(render_mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return nullptr;
  RenderCache& cache = caches_[static_cast<std::size_t>(encoding)];
  const auto now = std::chrono::steady_clock::now();
  if (auto recent = cache.recent.lock(); recent && now - cache.at < kRenderEvery) return recent;
  const bool cheap =
      cache.took < kQuickRender && cache.generation == generation_.load(std::memory_order_acquire);
  return cheap ? render_locked(encoding, cache, now) : nullptr;
}

std::chrono::steady_clock::duration Metrics::last_render(Encoding encoding) const {
  std::lock_guard lock(render_mutex_);
  return caches_[static_cast<std::size_t>(encoding)].took;
}

std::shared_ptr<const std::string> Metrics::exposition(Encoding encoding) const {
  // One renderer at a time: scrapes arriving meanwhile wait for its result rather than
  // all rendering the same text at once.
  std::lock_guard lock(render_mutex_);
  RenderCache& cache = caches_[static_cast<std::size_t>(encoding)];
  const auto now = std::chrono::steady_clock::now();
  if (auto recent = cache.recent.lock(); recent && now - cache.at < kRenderEvery) return recent;
  return render_locked(encoding, cache, now);
}

std::shared_ptr<const std::string> Metrics::render_locked(
    Encoding encoding, RenderCache& cache, std::chrono::steady_clock::time_point now) const {
  const std::uint64_t generation = generation_.load(std::memory_order_acquire);
  std::shared_ptr<const std::string> text;
  std::size_t plain_size = 0;
  if (encoding == Encoding::gzip) {
    // About a tenth of the text: reserve for that, from the last plain size seen.
    const std::size_t hint = size_hint_.load(std::memory_order_relaxed);
    const auto compress = [&](auto& gz) {
      render([&](std::string_view chunk) {
        plain_size += chunk.size();
        gz.write(chunk);
      });
      return std::make_shared<const std::string>(gz.finish());
    };
    // A fleet's text is compressed by two threads while it is rendered; a small one
    // is not worth the hand-over.
    if (large()) {
      if (!pipeline_) pipeline_ = std::make_unique<GzipPipeline>();
      pipeline_->begin(hint / 8);
      text = compress(*pipeline_);
    } else {
      GzipWriter gz(kGzipLevel, hint / 8);
      text = compress(gz);
    }
  } else {
    text = std::make_shared<const std::string>(serialize());
    plain_size = text->size();
  }
  size_hint_.store(plain_size + plain_size / 16 + 4096, std::memory_order_relaxed);
  cache.at = now;
  cache.took = std::chrono::steady_clock::now() - now;
  cache.generation = generation;
  cache.recent = text;
  // A small text is kept for the next scrapes; a fleet's megabytes only while a response
  // still holds them, so they are not resident between scrapes.
  cache.kept = plain_size <= kKeepBytes ? text : nullptr;
  // Collecting a large fleet leaves megabytes of small freed blocks scattered over
  // the heap, which glibc keeps resident; hand their pages back (a few ms, and only when
  // there are many targets).
  if (plain_size > kKeepBytes) ::malloc_trim(0);
  return text;
}

}  // namespace pgv::telemetry
