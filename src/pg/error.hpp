#pragma once

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pgv::pg {

// The step of a probe that failed; failure traces and logs name it.
enum class Phase : std::uint8_t { connect, pre_ping, acquire, query, dns };
std::string_view to_string(Phase phase) noexcept;

// Why an operation failed: the bounded set behind the `reason` label. A SQLSTATE with no
// reason of its own is `sqlstate`, labelled sqlstate_<class> from the SQLSTATE.
enum class Reason : std::uint8_t {
  timeout,
  refused,
  auth,
  too_many_connections,
  shutdown,
  dns,
  tls,
  sqlstate,
  other,
};
inline constexpr std::array<Reason, 9> kReasons = {
    Reason::timeout,  Reason::refused, Reason::auth, Reason::too_many_connections,
    Reason::shutdown, Reason::dns,     Reason::tls,  Reason::sqlstate,
    Reason::other};
std::string_view to_string(Reason reason) noexcept;
// The label as metrics, traces and JSON spell it: to_string, or sqlstate_<class>.
std::string reason_label(Reason reason, std::string_view sqlstate);
// A short phrase for people, from a label ("timed out", "SQLSTATE class 3D"); an empty
// label reads "failed".
std::string describe_reason(std::string_view label);

// A database operation that failed, with a Reason.
// The message is already redacted. `connection_usable` tells a pool whether it may keep
// the connection (an SQL error) or must discard it (a broken or timed-out session).
class Error : public std::runtime_error {
 public:
  struct Details {
    Phase phase = Phase::query;
    Reason reason = Reason::other;
    std::string sqlstate;
    bool connection_usable = false;
    int backend_pid = 0;
    // How long the failing phase ran, when only the failure can tell (a lookup that ran
    // out of time); 0 otherwise. Failure traces list it among the phase durations.
    double phase_seconds = 0;
  };

  Error(Details details, const std::string& redacted_message)
      : std::runtime_error(redacted_message), details_(std::move(details)) {}

  Phase phase() const noexcept { return details_.phase; }
  Reason reason() const noexcept { return details_.reason; }
  std::string reason_label() const { return pg::reason_label(details_.reason, details_.sqlstate); }
  const std::string& sqlstate() const noexcept { return details_.sqlstate; }
  bool connection_usable() const noexcept { return details_.connection_usable; }
  int backend_pid() const noexcept { return details_.backend_pid; }
  const Details& details() const noexcept { return details_; }

 private:
  Details details_;
};

// Maps what the server or libpq reported to the bounded reason set.
Reason classify(std::string_view sqlstate, std::string_view message);

// libpq's verbose messages look like "...failed: FATAL:  3D000: database "x" does not
// exist\nLOCATION: ...". This takes the SQLSTATE out and drops the source location, which
// means nothing to a user.
struct ParsedMessage {
  std::string sqlstate;
  std::string text;
};
ParsedMessage parse_verbose_message(std::string_view message);

// Servers send messages in their own encoding (LATIN1 during start-up, say); everything
// downstream (JSON logs, traces, health bodies) needs UTF-8, so invalid bytes become U+FFFD.
std::string to_valid_utf8(std::string_view text);

}  // namespace pgv::pg
