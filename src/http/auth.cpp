#include "http/auth.hpp"

#include <array>

namespace pgv::http {
namespace {

bool constant_time_equals(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  }
  return diff == 0;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

}  // namespace

std::string base64_decode(std::string_view in) {
  static const std::array<int, 256> kTable = [] {
    std::array<int, 256> t{};
    t.fill(-1);
    const std::string_view chars =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (std::size_t i = 0; i < chars.size(); ++i)
      t[static_cast<unsigned char>(chars[i])] = static_cast<int>(i);
    return t;
  }();
  // Strict: whole quads, padding only at the end. Anything else is not a credential.
  if (in.size() % 4 != 0) return {};
  const std::size_t pad = in.ends_with("==") ? 2 : in.ends_with('=') ? 1 : 0;
  std::string out;
  int bits = 0;
  int value = 0;
  for (char c : in.substr(0, in.size() - pad)) {
    const int d = kTable[static_cast<unsigned char>(c)];
    if (d < 0) return {};
    value = (value << 6) | d;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((value >> bits) & 0xFF));
    }
  }
  return out;
}

bool auth_enabled(const config::AuthConfig& auth) {
  return !auth.bearer_token.empty() || !auth.basic_user.empty();
}

bool authorized(const config::AuthConfig& auth, std::string_view header) {
  if (!auth_enabled(auth)) return true;
  if (!auth.bearer_token.empty() && starts_with_ci(header, "bearer ")) {
    if (constant_time_equals(header.substr(7), auth.bearer_token)) return true;
  }
  if (!auth.basic_user.empty() && starts_with_ci(header, "basic ")) {
    const std::string expected = auth.basic_user + ":" + auth.basic_password;
    if (constant_time_equals(base64_decode(header.substr(6)), expected)) return true;
  }
  return false;
}

}  // namespace pgv::http
