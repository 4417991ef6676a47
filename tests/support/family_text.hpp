#pragma once

#include <string>

#include "telemetry/family.hpp"

namespace pgv::testing {

// One family's exposition text, as /metrics would write it.
inline std::string text_of(const telemetry::FamilyBase& family) {
  std::string out;
  telemetry::TextWriter writer([&](std::string_view chunk) { out += chunk; });
  family.render(writer);
  writer.flush();
  return out;
}

}  // namespace pgv::testing
