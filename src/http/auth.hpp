#pragma once

#include <string>
#include <string_view>

#include "config/agent_config.hpp"

namespace pgv::http {

// Whether a request's Authorization header satisfies the configured auth. With none
// configured everything passes; with both basic and bearer either one is accepted.
// Comparisons take the same time whatever matches, so timing reveals nothing.
bool authorized(const config::AuthConfig& auth, std::string_view authorization_header);
bool auth_enabled(const config::AuthConfig& auth);

std::string base64_decode(std::string_view in);

}  // namespace pgv::http
