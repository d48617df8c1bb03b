#pragma once
// Network transport for the platform adapters: an HTTPS (or loopback HTTP)
// client that keeps its connection alive between requests, and a secure
// websocket client. Both verify certificates against the system trust store
// plus an optional extra CA file, send SNI and check the host name; there is
// no switch that turns verification off. Every connect, TLS handshake and
// HTTP exchange has a deadline. Beast stays out of this header: adapters
// include it; bot/net/*.cpp implement it (Asio/Beast compiled once in
// asio_beast.cpp, shared steps in detail.hpp).
//
// Threading: every object here belongs to one executor (the adapters' single
// io_context thread) and must be used only from coroutines running on it.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace signoff::net {

// A parsed http(s)/ws(s) URL. `target` is path + query ("/" when empty).
struct url {
  std::string scheme;  // https | http | wss | ws
  std::string host;    // without brackets for IPv6 literals
  std::string port;    // explicit or the scheme's default
  std::string target;
  bool tls() const { return scheme == "https" || scheme == "wss"; }
  std::string origin() const;     // scheme://host:port
  std::string authority() const;  // host[:port] for a Host header: port only when not the default
};
// Nullopt when the text is not an absolute http/https/ws/wss URL.
std::optional<url> parse_url(std::string_view text);
// True for 127.0.0.1, ::1 and localhost: the only hosts plain http/ws may use.
bool is_loopback_host(std::string_view host);

// A platform's configured API base (`key` names it in errors, e.g.
// "discord.api_base"): an https URL, or http on a loopback host for local
// testing. `prefix` is its path, ending in '/'. Throws std::runtime_error
// naming the key otherwise.
struct api_base {
  url origin;
  std::string prefix;  // "/api/v10/"
  // A URL the platform handed us (a websocket URL, a response URL) may be
  // plain ws/http only when the API base itself is plain http on loopback.
  bool may_use(const url& u) const { return u.tls() || (!origin.tls() && is_loopback_host(u.host)); }
};
api_base parse_api_base(std::string_view key, const std::string& text);

struct timeouts {
  std::chrono::milliseconds connect{10'000};    // DNS + TCP connect
  std::chrono::milliseconds handshake{10'000};  // TLS and websocket handshakes
  std::chrono::milliseconds exchange{15'000};   // one HTTP request + response
  std::chrono::milliseconds ws_idle{30'000};    // websocket: no frame for this long -> ping, then close
};

// TLS settings shared by every connection of one adapter.
class tls_context {
 public:
  // Loads the system trust store and, when `ca_file` is not empty, that PEM
  // file too. Throws std::runtime_error naming the file when it cannot be read.
  explicit tls_context(const std::string& ca_file);
  ~tls_context();
  tls_context(const tls_context&) = delete;
  tls_context& operator=(const tls_context&) = delete;
  void* native() const;  // boost::asio::ssl::context*, for bot/net/*.cpp only

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Certificate verification failures of a TLS handshake (untrusted issuer,
// expired, host name mismatch...). value() is OpenSSL's X509_V_ERR_* code;
// message() names the reason, e.g. "TLS certificate verification failed:
// hostname mismatch". Other handshake failures keep their SSL error codes.
const boost::system::error_category& tls_verify_category();

struct http_request {
  std::string method = "POST";
  std::string target;          // path + query on the client's origin
  std::string content_type;    // e.g. "application/json; charset=utf-8"
  std::string body;
  std::string bearer;          // Authorization: Bearer <bearer> when not empty; never logged
  // The whole Authorization value when the scheme is not Bearer (Discord:
  // "Bot <token>"); wins over `bearer`. Never logged.
  std::string authorization;
  std::string user_agent;      // '' = "signoff/<version>" (Discord wants "DiscordBot (url, version)")
};

struct http_response {
  unsigned status = 0;
  std::string body;
  std::optional<std::chrono::seconds> retry_after;  // from a Retry-After header (seconds form)
  // Every response header, names in lower case, in the order received
  // (Discord's X-RateLimit-* family is read from here).
  std::vector<std::pair<std::string, std::string>> headers;
  // The first header named `lower_name` (lower case), nullptr when absent.
  const std::string* header(std::string_view lower_name) const {
    for (const auto& [k, v] : headers)
      if (k == lower_name) return &v;
    return nullptr;
  }
};

// A keep-alive HTTP/1.1 client for one origin (scheme, host, port). Requests
// are serialised: a second request waits for the first. A broken or timed-out
// connection is dropped and the next request reconnects. When a reused
// connection turns out to be closed by the peer before any response byte
// (write fails, or the read ends at once), the request is sent once more on a
// fresh connection; never after a response began. Errors come back as values
// (error_code), never as exceptions; timeouts are beast::error::timeout.
class http_client {
 public:
  // `origin` must be https, or http on a loopback host (else every request
  // fails with boost::asio::error::access_denied).
  http_client(boost::asio::any_io_executor ex, const tls_context& tls, url origin, timeouts t = {});
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  boost::asio::awaitable<std::pair<boost::system::error_code, http_response>> request(http_request req);
  // Closes the connection (the next request reconnects).
  void close();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// A connected websocket (wss, or ws on a loopback host). Text messages only.
// One read and one write may be outstanding at the same time; callers
// serialise their writes. Pings are answered automatically; keep-alive pings
// are sent after half the idle timeout and the socket is closed (read fails
// with beast::error::timeout) when nothing arrives for the whole timeout.
class ws_client {
 public:
  ~ws_client();
  ws_client(const ws_client&) = delete;
  ws_client& operator=(const ws_client&) = delete;

  // Resolves, connects, TLS-handshakes (SNI + host-name check) and performs
  // the websocket handshake on `u`, each step under its timeout.
  // `authorization`, when not empty, is the upgrade request's whole
  // Authorization value (Mattermost: "Bearer <token>"); never logged.
  static boost::asio::awaitable<std::pair<boost::system::error_code, std::unique_ptr<ws_client>>>
  connect(boost::asio::any_io_executor ex, const tls_context& tls, url u, timeouts t = {},
          std::size_t max_message = 1 << 20, std::string_view authorization = {});

  // Reads one whole message into `out` (replacing its content). A message
  // over max_message fails with beast::websocket::error::message_too_big
  // (the link is then closed with 1009); a close frame fails with
  // websocket::error::closed (see close_code()).
  boost::asio::awaitable<boost::system::error_code> read(std::string& out);
  boost::asio::awaitable<boost::system::error_code> write(std::string_view text);
  // Sends a close frame with `code` and waits (bounded by the handshake
  // timeout) for the peer's; then the socket is shut.
  boost::asio::awaitable<boost::system::error_code> close(std::uint16_t code);
  // Cancels outstanding operations and closes the TCP socket at once.
  void abort();
  // The close code the peer sent, 0 when none was received.
  std::uint16_t close_code() const;

 private:
  ws_client();
  struct impl;
  std::unique_ptr<impl> impl_;
};

// A tiny HTTP/1.1 server for /healthz and /metrics (plain HTTP on the
// configured listen address, one request per connection). GET requests go
// to `handler(target)`, which returns {status, content_type, body}; POST
// requests go to the route registered for their path (Mattermost's button
// clicks), any other method or path is refused (405 / 404).
struct http_reply {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};
class http_server {
 public:
  using handler = std::function<http_reply(std::string_view target)>;
  // A POST route: the request body (at most 64 KiB) in, the reply out. It
  // must answer within a few seconds: the connection's deadline is 10 s.
  using post_handler = std::function<boost::asio::awaitable<http_reply>(std::string body)>;
  // Binds `listen` ("host:port", port 0 picks one). Throws std::runtime_error
  // naming the address when it cannot bind.
  http_server(boost::asio::any_io_executor ex, const std::string& listen, handler h);
  ~http_server();
  std::uint16_t port() const;
  // POST `path` (exact, query ignored) goes to `h`. On the executor's
  // thread; a request that comes before its route is added gets 405.
  void route_post(std::string path, post_handler h);
  // Starts accepting (spawns its accept loop on the executor).
  void start();
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// ---------------------------------------------------------------------------
// The audit console's HTTP/1.1 server (SPEC "Audit console"): keep-alive,
// TLS when a certificate is configured, strict limits on what a client may
// send, and streamed (chunked) answers for exports. It knows nothing about
// pages, sessions or security headers: the handler supplies every header of
// its responses, and `own_headers` go on the answers the server makes itself.

struct console_request {
  std::string method, target;  // method: GET or POST (a HEAD arrives as GET); target: path + query as received
  // Header values as received ('' when absent); several Cookie headers are
  // joined with "; ".
  std::string cookie, content_type, origin, sec_fetch_site, host;
  std::string body;  // at most console_server_options::max_body bytes
  bool tls = false;  // the connection is TLS
};

struct console_response {
  unsigned status = 200;
  // Set-Cookie, Location, Content-Type, the security headers... The server
  // owns the framing: Content-Length, Transfer-Encoding and Connection given
  // here are ignored. A name or value holding CR, LF or NUL turns the whole
  // answer into a 500 (no header injection).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// A streamed answer (export). The handler calls begin() once, write() for
// each piece, then finish(). The body goes out chunked (close-delimited to an
// HTTP/1.0 client, such as a default nginx proxy). A handler that returns or
// throws without finish() leaves the body unterminated and the connection is
// closed, so the client sees a failed download, never a silently short file.
class response_stream {
 public:
  virtual ~response_stream() = default;
  // Sends the status line and head.headers (framing headers ignored, as in
  // console_response) and head.body, when not empty, as the first piece. Sets
  // the handler's `streamed`. False: the client went away, or begin() was
  // already called.
  virtual boost::asio::awaitable<bool> begin(console_response head) = 0;
  // Sends one piece (empty pieces are skipped). False: the client went away
  // (or stopped reading for read_timeout), begin() was not called, the
  // request was HEAD (nothing but the head is sent), or finish() came first.
  // After false, stop writing.
  virtual boost::asio::awaitable<bool> write(std::string chunk) = 0;
  // Ends the body (the last chunk); false as for write().
  virtual boost::asio::awaitable<bool> finish() = 0;
};

struct console_server_options {
  std::string listen;               // host:port, port 0 picks
  std::string cert_file, key_file;  // both or neither: TLS (PEM; chain allowed in cert_file)
  // Past these a request is answered 431 (header bytes, header count) or 413
  // (body) and the connection closed.
  std::size_t max_header_bytes = 8192, max_headers = 64, max_body = 16384;
  // A request (or a TLS handshake) not complete this long after the server
  // began waiting for it gets 408 and the connection is closed; an idle
  // keep-alive connection is closed silently. Each write of a response has
  // the same deadline.
  std::chrono::seconds read_timeout{10};
  // Added to every answer the server makes itself (400, 405, 408, 413, 431,
  // 500), e.g. the console's Content-Security-Policy.
  std::vector<std::pair<std::string, std::string>> own_headers;
};

class console_server {
 public:
  // The handler either returns a complete response, or answers through the
  // stream (response_stream::begin sets `streamed`; the returned value is then
  // ignored). It runs on the executor `ex`, one request at a time per
  // connection. An exception from it is a 500 (or, mid-stream, a closed
  // connection); its text is never sent.
  using handler = std::function<boost::asio::awaitable<console_response>(console_request, response_stream&,
                                                                        bool& streamed)>;
  // Binds `o.listen` and, with TLS, loads the certificate chain and key and
  // checks that they match. Throws std::runtime_error naming the address or
  // the file and the reason (never key bytes).
  console_server(boost::asio::any_io_executor ex, console_server_options o, handler h);
  ~console_server();  // stop()
  console_server(const console_server&) = delete;
  console_server& operator=(const console_server&) = delete;
  std::uint16_t port() const;
  // Starts accepting (spawns the accept loop on the executor).
  void start();
  // Closes the listener and every open connection; a handler still running
  // finishes, and its writes return false. On the executor's thread.
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace signoff::net
