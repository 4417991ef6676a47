#include "config/yaml_reader.hpp"

#include <algorithm>

#include "config/error.hpp"
#include "config/values.hpp"

namespace pgv::config::detail {

void YamlReader::fail(const YAML::Node& at, std::string_view key, std::string_view problem,
                      std::string_view got_text, std::string_view allowed) const {
  detail::fail(key, problem, got_text, allowed, where(at));
}

std::string YamlReader::got(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return show_value(node.Scalar());
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Null:
      return "nothing (null)";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

std::string YamlReader::where(const YAML::Node& node) const {
  if (!node.IsDefined() || node.Mark().is_null()) return source_;
  return source_ + " line " + std::to_string(node.Mark().line + 1);
}

std::string YamlReader::scalar(const YAML::Node& node, std::string_view key,
                               std::string_view expected) const {
  if (!node.IsScalar()) fail(node, key, "expected " + std::string(expected), got(node), "");
  return node.Scalar();
}

std::string YamlReader::text(const YAML::Node& node, std::string_view key) const {
  return scalar(node, key, "a string");
}

bool YamlReader::boolean(const YAML::Node& node, std::string_view key) const {
  const std::string value = scalar(node, key, "a boolean (true or false)");
  try {
    return parse_bool(key, value);
  } catch (const ConfigError&) {
    fail(node, key, "not a boolean", got(node), "true, false, 1, 0, yes, no, on, off");
  }
}

std::int64_t YamlReader::integer(const YAML::Node& node, std::string_view key, std::int64_t min,
                                 std::int64_t max) const {
  const std::string value = scalar(node, key, "an integer");
  try {
    return parse_int(key, value, min, max);
  } catch (const ConfigError& e) {
    // Same message, with the file position added.
    throw ConfigError(std::string(e.what()) + " (" + where(node) + ")");
  }
}

Millis YamlReader::duration(const YAML::Node& node, std::string_view key, Millis min) const {
  const std::string value = scalar(node, key, "a duration such as 500ms, 2s or 30m");
  try {
    return parse_duration(key, value, min);
  } catch (const ConfigError& e) {
    throw ConfigError(std::string(e.what()) + " (" + where(node) + ")");
  }
}

std::vector<std::string> YamlReader::text_list(const YAML::Node& node, std::string_view key) const {
  if (!node.IsSequence()) fail(node, key, "expected a list", got(node), "");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < node.size(); ++i) {
    out.push_back(text(node[i], std::string(key) + "[" + std::to_string(i) + "]"));
  }
  return out;
}

Section YamlReader::section(const YAML::Node& node, std::string key,
                            std::vector<std::string> allowed) const {
  return Section(*this, node, std::move(key), std::move(allowed));
}

Section::Section(const YamlReader& reader, const YAML::Node& node, std::string path,
                 std::vector<std::string> allowed)
    : reader_(reader), node_(node), path_(std::move(path)) {
  if (!node.IsDefined() || node.IsNull()) return;
  const std::string allowed_text = join(allowed);
  if (!node.IsMap()) {
    reader_.fail(node, path_, "expected a mapping", YamlReader::got(node),
                 "a mapping with keys " + allowed_text);
  }
  for (const auto& entry : node) {
    const YAML::Node& k = entry.first;
    if (!k.IsScalar()) {
      reader_.fail(k, key("?"), "expected a plain key", YamlReader::got(k), allowed_text);
    }
    const std::string name = k.Scalar();
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      reader_.fail(k, key(name), "unknown key", show_value(name), allowed_text);
    }
    if (!entries_.emplace(name, std::make_pair(k, entry.second)).second) {
      reader_.fail(k, key(name), "duplicate key", show_value(name), "each key at most once");
    }
  }
}

YAML::Node Section::get(std::string_view name) const {
  const auto it = entries_.find(std::string(name));
  return it == entries_.end() ? YAML::Node(YAML::NodeType::Undefined) : it->second.second;
}

std::string Section::key(std::string_view name) const {
  return path_.empty() ? std::string(name) : path_ + "." + std::string(name);
}

void Section::read(std::string_view name, std::string& out) const {
  if (has(name)) out = reader_.text(get(name), key(name));
}

void Section::read(std::string_view name, bool& out) const {
  if (has(name)) out = reader_.boolean(get(name), key(name));
}

void Section::read(std::string_view name, Millis& out, Millis min) const {
  if (has(name)) out = reader_.duration(get(name), key(name), min);
}

}  // namespace pgv::config::detail
