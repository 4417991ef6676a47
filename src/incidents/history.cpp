#include "incidents/history.hpp"

#include <algorithm>

namespace pgv::incidents {
namespace {

// Enough to name who held the connections and the chain that blocked; more would multiply
// by minutes of moments and a thousand targets.
constexpr std::size_t kApplications = 5;
constexpr std::size_t kSessions = 5;
constexpr std::size_t kBlocked = 10;

template <typename T>
void cut(std::vector<T>& v, std::size_t n) {
  if (v.size() > n) v.resize(n);
}

}  // namespace

std::shared_ptr<const probes::ActivityDigest> trim_digest(const probes::ActivityDigest& digest) {
  auto out = std::make_shared<probes::ActivityDigest>(digest);
  int beyond = 0;
  for (std::size_t i = kApplications; i < out->top_applications.size(); ++i) {
    beyond += out->top_applications[i].second;
  }
  out->other_application_sessions += beyond;
  cut(out->top_applications, kApplications);
  cut(out->top_application_busy, kApplications);
  out->applications.clear();  // budgets are on the metrics; the record names applications
  cut(out->oldest_transactions, kSessions);
  cut(out->blocked, kBlocked);
  for (auto& b : out->blocked) cut(b.blocked_by, kBlocked);
  out->top_applications.shrink_to_fit();
  out->oldest_transactions.shrink_to_fit();
  return out;
}

}  // namespace pgv::incidents
