#pragma once

namespace pgv::probes {

// What differs between the server versions pgvitals supports (13 and later), as SQL
// fragments chosen from the server's server_version_num. libpq learns that number when the
// session starts (PQserverVersion), so choosing costs no query. README's "Supported
// PostgreSQL versions" lists the same differences.
struct ServerVersion {
  int num = 0;  // server_version_num, e.g. 170010

  // Slots for members of pg_use_reserved_connections: a setting from 16 on. Before 16 there
  // are no such slots, so 0 is what the server really keeps, not a guess.
  const char* reserved_connections_sql() const noexcept {
    return num >= 160000 ? "current_setting('reserved_connections')" : "'0'";
  }
  // The current transaction's ID: pg_current_xact_id() from 13 on; txid_current() is
  // deprecated there.
  const char* current_xact_id_sql() const noexcept {
    return num >= 130000 ? "pg_current_xact_id()" : "txid_current()";
  }
};

}  // namespace pgv::probes
