#include "config/applications.hpp"

#include "config/applications_yaml.hpp"
#include "config/values.hpp"

namespace pgv::config {

bool glob_match(std::string_view pattern, std::string_view text) noexcept {
  // Iterative, with one backtrack point: linear in practice, never exponential.
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace pgv::config

namespace pgv::config::detail {

std::vector<ApplicationBudget> read_applications(const YamlReader& r, const YAML::Node& node,
                                                 const std::string& key) {
  std::vector<ApplicationBudget> out;
  if (node.IsNull()) return out;
  if (!node.IsSequence()) {
    r.fail(node, key, "expected a list of applications", r.got(node),
           "a list of mappings such as - {name: orders-api, max_connections: 15, owner: team}");
  }
  static const std::vector<std::string> kKeys = {"name", "user", "max_connections", "owner",
                                                 "idle_in_transaction_max"};
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string path = key + "[" + std::to_string(i) + "]";
    const Section s = r.section(node[i], path, kKeys);
    ApplicationBudget b;
    if (!s.has("name")) {
      r.fail(node[i], s.key("name"), "missing", "",
             "an application_name, or a glob such as orders-*");
    }
    b.name = r.text(s.get("name"), s.key("name"));
    if (b.name.empty()) {
      r.fail(s.get("name"), s.key("name"), "empty", show_value(b.name),
             "an application_name, or a glob such as orders-*");
    }
    s.read("user", b.user);
    if (b.name.find('\0') != std::string::npos || b.user.find('\0') != std::string::npos) {
      r.fail(s.get("name"), s.key("name"), "contains a NUL byte", show_value(b.name),
             "text without NUL bytes");
    }
    if (!s.has("max_connections")) {
      r.fail(node[i], s.key("max_connections"), "missing", "",
             "the application's total pool ceiling, 1 to 100000");
    }
    s.read_int("max_connections", b.max_connections, 1, 100'000);
    s.read("owner", b.owner);
    if (s.has("idle_in_transaction_max")) {
      Millis limit{};
      s.read("idle_in_transaction_max", limit);
      b.idle_in_transaction_max = limit;
    }
    for (std::size_t j = 0; j < out.size(); ++j) {
      if (out[j].name == b.name && out[j].user == b.user) {
        r.fail(s.get("name"), s.key("name"), "duplicate application", show_value(b.name),
               "each name (and user) once per list (" + key + "[" + std::to_string(j) +
                   "] has it already)");
      }
    }
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace pgv::config::detail
