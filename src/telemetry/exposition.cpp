// The exposition: /metrics text, rendered one family at a time and shared between scrapes.
#include <malloc.h>
#include <prometheus/text_serializer.h>

#include <sstream>

#include "telemetry/metrics.hpp"
#include "telemetry/process_metrics.hpp"
#include "telemetry/target_metrics.hpp"

namespace pgv::telemetry {

void Metrics::expire_stale() const {
  const Clock::time_point now = Clock::now();
  std::lock_guard lock(expiry_mutex_);
  for (TargetMetrics* target : expiring_) target->expire(now);
}

std::string Metrics::serialize() const {
  expire_stale();
  // One family at a time into one buffer sized from the last rendering: with a thousand
  // targets the whole registry collected at once, its text in a growing stream and the
  // final copy out of it cost several times the text's own size at every scrape.
  const prometheus::TextSerializer serializer;
  std::string out;
  out.reserve(size_hint_.load(std::memory_order_relaxed));
  std::ostringstream chunk;
  auto append = [&](const std::vector<prometheus::MetricFamily>& families) {
    chunk.str(std::string());
    serializer.Serialize(chunk, families);
    out += chunk.view();
  };
  for (const prometheus::Collectable* family : families_) append(family->Collect());
  std::vector<prometheus::MetricFamily> process;
  collect_process_metrics(process);
  append(process);
  size_hint_.store(out.size() + out.size() / 16 + 4096, std::memory_order_relaxed);
  return out;
}

std::string Metrics::serialize_registry() const {
  expire_stale();
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  collect_process_metrics(families);
  return prometheus::TextSerializer().Serialize(families);
}

std::shared_ptr<const std::string> Metrics::exposition() const {
  // One renderer at a time: scrapes arriving meanwhile wait for its result rather than
  // all rendering the same text at once.
  std::lock_guard lock(render_mutex_);
  const auto now = std::chrono::steady_clock::now();
  const bool fresh = now - rendered_at_ < kRenderEvery;
  if (auto recent = recent_.lock(); recent && fresh) return recent;
  auto text = std::make_shared<const std::string>(serialize());
  rendered_at_ = now;
  recent_ = text;
  // A small text is kept for the next scrapes; a fleet's megabytes only while a response
  // still holds them, so they are not resident between scrapes.
  kept_ = text->size() <= kKeepBytes ? text : nullptr;
  // Collecting a large registry leaves megabytes of small freed blocks scattered over
  // the heap, which glibc keeps resident; hand their pages back (a few ms, and only when
  // there are many targets).
  if (text->size() > kKeepBytes) ::malloc_trim(0);
  return text;
}

}  // namespace pgv::telemetry
