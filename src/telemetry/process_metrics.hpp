#pragma once

#include "telemetry/text_writer.hpp"

namespace pgv::telemetry {

// Writes the standard process_* families (Prometheus client convention), read from
// /proc at scrape time: CPU seconds, resident and virtual memory, open and max fds,
// start time, threads.
void write_process_metrics(TextWriter& out);

}  // namespace pgv::telemetry
