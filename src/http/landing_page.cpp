#include "http/landing_page.hpp"

#include <cstdio>

#include "config/probe_catalog.hpp"
#include "version.hpp"

namespace pgv::http {
namespace {

std::string escape_html(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::string landing_html(const telemetry::Snapshot& snapshot, Clock::time_point now) {
  std::string rows;
  for (const auto& [name, t] : snapshot) {
    std::string state = "no result yet";
    std::string latency = "-";
    const std::string up(config::up_probe().name);
    auto it = t->checks.find(up);
    if (it != t->checks.end() && it->second.ran) {
      const auto& c = it->second;
      if (c.ok && t->fresh(up, c, now)) {
        state = "up";
      } else if (c.ok) {
        state = "stale";
      } else {
        state = "down (" + c.reason + ")";
      }
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.2f ms", c.seconds * 1e3);
      latency = buf;
    }
    const std::string role = !t->in_recovery ? "?" : (*t->in_recovery ? "replica" : "primary");
    rows += "<tr><td><a href=\"/healthz/" + escape_html(name) + "?verbose\">" + escape_html(name) +
            "</a></td><td>" + escape_html(state) + "</td><td>" + latency + "</td><td>" + role +
            "</td><td>" + std::to_string(t->pool.in_use) + "/" + std::to_string(t->pool.max) +
            "</td><td>" + (t->required ? "yes" : "no") + "</td></tr>\n";
  }
  return std::string(
             "<!doctype html><html><head><meta charset=\"utf-8\"><title>pgvitals</title>"
             "<style>body{font-family:sans-serif;margin:2em}td,th{padding:.2em .8em;"
             "text-align:left}</style></head><body><h1>pgvitals ") +
         kVersion +
         "</h1><p><a href=\"/healthz?verbose\">/healthz</a> · <a href=\"/readyz?verbose\">/readyz"
         "</a> · <a href=\"/livez?verbose\">/livez</a> · <a href=\"/metrics\">/metrics</a> · "
         "<a href=\"/debug/failures\">/debug/failures</a> · <a "
         "href=\"/debug/activity\">/debug/activity</a></p><table><tr><th>target</th>"
         "<th>state</th><th>last probe</th><th>role</th><th>pool in use</th><th>required</th>"
         "</tr>\n" +
         rows + "</table></body></html>\n";
}

}  // namespace pgv::http
