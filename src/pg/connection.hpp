#pragma once

#include <cstdint>
#include <memory>

#include "config/redact.hpp"

struct pg_conn;

namespace pgv::pg {

enum class TxStatus : std::uint8_t { idle, active, in_transaction, in_error, unknown };

// An owned, non-blocking libpq connection. Move-only; one thread uses it at a time.
// It carries its target's secrets so every message it produces can be scrubbed.
class Connection {
 public:
  Connection() = default;
  Connection(pg_conn* raw, std::shared_ptr<const config::Secrets> secrets) noexcept;

  explicit operator bool() const noexcept { return conn_ != nullptr; }
  pg_conn* raw() const noexcept { return conn_.get(); }

  // Open, not marked broken, and libpq still sees a good session.
  bool usable() const noexcept;
  TxStatus transaction_status() const noexcept;
  int backend_pid() const noexcept;
  int socket() const noexcept;
  int server_version() const noexcept;
  // After a deadline passed mid-query the session state is unknown: never reuse it.
  void mark_broken() noexcept { broken_ = true; }
  void close() noexcept { conn_.reset(); }

  // `text` with this connection's secrets removed (anything password-shaped when it has
  // none). The SQLSTATE is parsed elsewhere, by parse_verbose_message.
  std::string scrub(std::string_view text) const;
  const config::Secrets& secrets() const noexcept;

 private:
  struct Deleter {
    void operator()(pg_conn* c) const noexcept;
  };
  std::unique_ptr<pg_conn, Deleter> conn_;
  std::shared_ptr<const config::Secrets> secrets_;
  bool broken_ = false;
};

}  // namespace pgv::pg
