#include "http/status_page.hpp"

#include <cstdio>
#include <map>

#include "http/assets.hpp"
#include "http/html.hpp"
#include "version.hpp"

namespace pgv::http {
namespace {

constexpr const char* kStates[] = {"up", "down", "unknown"};

std::string number(const char* format, double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string cell(const std::string& html, const char* label) {
  return std::string("<td data-label=\"") + label + "\">" + html + "</td>";
}

std::string row(const TargetStatus& t) {
  const std::string name = escape_html(t.name);
  std::string state = "<span class=\"state " + t.state + "\">" + t.state + "</span>";
  if (!t.detail.empty()) state += " <span class=\"detail\">" + escape_html(t.detail) + "</span>";
  std::string role = escape_html(t.role);
  if (!t.required) role += " <span class=\"detail\">(not required)</span>";
  const std::string pool =
      t.pool.max > 0
          ? std::to_string(t.pool.in_use) + "/" + std::to_string(t.pool.max) +
                (t.pool.waiting > 0 ? " (" + std::to_string(t.pool.waiting) + " waiting)" : "")
          : "-";
  const std::string incident = t.incident.empty()
                                   ? "-"
                                   : "<a href=\"/debug/incidents/" + percent_encode(t.incident) +
                                         "\">" + escape_html(t.incident) + "</a>";
  return "<tr class=\"" + t.state + "\"><th scope=\"row\"><a href=\"/healthz/" +
         percent_encode(t.name) + "?verbose\">" + name + "</a></th>" + cell(state, "state") +
         cell(role, "role") +
         cell(t.latency ? number("%.2f ms", *t.latency * 1e3) : "-", "latency") +
         cell(t.saturation ? number("%.0f%%", *t.saturation * 100) : "-", "saturation") +
         cell(pool, "pool") + cell(incident, "incident") + "</tr>\n";
}

std::string incident_list(const std::vector<incidents::IncidentSummary>& incidents) {
  if (incidents.empty()) return "<p class=\"none\">No incidents recorded.</p>";
  std::string out = "<ul class=\"incidents\">\n";
  for (const auto& i : incidents) {
    const bool open = i.closed_unix == 0;
    out += std::string("<li class=\"") + (open ? "open" : "closed") +
           "\"><a href=\"/debug/incidents/" + percent_encode(i.id) + "\">" + escape_html(i.id) +
           "</a> <span class=\"state " + (open ? "down\">open" : "up\">closed") + "</span> " +
           escape_html(i.target) + ", " + escape_html(i.trigger) + ", opened " +
           utc_time(i.opened_unix) + (open ? "" : ", closed " + utc_time(i.closed_unix));
    if (!i.first_error.empty()) {
      out += " <span class=\"detail\">" + escape_html(i.first_error) + "</span>";
    }
    out += "</li>\n";
  }
  return out + "</ul>";
}

std::string state_options(const std::string& selected) {
  std::string out = "<option value=\"\">all</option>";
  for (const char* s : kStates) {
    out += std::string("<option value=\"") + s + "\"" + (selected == s ? " selected" : "") + ">" +
           s + "</option>";
  }
  return out;
}

std::string hash_of(const char* name) {
  const Asset* a = find_asset(name);
  return a == nullptr ? "" : std::string(a->hash);
}

}  // namespace

std::string status_html(const std::vector<TargetStatus>& targets,
                        const std::vector<incidents::IncidentSummary>& incidents,
                        const StatusFilter& filter, double now_unix) {
  std::string rows;
  std::map<std::string, std::size_t> counts;
  std::size_t shown = 0;
  for (const TargetStatus& t : targets) {
    ++counts[t.state];
    if (!filter.matches(t)) continue;
    rows += row(t);
    ++shown;
  }
  std::string summary = std::to_string(targets.size()) +
                        " targets: " + std::to_string(counts["up"]) + " up, " +
                        std::to_string(counts["down"]) + " down, " +
                        std::to_string(counts["unknown"]) + " without a result yet";
  if (shown != targets.size()) summary += "; " + std::to_string(shown) + " shown";
  const Asset* page = find_asset("status.html");
  return fill_template(page == nullptr ? std::string_view() : page->bytes,
                       {{"version", escape_html(kVersion)},
                        {"css_hash", hash_of("status.css")},
                        {"js_hash", hash_of("status.js")},
                        {"summary", escape_html(summary)},
                        {"state_options", state_options(filter.state)},
                        {"query", escape_html(filter.query)},
                        {"rows", rows},
                        {"incidents", incident_list(incidents)},
                        {"generated", utc_time(now_unix)}});
}

void add_page_headers(Response& r) {
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; script-src 'self'; style-src 'self'; "
                         "img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
                         "form-action 'self'; frame-ancestors 'none'");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
}

}  // namespace pgv::http
