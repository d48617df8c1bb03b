// The keep-alive HTTP/1.1 client: one connection per origin, requests one
// at a time, one transparent reconnect when a reused connection turns out to
// have been closed by the peer.
#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <cctype>
#include <limits>

#include "bot/net/detail.hpp"

namespace signoff::net {

using namespace detail;
namespace http = beast::http;

namespace {

// Chat APIs answer with small JSON documents; anything near this is a fault.
constexpr std::uint64_t max_response_body = 16 * 1024 * 1024;

using request_message = http::request<http::string_body>;
using response_message = http::response<http::string_body>;

// How a peer that closed an idle keep-alive connection shows up on the next
// request: the write fails, or the read ends before the first response byte.
bool stale_connection(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::connection_aborted || ec == asio::error::broken_pipe ||
         ec == asio::ssl::error::stream_truncated;
}

// Retry-After in its delta-seconds form; the HTTP-date form is ignored.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  if (v.empty() || v.size() > 9) return std::nullopt;  // 9 digits: over 31 years, no overflow
  long long n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return std::chrono::seconds(n);
}

// Request-line and header text must not be able to start a new header line.
bool header_safe(std::string_view s) {
  for (char c : s)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}
bool target_safe(std::string_view s) {
  if (s.empty() || s.front() != '/') return false;
  for (char c : s)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
  return true;
}

struct exchange_result {
  error_code ec;
  response_message res;
  bool response_started = false;  // a response byte arrived: never resend then
};

// One request + response under one deadline.
template <class Stream>
asio::awaitable<exchange_result> exchange(Stream& stream, beast::flat_buffer& buffer, const request_message& req,
                                          std::chrono::milliseconds limit) {
  exchange_result out;
  auto& tcp_layer = beast::get_lowest_layer(stream);
  tcp_layer.expires_after(limit);
  auto [wec, written] = co_await http::async_write(stream, req, tok);
  if (wec) {
    out.ec = wec;
    co_return out;
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_response_body);
  if (req.method() == http::verb::head) parser.skip(true);
  auto [rec, read] = co_await http::async_read(stream, buffer, parser, tok);
  // A stream timer left armed with no operation pending fails the next one.
  tcp_layer.expires_never();
  out.response_started = read > 0 || buffer.size() > 0;
  out.ec = rec;
  if (!rec) out.res = parser.release();
  co_return out;
}

// Everything a request needs lives here and is shared by the request
// coroutines, so destroying the http_client mid-request is safe: the
// coroutines finish (with errors) on their own copy.
struct client_state {
  client_state(asio::any_io_executor e, asio::ssl::context& c, url o, timeouts to)
      : ex(std::move(e)), ctx(c), origin(std::move(o)), t(to), gate(ex) {
    gate.expires_at(asio::steady_timer::time_point::max());
  }

  asio::any_io_executor ex;
  asio::ssl::context& ctx;  // the adapter's tls_context outlives its clients
  url origin;
  timeouts t;

  // At most one of these exists; only the request holding the lock creates
  // or destroys them (close() merely shuts the socket), so no stream is
  // destroyed under a pending operation.
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<tls_stream> secure;
  bool connected = false;  // the connection may be reused
  beast::flat_buffer buffer;

  // Serialisation: waiters park on `gate` (it never expires); release()
  // wakes them all by cancelling their waits and the first to run takes the
  // turn (a handful of queued requests at most, and a waiter that was itself
  // cancelled cannot swallow the only wake-up).
  asio::steady_timer gate;
  bool busy = false;
  bool closed = false;  // the http_client is gone

  void shut() {
    connected = false;
    error_code ignored;
    if (plain) plain->socket().close(ignored);
    if (secure) beast::get_lowest_layer(*secure).socket().close(ignored);
  }
  void release() {
    busy = false;
    gate.cancel();
  }
};

struct lock_guard {
  std::shared_ptr<client_state> s;
  ~lock_guard() { s->release(); }
};

asio::awaitable<error_code> acquire(std::shared_ptr<client_state> s) {
  while (s->busy) {
    auto [woken] = co_await s->gate.async_wait(tok);
    (void)woken;  // always operation_aborted: the gate never expires
    if (s->closed) co_return asio::error::operation_aborted;
  }
  s->busy = true;
  co_return error_code{};
}

asio::awaitable<error_code> connect(std::shared_ptr<client_state> s) {
  s->shut();
  s->plain.reset();
  s->secure.reset();
  s->buffer.clear();
  if (s->closed) co_return asio::error::operation_aborted;
  if (s->origin.tls()) {
    s->secure = std::make_unique<tls_stream>(s->ex, s->ctx);
    error_code ec = co_await connect_tcp(beast::get_lowest_layer(*s->secure), s->origin, s->t.connect);
    if (!ec && !s->closed) ec = co_await tls_handshake(*s->secure, s->origin.host, s->t.handshake);
    if (ec) co_return ec;
  } else {
    s->plain = std::make_unique<beast::tcp_stream>(s->ex);
    const error_code ec = co_await connect_tcp(*s->plain, s->origin, s->t.connect);
    if (ec) co_return ec;
  }
  // Destroyed meanwhile: do not send a request nobody waits for.
  if (s->closed) co_return asio::error::operation_aborted;
  s->connected = true;
  co_return error_code{};
}

asio::awaitable<exchange_result> exchange_on(const std::shared_ptr<client_state>& s, const request_message& req) {
  if (s->secure) co_return co_await exchange(*s->secure, s->buffer, req, s->t.exchange);
  co_return co_await exchange(*s->plain, s->buffer, req, s->t.exchange);
}

asio::awaitable<std::pair<error_code, http_response>> run(std::shared_ptr<client_state> s, http_request r) {
  using result = std::pair<error_code, http_response>;
  if (s->origin.scheme != "https" && s->origin.scheme != "http") co_return result{asio::error::invalid_argument, {}};
  if (!transport_allowed(s->origin)) co_return result{asio::error::access_denied, {}};
  const auto verb = http::string_to_verb(r.method);
  const std::string target = r.target.empty() ? std::string("/") : std::move(r.target);
  if (verb == http::verb::unknown || !target_safe(target) || !header_safe(r.bearer) ||
      !header_safe(r.authorization) || !header_safe(r.user_agent) || !header_safe(r.content_type))
    co_return result{asio::error::invalid_argument, {}};

  request_message req{verb, target, 11};
  req.set(http::field::host, s->origin.authority());
  req.set(http::field::user_agent, r.user_agent.empty() ? std::string(user_agent) : r.user_agent);
  if (!r.authorization.empty()) req.set(http::field::authorization, r.authorization);
  else if (!r.bearer.empty()) req.set(http::field::authorization, "Bearer " + r.bearer);
  if (!r.content_type.empty()) req.set(http::field::content_type, r.content_type);
  req.body() = std::move(r.body);
  req.keep_alive(true);
  req.prepare_payload();

  const error_code not_locked = co_await acquire(s);
  if (not_locked) co_return result{not_locked, {}};
  lock_guard lock{s};

  const bool reused = s->connected;
  if (!reused) {
    const error_code ec = co_await connect(s);
    if (ec) {
      s->shut();
      co_return result{ec, {}};
    }
  }
  auto x = co_await exchange_on(s, req);
  // The peer closed the idle connection before it saw this request: send it
  // once more on a fresh connection. Never after a response began (the
  // server may have acted on it), never twice, never on a fresh connection.
  if (x.ec && reused && !x.response_started && stale_connection(x.ec)) {
    const error_code ec = co_await connect(s);
    if (ec) {
      s->shut();
      co_return result{ec, {}};
    }
    x = co_await exchange_on(s, req);
  }
  if (x.ec) {
    s->shut();  // a half-done exchange leaves the connection unusable
    co_return result{x.ec, {}};
  }
  if (!x.res.keep_alive()) s->shut();

  http_response out;
  out.status = x.res.result_int();
  out.body = std::move(x.res.body());
  for (const auto& f : x.res) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers.emplace_back(std::move(name), std::string(f.value()));
  }
  if (auto it = x.res.find(http::field::retry_after); it != x.res.end())
    out.retry_after = parse_retry_after(std::string_view(it->value().data(), it->value().size()));
  co_return result{error_code{}, std::move(out)};
}

}  // namespace

struct http_client::impl {
  std::shared_ptr<client_state> s;
};

http_client::http_client(asio::any_io_executor ex, const tls_context& tls, url origin, timeouts t)
    : impl_(std::make_unique<impl>()) {
  impl_->s = std::make_shared<client_state>(std::move(ex), ssl_context(tls), std::move(origin), t);
}

http_client::~http_client() {
  impl_->s->closed = true;
  impl_->s->shut();
  impl_->s->gate.cancel();  // waiters see `closed` and give up
}

asio::awaitable<std::pair<error_code, http_response>> http_client::request(http_request req) {
  return run(impl_->s, std::move(req));
}

void http_client::close() { impl_->s->shut(); }

}  // namespace signoff::net
