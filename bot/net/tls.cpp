// The TLS client context and the certificate-verification error category.
// Asio's SSL context only (no Beast): the handshake itself is in connect.cpp.
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/ssl/context.hpp>

#include <stdexcept>

#include "bot/net/net.hpp"

namespace signoff::net {

namespace ssl = boost::asio::ssl;

struct tls_context::impl {
  ssl::context ctx{ssl::context::tls_client};
};

tls_context::tls_context(const std::string& ca_file) : impl_(std::make_unique<impl>()) {
  auto& c = impl_->ctx;
  // TLS 1.0/1.1 are deprecated (RFC 8996); every platform we talk to has 1.2+.
  if (SSL_CTX_set_min_proto_version(c.native_handle(), TLS1_2_VERSION) != 1)
    throw std::runtime_error("TLS: cannot require TLS 1.2 or later");
  boost::system::error_code ec;
  c.set_default_verify_paths(ec);
  if (ec) throw std::runtime_error("TLS: cannot use the system trust store: " + ec.message());
  if (!ca_file.empty()) {
    c.load_verify_file(ca_file, ec);
    if (ec) throw std::runtime_error("TLS: cannot load CA file '" + ca_file + "': " + ec.message());
  }
  // Every stream made from this context verifies its peer; connect.cpp sets
  // it again per stream together with the host-name check.
  c.set_verify_mode(ssl::verify_peer);
}

tls_context::~tls_context() = default;

void* tls_context::native() const { return &impl_->ctx; }

namespace {

class verify_category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "signoff.tls_verify"; }
  std::string message(int v) const override {
    return std::string("TLS certificate verification failed: ") + X509_verify_cert_error_string(v);
  }
};

}  // namespace

const boost::system::error_category& tls_verify_category() {
  static const verify_category c;
  return c;
}

}  // namespace signoff::net
