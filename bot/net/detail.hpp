#pragma once
// Internal to bot/net: the Beast types and the connection steps that the
// HTTP and websocket clients share. Adapters include net.hpp only.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bot/net/net.hpp"

#ifndef SIGNOFF_VERSION
#error "SIGNOFF_VERSION must be defined (CMake sets it on signoff_net)"
#endif

namespace signoff::net::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
using boost::system::error_code;

// 1.81 has no default completion token; as_tuple hands errors back as values
// (ARCHITECTURE "Async with Boost 1.81").
inline constexpr auto tok = asio::as_tuple(asio::use_awaitable);

using tls_stream = beast::ssl_stream<beast::tcp_stream>;

inline constexpr const char* user_agent = "signoff/" SIGNOFF_VERSION;

asio::ssl::context& ssl_context(const tls_context& tls);

// Plain http/ws only to a loopback host: a token must never cross a network
// in the clear.
inline bool transport_allowed(const url& u) { return u.tls() || is_loopback_host(u.host); }

// Resolves u.host:u.port and connects to the first endpoint that answers;
// DNS and TCP connect share the one `limit`. A timeout is beast::error::timeout.
// Leaves the stream's timer disarmed.
asio::awaitable<error_code> connect_tcp(beast::tcp_stream& s, const url& u, std::chrono::milliseconds limit);

// Client TLS handshake on a connected stream within `limit`: SNI for host
// names, peer verification and the host-name check (IP SANs for IP literals).
// A rejected certificate comes back in tls_verify_category() with OpenSSL's
// reason, so a log line says why. Leaves the stream's timer disarmed.
asio::awaitable<error_code> tls_handshake(tls_stream& s, const std::string& host, std::chrono::milliseconds limit);

// The listeners (http_server, console_server) share these.
// Opens, binds (SO_REUSEADDR, so a restart need not wait out TIME_WAIT) and
// listens on `listen`: "127.0.0.1:9470", "[::1]:9470", "localhost:0".
// Returns the bound port. Throws std::runtime_error "<what>: cannot listen
// on <listen> (<step>): <reason>".
std::uint16_t listen_on(asio::ip::tcp::acceptor& a, const std::string& listen, std::string_view what);
// The next accepted socket; nullopt after a failed accept (out of
// descriptors, or the acceptor closed), which first waits 100 ms so that an
// accept loop never spins.
asio::awaitable<std::optional<asio::ip::tcp::socket>> accept_or_pause(asio::ip::tcp::acceptor& a);

// What a listener shares with its accept loop and its connections, which
// hold it by shared_ptr: stopping or destroying the server frees nothing
// they use. On the executor's thread only.
struct listener_state {
  explicit listener_state(asio::any_io_executor e) : ex(std::move(e)), acceptor(ex) {}
  asio::any_io_executor ex;
  asio::ip::tcp::acceptor acceptor;
  std::uint16_t port = 0;
  bool stopped = false;

  // True on the first call before stop(): the caller then spawns its accept loop.
  bool begin() {
    if (started_ || stopped) return false;
    started_ = true;
    return true;
  }
  // Remembers an accepted connection so that stop() can close it.
  void track(const std::shared_ptr<beast::tcp_stream>& c) {
    std::erase_if(connections_, [](const auto& w) { return w.expired(); });
    connections_.push_back(c);
  }
  // Closes the acceptor and every open connection (their pending operations
  // fail at once); later calls do nothing.
  void stop() {
    if (stopped) return;
    stopped = true;
    error_code ignored;
    acceptor.close(ignored);
    for (auto& w : connections_)
      if (auto c = w.lock()) c->close();
    connections_.clear();
  }

 private:
  bool started_ = false;
  std::vector<std::weak_ptr<beast::tcp_stream>> connections_;
};

}  // namespace signoff::net::detail
