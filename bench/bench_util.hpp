#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "proc_usage.hpp"

namespace pgv::bench {

// printf-style formatting of one number, for the benches' tables.
inline std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

using pgv::testing::proc_usage;
using pgv::testing::ProcUsage;

// The value of the first sample of `metric` (at a line start) whose labels contain `labels`.
inline double metric_value(const std::string& text, const std::string& metric,
                           const std::string& labels = "") {
  std::size_t pos = 0;
  while ((pos = text.find(metric, pos)) != std::string::npos) {
    const bool line_start = pos == 0 || text[pos - 1] == '\n';
    const std::size_t eol = text.find('\n', pos);
    const std::string line = text.substr(pos, eol - pos);
    pos = eol;
    if (!line_start || line.size() <= metric.size()) continue;
    if (line[metric.size()] != '{' && line[metric.size()] != ' ') continue;
    if (!labels.empty() && line.find(labels) == std::string::npos) continue;
    return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return -1;
}

}  // namespace pgv::bench
