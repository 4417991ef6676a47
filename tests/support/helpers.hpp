#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "async/blocking.hpp"
#include "config/dsn.hpp"
#include "pg/connect.hpp"
#include "pg/conninfo.hpp"
#include "pg/query.hpp"

namespace pgv::testing {

// Built with a sanitizer (scripts/test --sanitize): resident memory there is mostly
// ASan's quarantine and shadow, so tests assert RSS bounds only in normal builds (which
// scripts/test runs first).
#ifdef PGVITALS_SANITIZED
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

inline pg::ConnectParams params_for(const std::string& dsn,
                                    std::chrono::milliseconds statement_timeout = {}) {
  pg::SessionSettings session;
  session.statement_timeout = statement_timeout;
  return pg::make_connect_params(config::parse_dsn(dsn), session);
}

inline pg::Connection connect_blocking(const pg::ConnectParams& params,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(5),
                                       pg::ConnectTiming* timing = nullptr) {
  return async::run_blocking(pg::connect(params, Clock::now() + timeout, timing));
}

inline pg::Result query(pg::Connection& conn, const std::string& sql,
                        std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  return async::run_blocking(pg::exec(conn, sql, Clock::now() + timeout));
}

// Polls `condition` until it holds or `timeout` passes; the condition's last answer.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto until = Clock::now() + timeout;
  while (Clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

}  // namespace pgv::testing
