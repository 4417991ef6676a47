#include "telemetry/application_metrics.hpp"

#include <algorithm>

namespace pgv::telemetry {
namespace {

using Values = std::map<prometheus::Labels, double>;
constexpr const char* kOther = "other";

prometheus::Labels labels_of(const ApplicationMetrics::Row& row) {
  prometheus::Labels labels{{"application", row.application}};
  if (!row.owner.empty()) labels.emplace("owner", row.owner);
  // Two budgets of one name for different users stay two series.
  if (!row.user.empty()) labels.emplace("user", row.user);
  return labels;
}

// A top-N application name is taken as declared when a budget's name matches it (a budget
// restricted to a user may count only some of its sessions; its plateau is not learned).
bool declared(const std::string& application,
              const std::vector<config::ApplicationBudget>& budgets) {
  return std::any_of(budgets.begin(), budgets.end(), [&](const config::ApplicationBudget& b) {
    return config::glob_match(b.name, application);
  });
}

}  // namespace

ApplicationMetrics::ApplicationMetrics(Metrics& m, const std::string& t,
                                       std::vector<config::ApplicationBudget> budgets,
                                       Clock::duration plateau_for)
    : budgets_(std::move(budgets)),
      plateau_(plateau_for),
      connections_(sets_.add(m.application_connections, t)),
      budget_(sets_.add(m.application_budget, t)),
      ratio_(sets_.add(m.application_budget_ratio, t)),
      idle_in_transaction_(sets_.add(m.application_idle_in_transaction, t)),
      idle_in_transaction_max_(sets_.add(m.application_idle_in_transaction_max, t)),
      waiting_(sets_.add(m.application_waiting, t)),
      at_plateau_(sets_.add(m.application_at_plateau, t)) {}

std::vector<ApplicationMetrics::Row> ApplicationMetrics::rows(
    const probes::ActivityDigest& a, const std::vector<config::ApplicationBudget>& budgets) {
  std::vector<Row> out;
  if (budgets.empty()) return out;
  for (const config::ApplicationBudget& b : budgets) {
    Row row;
    row.application = b.name;
    row.user = b.user;
    row.owner = b.owner;
    row.budget = b.max_connections;
    out.push_back(std::move(row));
  }
  Row other;
  other.application = kOther;
  for (const probes::ApplicationUsage& u : a.applications) {
    const bool known = u.budget >= 0 && static_cast<std::size_t>(u.budget) < budgets.size();
    Row& row = known ? out[static_cast<std::size_t>(u.budget)] : other;
    row.sessions += u.sessions;
    for (const auto& [state, n] : u.by_state) row.by_state[state] += n;
    row.waiting += u.waiting;
    if (u.oldest_idle_in_transaction_seconds) {
      row.oldest_idle_in_transaction_seconds =
          std::max(*u.oldest_idle_in_transaction_seconds,
                   row.oldest_idle_in_transaction_seconds.value_or(0));
    }
  }
  out.push_back(std::move(other));
  return out;
}

void ApplicationMetrics::set(const probes::ActivityDigest& a, Clock::time_point now) {
  Values connections, budget, ratio, idle, idle_max, waiting;
  if (!budgets_.empty()) {
    const std::vector<Row> all = rows(a, budgets_);
    for (std::size_t i = 0; i < all.size(); ++i) {
      const Row& row = all[i];
      const prometheus::Labels labels = labels_of(row);
      for (const auto& [state, n] : row.by_state) {
        prometheus::Labels with_state = labels;
        with_state.emplace("state", state);
        connections[with_state] += n;
      }
      waiting[labels] = row.waiting;
      idle[labels] = row.oldest_idle_in_transaction_seconds.value_or(0);
      if (row.budget > 0) {
        budget[labels] = row.budget;
        ratio[labels] = static_cast<double>(row.sessions) / row.budget;
      }
      if (i < budgets_.size() && budgets_[i].idle_in_transaction_max) {
        idle_max[labels] =
            std::chrono::duration<double>(*budgets_[i].idle_in_transaction_max).count();
      }
    }
  }
  connections_.replace(connections);
  budget_.replace(budget);
  ratio_.replace(ratio);
  idle_in_transaction_.replace(idle);
  idle_in_transaction_max_.replace(idle_max);
  waiting_.replace(waiting);

  std::vector<PlateauTracker::Sample> samples;
  for (std::size_t i = 0; i < a.top_applications.size(); ++i) {
    const auto& [name, sessions] = a.top_applications[i];
    if (declared(name, budgets_)) continue;
    const int busy = i < a.top_application_busy.size() ? a.top_application_busy[i] : sessions;
    samples.push_back({name, sessions, busy});
  }
  // A full server holds every application flat; that is the server's ceiling, not theirs.
  constexpr double kServerFull = 0.9;
  Values plateau;
  for (const auto& [name, flat] : plateau_.update(now, samples, a.saturation() >= kServerFull)) {
    plateau[{{"application", name}}] = flat ? 1 : 0;
  }
  at_plateau_.replace(plateau);
}

void ApplicationMetrics::clear() {
  sets_.clear();
}

}  // namespace pgv::telemetry
