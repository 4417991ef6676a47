#include "pg/connection.hpp"

#include <libpq-fe.h>

namespace pgv::pg {

void Connection::Deleter::operator()(pg_conn* c) const noexcept {
  PQfinish(c);
}

Connection::Connection(pg_conn* raw, std::shared_ptr<const config::Secrets> secrets) noexcept
    : conn_(raw), secrets_(std::move(secrets)) {}

bool Connection::usable() const noexcept {
  return conn_ && !broken_ && PQstatus(conn_.get()) == CONNECTION_OK;
}

TxStatus Connection::transaction_status() const noexcept {
  if (!conn_) return TxStatus::unknown;
  switch (PQtransactionStatus(conn_.get())) {
    case PQTRANS_IDLE:
      return TxStatus::idle;
    case PQTRANS_ACTIVE:
      return TxStatus::active;
    case PQTRANS_INTRANS:
      return TxStatus::in_transaction;
    case PQTRANS_INERROR:
      return TxStatus::in_error;
    default:
      return TxStatus::unknown;
  }
}

int Connection::backend_pid() const noexcept {
  return conn_ ? PQbackendPID(conn_.get()) : 0;
}
int Connection::socket() const noexcept {
  return conn_ ? PQsocket(conn_.get()) : -1;
}
int Connection::server_version() const noexcept {
  return conn_ ? PQserverVersion(conn_.get()) : 0;
}

std::string Connection::scrub(std::string_view text) const {
  return secrets_ ? secrets_->scrub(text) : config::redact(text);
}

const config::Secrets& Connection::secrets() const noexcept {
  static const config::Secrets kNone;
  return secrets_ ? *secrets_ : kNone;
}

}  // namespace pgv::pg
