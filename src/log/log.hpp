#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "config/redact.hpp"

namespace pgv::logging {

enum class LogLevel { trace, debug, info, warn, error, off };

// One key=value of a structured log line. Numbers and booleans stay unquoted in JSON.
struct Field {
  Field(std::string_view k, std::string v) : key(k), value(std::move(v)) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  Field(std::string_view k, double v);
  Field(std::string_view k, long long v) : key(k), value(std::to_string(v)), quoted(false) {}
  Field(std::string_view k, int v) : Field(k, static_cast<long long>(v)) {}
  Field(std::string_view k, bool v) : key(k), value(v ? "true" : "false"), quoted(false) {}

  std::string_view key;
  std::string value;
  bool quoted = true;
};

// Configures the process-wide logger: one line per event on stderr, either
// "2026-11-23T12:00:00.123Z warn target down target=db reason=timeout" or a JSON object
// with ts, level, msg and the fields. Throws ConfigError on an unknown format or level.
void init_logging(std::string_view format, std::string_view level);
LogLevel parse_log_level(std::string_view level);

// Every message and field is scrubbed of the registered secrets and of anything shaped
// like a password before it is written.
void log(LogLevel level, std::string_view message, std::initializer_list<Field> fields = {});
bool log_enabled(LogLevel level);

// Secrets of every configured target; replaced on reload.
void set_log_secrets(config::Secrets secrets);

// The line as it would be written, without timestamp and level (for tests).
std::string format_fields(bool json, std::string_view message, std::initializer_list<Field> fields);

}  // namespace pgv::logging
