#include "log/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "config/error.hpp"

namespace pgv::logging {
namespace {

struct LogState {
  std::shared_mutex mutex;
  config::Secrets secrets;
  bool json = false;
  std::shared_ptr<spdlog::logger> logger;
};

LogState& state() {
  static LogState s;
  return s;
}

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::trace:
      return spdlog::level::trace;
    case LogLevel::debug:
      return spdlog::level::debug;
    case LogLevel::info:
      return spdlog::level::info;
    case LogLevel::warn:
      return spdlog::level::warn;
    case LogLevel::error:
      return spdlog::level::err;
    case LogLevel::off:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\n' || c == '\t') return true;
  }
  return false;
}

std::shared_ptr<spdlog::logger> make_logger(bool json) {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("pgvitals", sink);
  logger->set_pattern(
      json ? R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})" : "%Y-%m-%dT%H:%M:%S.%eZ %l %v",
      spdlog::pattern_time_type::utc);
  // A health agent's log is read during incidents: never lose the tail to a buffer.
  logger->flush_on(spdlog::level::trace);
  return logger;
}

}  // namespace

Field::Field(std::string_view k, double v) : key(k), quoted(false) {
  if (!std::isfinite(v)) {
    value = "null";
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  value = buf;
}

LogLevel parse_log_level(std::string_view level) {
  if (level == "trace") return LogLevel::trace;
  if (level == "debug") return LogLevel::debug;
  if (level == "info") return LogLevel::info;
  if (level == "warn" || level == "warning") return LogLevel::warn;
  if (level == "error") return LogLevel::error;
  if (level == "off") return LogLevel::off;
  throw config::ConfigError("config: log.level: unknown level: got '" + std::string(level) +
                            "'; allowed: trace, debug, info, warn, error, off");
}

void init_logging(std::string_view format, std::string_view level) {
  if (format != "text" && format != "json") {
    throw config::ConfigError("config: log.format: unknown format: got '" + std::string(format) +
                              "'; allowed: text, json");
  }
  const LogLevel lvl = parse_log_level(level);
  LogState& s = state();
  std::unique_lock lock(s.mutex);
  s.json = format == "json";
  s.logger = make_logger(s.json);
  s.logger->set_level(to_spdlog(lvl));
}

bool log_enabled(LogLevel level) {
  LogState& s = state();
  std::shared_lock lock(s.mutex);
  return s.logger ? s.logger->should_log(to_spdlog(level)) : level >= LogLevel::info;
}

void set_log_secrets(config::Secrets secrets) {
  LogState& s = state();
  std::unique_lock lock(s.mutex);
  s.secrets = std::move(secrets);
}

namespace {

std::string format_line(bool json, std::string_view message, const Field* begin, const Field* end) {
  std::string out;
  if (json) {
    out += "\"msg\":";
    append_json_string(out, message);
    for (const Field* f = begin; f != end; ++f) {
      out.push_back(',');
      append_json_string(out, f->key);
      out.push_back(':');
      if (f->quoted) {
        append_json_string(out, f->value);
      } else {
        out += f->value;
      }
    }
    return out;
  }
  out.append(message);
  for (const Field* f = begin; f != end; ++f) {
    out.push_back(' ');
    out.append(f->key);
    out.push_back('=');
    if (f->quoted && needs_quotes(f->value)) {
      append_json_string(out, f->value);
    } else {
      out += f->value;
    }
  }
  return out;
}

}  // namespace

std::string format_fields(bool json, std::string_view message,
                          std::initializer_list<Field> fields) {
  return format_line(json, message, fields.begin(), fields.end());
}

void log(LogLevel level, std::string_view message, std::initializer_list<Field> fields) {
  LogState& s = state();
  std::shared_lock lock(s.mutex);
  if (!s.logger) {
    lock.unlock();
    init_logging("text", "info");
    lock.lock();
  }
  if (!s.logger->should_log(to_spdlog(level))) return;
  // Scrub each value before quoting and escaping: an escaped secret (a quote or backslash
  // in a password) would no longer match. The finished line is scrubbed again for shapes
  // that only appear once fields are joined.
  std::vector<Field> clean(fields);
  for (Field& f : clean) {
    if (f.quoted) f.value = s.secrets.scrub(f.value);
  }
  const std::string text = s.secrets.scrub(message);
  const std::string line =
      s.secrets.scrub(format_line(s.json, text, clean.data(), clean.data() + clean.size()));
  s.logger->log(to_spdlog(level), line);
}

}  // namespace pgv::logging
