#include "http/encoding.hpp"

#include <algorithm>
#include <cctype>

namespace pgv::http {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// The q-value of one element's parameters ("q=0.5"); 1 when absent, 0 when malformed (a
// client that sends garbage gets the encoding everyone understands).
double q_of(std::string_view params) {
  while (!params.empty()) {
    const std::size_t semi = params.find(';');
    const std::string_view p = trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    if (p.size() < 2 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=') continue;
    const std::string_view v = trim(p.substr(2));
    if (v.empty() || v.size() > 5) return 0;
    // "0", "0.5", "1", "1.000": parsed by hand (from_chars for double is not everywhere).
    double q = 0;
    if (v[0] == '1') {
      q = 1;
    } else if (v[0] != '0') {
      return 0;
    }
    if (v.size() > 1) {
      if (v[1] != '.') return 0;
      double scale = 0.1;
      for (std::size_t i = 2; i < v.size(); ++i, scale /= 10) {
        if (v[i] < '0' || v[i] > '9') return 0;
        if (q == 1 && v[i] != '0') return 0;
        q += (v[i] - '0') * scale;
      }
    }
    return q;
  }
  return 1;
}

}  // namespace

bool accepts_gzip(std::string_view header) noexcept {
  double gzip_q = -1;  // -1: not named
  double any_q = -1;
  while (!header.empty()) {
    const std::size_t comma = header.find(',');
    const std::string_view element = trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    const std::size_t semi = element.find(';');
    const std::string_view coding = trim(element.substr(0, semi));
    const double q = semi == std::string_view::npos ? 1 : q_of(element.substr(semi + 1));
    if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) {
      gzip_q = std::max(gzip_q, q);
    } else if (coding == "*") {
      any_q = std::max(any_q, q);
    }
  }
  if (gzip_q >= 0) return gzip_q > 0;
  return any_q > 0;
}

}  // namespace pgv::http
