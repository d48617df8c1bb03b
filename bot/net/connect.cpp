// The steps every client connection shares: resolve + TCP connect under one
// deadline, and the verified TLS client handshake.
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>

#include <memory>

#include "bot/net/detail.hpp"

namespace signoff::net::detail {

namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

asio::ssl::context& ssl_context(const tls_context& tls) { return *static_cast<ssl::context*>(tls.native()); }

asio::awaitable<error_code> connect_tcp(beast::tcp_stream& s, const url& u, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  // The resolver has no deadline of its own, so a timer cancels it. The
  // resolver lives in shared state because the timer's handler may run after
  // this frame is gone.
  struct resolve_state {
    explicit resolve_state(const asio::any_io_executor& ex) : resolver(ex) {}
    tcp::resolver resolver;
    bool timed_out = false;
  };
  auto st = std::make_shared<resolve_state>(s.get_executor());
  asio::steady_timer timer(s.get_executor(), deadline);
  timer.async_wait([st](const error_code& ec) {
    if (ec) return;  // cancelled: the resolve finished first
    st->timed_out = true;
    st->resolver.cancel();
  });
  auto [rec, endpoints] =
      co_await st->resolver.async_resolve(u.host, u.port, tcp::resolver::numeric_service, tok);
  timer.cancel();
  if (rec) co_return st->timed_out ? error_code(beast::error::timeout) : rec;

  const auto left = deadline - std::chrono::steady_clock::now();
  if (left <= decltype(left)::zero()) co_return beast::error::timeout;
  s.expires_after(std::chrono::duration_cast<asio::steady_timer::duration>(left));
  auto [cec, endpoint] = co_await s.async_connect(endpoints, tok);
  s.expires_never();
  if (!cec) {
    // Acks and API requests are small writes that must leave at once: with
    // Nagle's algorithm a write waits for the peer's delayed ACK (~40 ms).
    error_code ignored;
    s.socket().set_option(tcp::no_delay(true), ignored);
  }
  co_return cec;
}

namespace {

// ssl::host_name_verification only answers yes or no; on a mismatch this
// records OpenSSL's reason in the store context so the handshake's error
// says "hostname mismatch" instead of a bare "certificate verify failed".
class verify_host {
 public:
  verify_host(const std::string& host, bool is_ip) : check_(host), is_ip_(is_ip) {}
  bool operator()(bool preverified, ssl::verify_context& ctx) const {
    if (!preverified) return false;  // OpenSSL already recorded why (untrusted issuer, expired...)
    if (check_(preverified, ctx)) return true;
    X509_STORE_CTX_set_error(ctx.native_handle(),
                             is_ip_ ? X509_V_ERR_IP_ADDRESS_MISMATCH : X509_V_ERR_HOSTNAME_MISMATCH);
    return false;
  }

 private:
  ssl::host_name_verification check_;
  bool is_ip_;
};

}  // namespace

asio::awaitable<error_code> tls_handshake(tls_stream& s, const std::string& host, std::chrono::milliseconds limit) {
  error_code parse_ec;
  (void)asio::ip::make_address(host, parse_ec);
  const bool is_ip = !parse_ec;
  // SNI carries host names only (RFC 6066 forbids IP literals there).
  if (!is_ip && SSL_set_tlsext_host_name(s.native_handle(), host.c_str()) != 1)
    co_return error_code(static_cast<int>(ERR_get_error()), asio::error::get_ssl_category());
  // Set on the context already; repeated per stream so no stream can end up
  // unverified, whatever happens to the context.
  s.set_verify_mode(ssl::verify_peer);
  s.set_verify_callback(verify_host(host, is_ip));

  auto& tcp_layer = beast::get_lowest_layer(s);
  tcp_layer.expires_after(limit);
  auto [ec] = co_await s.async_handshake(ssl::stream_base::client, tok);
  tcp_layer.expires_never();
  if (ec) {
    const long verify = SSL_get_verify_result(s.native_handle());
    if (verify != X509_V_OK) co_return error_code(static_cast<int>(verify), tls_verify_category());
  }
  co_return ec;
}

}  // namespace signoff::net::detail
