#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/duration.hpp"

// Typed, strict access to a parsed YAML document: every error names the key path, the
// value and the file line; unknown and duplicate keys are errors, never ignored.
namespace pgv::config::detail {

class Section;

class YamlReader {
 public:
  explicit YamlReader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const YAML::Node& at, std::string_view key, std::string_view problem,
                         std::string_view got, std::string_view allowed) const;
  // The value for a message: quoted text for scalars, the node's kind otherwise.
  static std::string got(const YAML::Node& node);
  std::string where(const YAML::Node& node) const;

  std::string text(const YAML::Node& node, std::string_view key) const;
  bool boolean(const YAML::Node& node, std::string_view key) const;
  std::int64_t integer(const YAML::Node& node, std::string_view key, std::int64_t min,
                       std::int64_t max) const;
  Millis duration(const YAML::Node& node, std::string_view key, Millis min = Millis{1}) const;
  std::vector<std::string> text_list(const YAML::Node& node, std::string_view key) const;
  Section section(const YAML::Node& node, std::string key, std::vector<std::string> allowed) const;

 private:
  // Scalar text, or an error naming `expected` when the node is a list, mapping or null.
  std::string scalar(const YAML::Node& node, std::string_view key, std::string_view expected) const;

  std::string source_;
};

// One mapping of the document with its key path (e.g. `targets[1].pool`) and the keys
// allowed at that level. A missing or null mapping reads as empty.
class Section {
 public:
  Section(const YamlReader& reader, const YAML::Node& node, std::string path,
          std::vector<std::string> allowed);

  bool has(std::string_view key) const { return entries_.count(std::string(key)) != 0; }
  // The value node, or an undefined node when the key is absent.
  YAML::Node get(std::string_view key) const;
  std::string key(std::string_view name) const;
  const YAML::Node& node() const { return node_; }
  const YamlReader& reader() const { return reader_; }
  const std::map<std::string, std::pair<YAML::Node, YAML::Node>>& entries() const {
    return entries_;
  }

  // Each sets `out` only when the key is present.
  void read(std::string_view name, std::string& out) const;
  void read(std::string_view name, bool& out) const;
  void read(std::string_view name, Millis& out, Millis min = Millis{1}) const;
  template <typename Int>
  void read_int(std::string_view name, Int& out, std::int64_t min, std::int64_t max) const {
    if (has(name)) out = static_cast<Int>(reader_.integer(get(name), key(name), min, max));
  }

 private:
  const YamlReader& reader_;
  YAML::Node node_;
  std::string path_;
  std::map<std::string, std::pair<YAML::Node, YAML::Node>> entries_;  // key -> (key, value)
};

}  // namespace pgv::config::detail
