#pragma once

#include <prometheus/metric_family.h>

#include <vector>

namespace pgv::telemetry {

// Appends the standard process_* families (Prometheus client convention), read from
// /proc at scrape time: CPU seconds, resident and virtual memory, open and max fds,
// start time, threads.
void collect_process_metrics(std::vector<prometheus::MetricFamily>& out);

}  // namespace pgv::telemetry
