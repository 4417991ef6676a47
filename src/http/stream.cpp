#include "http/stream.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "async/awaitables.hpp"

namespace pgv::http {
namespace {

async::Task<void> wait(int fd, async::Interest interest, Deadline deadline) {
  const async::Outcome outcome = co_await async::wait_io(fd, interest, deadline);
  if (outcome == async::Outcome::cancelled) throw async::Cancelled();
  if (outcome == async::Outcome::timeout) throw StreamError("peer too slow");
}

// What an OpenSSL call that did not complete asks for, or an error.
async::Interest want(ssl_st* ssl, int ret) {
  switch (SSL_get_error(ssl, ret)) {
    case SSL_ERROR_WANT_READ:
      return async::Interest::read;
    case SSL_ERROR_WANT_WRITE:
      return async::Interest::write;
    default:
      ERR_clear_error();
      throw StreamError("tls error");
  }
}

}  // namespace

void TlsContext::Free::operator()(ssl_ctx_st* c) const noexcept {
  SSL_CTX_free(c);
}
void Stream::Free::operator()(ssl_st* s) const noexcept {
  SSL_free(s);
}

TlsContext::TlsContext(const std::string& cert_file, const std::string& key_file)
    : ctx_(SSL_CTX_new(TLS_server_method())) {
  if (!ctx_ || SSL_CTX_set_min_proto_version(ctx_.get(), TLS1_2_VERSION) != 1 ||
      SSL_CTX_use_certificate_chain_file(ctx_.get(), cert_file.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx_.get(), key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx_.get()) != 1) {
    ERR_clear_error();
    throw std::runtime_error("tls: cannot use certificate '" + cert_file + "' with key '" +
                             key_file + "'");
  }
  SSL_CTX_set_mode(ctx_.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

Stream::Stream(int fd, const TlsContext* tls) : fd_(fd) {
  if (tls == nullptr) return;
  ssl_.reset(SSL_new(tls->get()));
  if (!ssl_ || SSL_set_fd(ssl_.get(), fd_) != 1) {
    ::close(fd_);
    fd_ = -1;
    throw StreamError("tls setup failed");
  }
}

Stream::~Stream() {
  ssl_.reset();
  if (fd_ >= 0) ::close(fd_);
}

async::Task<void> Stream::handshake(Deadline deadline) {
  if (!ssl_) co_return;
  for (;;) {
    const int ret = SSL_accept(ssl_.get());
    if (ret == 1) co_return;
    co_await wait(fd_, want(ssl_.get(), ret), deadline);
  }
}

async::Task<std::size_t> Stream::read_some(char* buf, std::size_t len, Deadline deadline) {
  for (;;) {
    if (ssl_) {
      const int ret = SSL_read(ssl_.get(), buf, static_cast<int>(len));
      if (ret > 0) co_return static_cast<std::size_t>(ret);
      if (SSL_get_error(ssl_.get(), ret) == SSL_ERROR_ZERO_RETURN) co_return 0;
      co_await wait(fd_, want(ssl_.get(), ret), deadline);
      continue;
    }
    const ssize_t n = ::recv(fd_, buf, len, MSG_DONTWAIT);
    if (n > 0) co_return static_cast<std::size_t>(n);
    if (n == 0) co_return 0;
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) throw StreamError("read failed");
    co_await wait(fd_, async::Interest::read, deadline);
  }
}

async::Task<void> Stream::write_all(std::string_view data, Deadline deadline) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    if (ssl_) {
      const int ret =
          SSL_write(ssl_.get(), data.data() + sent, static_cast<int>(data.size() - sent));
      if (ret > 0) {
        sent += static_cast<std::size_t>(ret);
        continue;
      }
      co_await wait(fd_, want(ssl_.get(), ret), deadline);
      continue;
    }
    const ssize_t n =
        ::send(fd_, data.data() + sent, data.size() - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      throw StreamError("write failed");
    }
    co_await wait(fd_, async::Interest::write, deadline);
  }
}

}  // namespace pgv::http
