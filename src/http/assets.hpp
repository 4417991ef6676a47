#pragma once

#include <cstddef>
#include <string_view>

namespace pgv::http {

// A file of src/http/assets/, embedded at build time (cmake/EmbedAssets.cmake).
struct Asset {
  std::string_view name;          // "status.css"
  std::string_view content_type;  // from the name's extension
  std::string_view bytes;
  std::string_view hash;  // 16 hex digits of its SHA-256: the page's cache buster
};

// The asset /assets/<name> serves (CSS, JS), or null: the HTML template is not served.
const Asset* served_asset(std::string_view name);
// Any embedded asset by name (the page template included), or null.
const Asset* find_asset(std::string_view name);

namespace detail {
struct EmbeddedAsset {
  const char* name;
  const unsigned char* bytes;
  std::size_t size;
  const char* hash;
};
// Defined in the generated file.
extern const EmbeddedAsset kEmbeddedAssets[];
extern const std::size_t kEmbeddedAssetCount;
}  // namespace detail

}  // namespace pgv::http
