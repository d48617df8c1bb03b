#pragma once
// Internal to bot/net: the Beast types and the connection steps that the
// HTTP and websocket clients share. Adapters include net.hpp only.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <string>

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

}  // namespace signoff::net::detail
