#include "http/assets.hpp"

#include <vector>

namespace pgv::http {
namespace {

std::string_view content_type_of(std::string_view name) {
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  return "application/octet-stream";
}

const std::vector<Asset>& assets() {
  static const std::vector<Asset> all = [] {
    std::vector<Asset> out;
    for (std::size_t i = 0; i < detail::kEmbeddedAssetCount; ++i) {
      const detail::EmbeddedAsset& e = detail::kEmbeddedAssets[i];
      // The generated arrays are bytes; the page is UTF-8 text served as is.
      const auto* data = static_cast<const void*>(e.bytes);
      out.push_back({e.name, content_type_of(e.name),
                     std::string_view(static_cast<const char*>(data), e.size), e.hash});
    }
    return out;
  }();
  return all;
}

}  // namespace

const Asset* find_asset(std::string_view name) {
  for (const Asset& a : assets()) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

const Asset* served_asset(std::string_view name) {
  const Asset* a = find_asset(name);
  return a != nullptr && (name.ends_with(".css") || name.ends_with(".js")) ? a : nullptr;
}

}  // namespace pgv::http
