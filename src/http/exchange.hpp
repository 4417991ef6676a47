#pragma once

#include <optional>
#include <string>

#include "async/task.hpp"
#include "config/agent_config.hpp"
#include "http/request.hpp"
#include "http/response.hpp"
#include "http/stream.hpp"

namespace pgv::http {

// The wire steps of one request and its answer on a connection, each under the deadline
// its caller gives. They throw StreamError when the peer is slow, gone or broken.

// Reads until `buffer` holds a whole request head (or a malformed or oversized one) and
// parses it into `request`. Status `incomplete` means the client closed first.
async::Task<ParseResult> read_head(Stream& stream, std::string& buffer, std::size_t max_bytes,
                                   Deadline deadline, Request& request);

// The answer to a head that must not be served (400, 431, 413), or nothing.
std::optional<Response> refusal(const ParseResult& parsed, const Request& request,
                                const config::HttpLimits& limits);

// No endpoint takes a body: reads and drops one that fits the limit, leaving what follows
// it (a pipelined request) in `buffer`. False when the client closed first.
async::Task<bool> drop_body(Stream& stream, std::string& buffer, std::size_t length,
                            Deadline deadline);

// Small answers go out in one write; a large payload (a fleet's /metrics is megabytes)
// follows its headers without being copied into one buffer first.
async::Task<void> send(Stream& stream, const Response& response, bool keep_alive, bool head_only,
                       Deadline deadline);

}  // namespace pgv::http
