#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// What the writer and the readers of incidents.dir share; not for other parts.
namespace pgv::incidents::detail {

inline constexpr std::string_view kSuffix = ".json";

struct JsonFile {
  std::string name;  // <id>.json
  std::uint64_t bytes = 0;
  std::int64_t mtime_ns = 0;
};

// The regular files named *.json (not hidden), in no particular order.
std::vector<JsonFile> json_files(const std::string& dir);
// An id becomes a file name: nothing that could leave the directory or hide the file.
bool usable_id(std::string_view id);
std::string join(const std::string& dir, std::string_view name);
std::string error_text(int err);

}  // namespace pgv::incidents::detail
