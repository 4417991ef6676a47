#pragma once

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "async/task.hpp"

struct ssl_st;
struct ssl_ctx_st;

namespace pgv::http {

// A peer that was too slow, went away, or spoke broken TLS: the connection is dropped.
class StreamError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The server's certificate and key, loaded once. Throws std::runtime_error naming the
// files when OpenSSL cannot use them.
class TlsContext {
 public:
  TlsContext(const std::string& cert_file, const std::string& key_file);
  ssl_ctx_st* get() const noexcept { return ctx_.get(); }

 private:
  struct Free {
    void operator()(ssl_ctx_st* c) const noexcept;
  };
  std::unique_ptr<ssl_ctx_st, Free> ctx_;
};

// An accepted, non-blocking socket (optionally TLS) whose every wait has a deadline.
// Owns the descriptor. Used by one coroutine at a time.
class Stream {
 public:
  Stream(int fd, const TlsContext* tls);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  Stream(Stream&&) = delete;
  Stream& operator=(Stream&&) = delete;

  bool tls() const noexcept { return ssl_ != nullptr; }
  async::Task<void> handshake(Deadline deadline);
  // At least one byte, or 0 when the peer closed. `buf` must outlive the await.
  async::Task<std::size_t> read_some(char* buf, std::size_t len, Deadline deadline);
  // `data` must stay alive until the task completes.
  async::Task<void> write_all(std::string_view data, Deadline deadline);

 private:
  struct Free {
    void operator()(ssl_st* s) const noexcept;
  };
  int fd_;
  std::unique_ptr<ssl_st, Free> ssl_;
};

}  // namespace pgv::http
