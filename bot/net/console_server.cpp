// The audit console's HTTP/1.1 server: keep-alive, optional TLS, limits on
// what a client may send (431/413/408/400/405), and chunked streaming for
// exports. Everything about pages and sessions is the handler's.
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <array>
#include <iterator>
#include <limits>
#include <stdexcept>

#include "bot/net/detail.hpp"

namespace signoff::net {

using namespace detail;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using header_list = std::vector<std::pair<std::string, std::string>>;

namespace {

struct server_state : listener_state {
  server_state(asio::any_io_executor e, console_server_options opts, console_server::handler handler)
      : listener_state(std::move(e)), o(std::move(opts)), h(std::move(handler)) {}
  console_server_options o;
  console_server::handler h;
  std::unique_ptr<ssl::context> tls;  // null: plain HTTP
};

bool header_safe(std::string_view name, std::string_view value) {
  constexpr std::string_view ctl("\r\n\0", 3);
  return !name.empty() && name.find_first_of(" \t:") == std::string_view::npos &&
         name.find_first_of(ctl) == std::string_view::npos && value.find_first_of(ctl) == std::string_view::npos;
}

// The server alone frames the message: a handler's Content-Length or
// Transfer-Encoding could contradict the body actually sent.
bool is_framing(std::string_view name) {
  return beast::iequals(name, "content-length") || beast::iequals(name, "transfer-encoding") ||
         beast::iequals(name, "connection");
}

// Copies the handler's status and headers; false when one is unsafe.
template <class Body>
bool set_head(http::response<Body>& res, unsigned status, const header_list& headers) {
  // 1xx would promise a second response; nonsense codes are the handler's bug.
  res.result(status >= 200 && status <= 599 ? status : 500);
  for (const auto& [k, v] : headers) {
    if (!header_safe(k, v)) return false;
    if (!is_framing(k)) res.insert(k, v);
  }
  return true;
}

http::response<http::string_body> own_response(const server_state& s, unsigned status, std::string_view text,
                                               unsigned version) {
  http::response<http::string_body> res;
  res.version(version == 10 ? 10 : 11);
  set_head(res, status, s.o.own_headers);  // own_headers were checked at construction
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.body() = std::string(text) + "\n";
  res.prepare_payload();
  return res;
}

// Writes a whole message (or, with head_only, just its header) under the
// write deadline. The lowest layer's timer closes the socket when it fires:
// right for writes, which cannot be answered anyway.
template <class Stream, class Body>
asio::awaitable<error_code> send(Stream& st, http::response<Body>& res, std::chrono::seconds limit,
                                 bool head_only = false) {
  auto& low = beast::get_lowest_layer(st);
  low.expires_after(limit);
  error_code ec;
  if (head_only) {
    http::response_serializer<Body> sr(res);
    std::tie(ec, std::ignore) = co_await http::async_write_header(st, sr, tok);
  } else {
    std::tie(ec, std::ignore) = co_await http::async_write(st, res, tok);
  }
  low.expires_never();
  co_return ec;
}

// Closes after an error answer. Shutting down our side first and draining
// for a moment what the client still sends (a refused body) keeps the kernel
// from resetting the connection before the client has read the answer.
asio::awaitable<void> close_gently(beast::tcp_stream& low) {
  error_code ignored;
  low.socket().shutdown(tcp::socket::shutdown_send, ignored);
  std::array<char, 4096> sink{};
  std::size_t drained = 0;
  low.expires_after(std::chrono::seconds(1));
  while (drained < 256 * 1024) {
    auto [ec, n] = co_await low.async_read_some(asio::buffer(sink), tok);
    if (ec) break;
    drained += n;
  }
  low.close();
}

template <class Stream>
class stream_out final : public response_stream {
 public:
  stream_out(Stream& st, const server_state& s, unsigned version, bool keep_alive, bool head_only, bool& streamed)
      : st_(st), s_(s), version_(version), keep_alive_(keep_alive), head_only_(head_only), streamed_(streamed) {}

  asio::awaitable<bool> begin(console_response head) override {
    if (begun_ || broken_) co_return false;
    begun_ = true;
    streamed_ = true;
    http::response<http::empty_body> res;
    res.version(version_);
    if (!set_head(res, head.status, head.headers)) {
      // Still a clean answer: the head has not gone out yet.
      broken_ = true;
      auto err = own_response(s_, 500, "internal error", version_);
      co_await send(st_, err, s_.o.read_timeout);
      co_return false;
    }
    // HTTP/1.0 has no chunked encoding: the end of the body is the end of
    // the connection.
    if (version_ >= 11) {
      res.chunked(true);
    } else {
      keep_alive_ = false;
    }
    res.keep_alive(keep_alive_);
    if (auto ec = co_await send(st_, res, s_.o.read_timeout, true)) {
      broken_ = true;
      co_return false;
    }
    if (!head.body.empty() && !head_only_) co_return co_await write(std::move(head.body));
    co_return true;
  }

  asio::awaitable<bool> write(std::string chunk) override {
    if (!begun_ || broken_ || finished_ || head_only_) co_return false;
    if (chunk.empty()) co_return true;  // an empty chunk would end the body
    auto& low = beast::get_lowest_layer(st_);
    low.expires_after(s_.o.read_timeout);
    error_code ec;
    if (version_ >= 11) {
      std::tie(ec, std::ignore) = co_await asio::async_write(st_, http::make_chunk(asio::buffer(chunk)), tok);
    } else {
      std::tie(ec, std::ignore) = co_await asio::async_write(st_, asio::buffer(chunk), tok);
    }
    low.expires_never();
    if (ec) broken_ = true;
    co_return !ec;
  }

  asio::awaitable<bool> finish() override {
    if (!begun_ || broken_ || finished_) co_return false;
    finished_ = true;
    if (head_only_ || version_ < 11) co_return true;
    auto& low = beast::get_lowest_layer(st_);
    low.expires_after(s_.o.read_timeout);
    auto [ec, n] = co_await asio::async_write(st_, http::make_chunk_last(), tok);
    low.expires_never();
    if (ec) broken_ = true;
    co_return !ec;
  }

  bool begun() const { return begun_; }
  // The whole body went out and the connection may serve another request.
  bool reusable() const { return begun_ && finished_ && !broken_ && keep_alive_; }

 private:
  Stream& st_;
  const server_state& s_;
  unsigned version_;
  bool keep_alive_;
  bool head_only_;
  bool& streamed_;
  bool begun_ = false;
  bool finished_ = false;
  bool broken_ = false;
};

// The read deadline cancels the socket's pending read instead of closing
// it (as tcp_stream's own timer would), so a 408 can still be written.
struct read_watch {
  bool reading = true;
  bool timed_out = false;
};

console_request request_of(const http::request<http::string_body>& req, bool tls) {
  console_request r;
  r.method = req.method() == http::verb::post ? "POST" : "GET";  // HEAD is answered as GET
  r.target = std::string(req.target());
  for (const auto& f : req) {
    const std::string_view v(f.value().data(), f.value().size());
    switch (f.name()) {
      case http::field::cookie:
        if (!r.cookie.empty()) r.cookie += "; ";
        r.cookie += v;
        break;
      case http::field::content_type: r.content_type = v; break;
      case http::field::origin: r.origin = v; break;
      case http::field::host: r.host = v; break;
      default:
        if (beast::iequals(f.name_string(), "sec-fetch-site")) r.sec_fetch_site = v;
        break;
    }
  }
  r.body = req.body();
  r.tls = tls;
  return r;
}

template <class Stream>
asio::awaitable<void> serve(std::shared_ptr<server_state> s, std::shared_ptr<Stream> stream, bool tls) {
  auto& low = beast::get_lowest_layer(*stream);
  beast::flat_buffer buffer;
  const auto& o = s->o;
  while (!s->stopped) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(o.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    parser.body_limit(o.max_body);

    auto watch = std::make_shared<read_watch>();
    asio::steady_timer deadline(s->ex);
    deadline.expires_after(o.read_timeout);
    deadline.async_wait([watch, weak = std::weak_ptr<Stream>(stream)](error_code ec) {
      if (ec || !watch->reading) return;
      watch->timed_out = true;
      if (auto st = weak.lock()) beast::get_lowest_layer(*st).cancel();
    });

    unsigned refuse = 0;  // an error status to answer with, then close
    const char* why = "";
    auto [ec, n] = co_await http::async_read_header(*stream, buffer, parser, tok);
    if (!ec) {
      const auto& h = parser.get();
      if (static_cast<std::size_t>(std::distance(h.begin(), h.end())) > o.max_headers) {
        refuse = 431, why = "too many header fields";
      } else {  // Beast itself refuses versions other than 1.0 and 1.1 (bad_version: 400)
        if (h.version() >= 11 && beast::iequals(h[http::field::expect], "100-continue")) {
          // curl and others wait for this before sending a body.
          http::response<http::empty_body> go{http::status::continue_, 11};
          if (auto wec = co_await send(*stream, go, o.read_timeout)) ec = wec;
        }
        if (!ec) std::tie(ec, n) = co_await http::async_read(*stream, buffer, parser, tok);
      }
    }
    watch->reading = false;
    deadline.cancel();
    if (s->stopped) break;

    if (ec && !refuse) {
      if (watch->timed_out) {
        // An idle keep-alive connection just ends; a started request hears why.
        if (!parser.got_some() && buffer.size() == 0) break;
        refuse = 408, why = "request timeout";
      } else if (ec == http::error::header_limit) {
        refuse = 431, why = "request header fields too large";
      } else if (ec == http::error::body_limit) {
        refuse = 413, why = "request body too large";
      } else if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
                 ec.category() != http::make_error_code(http::error::bad_method).category()) {
        break;  // the client went away, or the server is stopping
      } else {
        refuse = 400, why = "bad request";
      }
    }
    const unsigned version = parser.is_header_done() && parser.get().version() == 10 ? 10 : 11;
    if (refuse) {
      auto res = own_response(*s, refuse, why, version);
      res.keep_alive(false);
      if (!co_await send(*stream, res, o.read_timeout)) co_await close_gently(low);
      co_return;
    }

    auto& req = parser.get();
    const auto method = req.method();
    const bool keep_alive = req.keep_alive();
    if (method != http::verb::get && method != http::verb::head && method != http::verb::post) {
      auto res = own_response(*s, 405, "method not allowed", version);
      res.set(http::field::allow, "GET, HEAD, POST");
      res.keep_alive(keep_alive);
      if (co_await send(*stream, res, o.read_timeout) || !keep_alive) break;
      continue;
    }

    const bool head_only = method == http::verb::head;
    bool streamed = false;
    bool failed = false;
    stream_out<Stream> out(*stream, *s, version, keep_alive, head_only, streamed);
    console_response r;
    try {
      auto h = s->h;  // a copy: nothing the handler does can free it
      r = co_await h(request_of(req, tls), out, streamed);
    } catch (const std::exception&) {
      failed = true;  // its text may hold anything: never sent
    }
    if (s->stopped) break;
    if (out.begun()) {
      if (failed || !out.reusable()) break;  // unterminated body: the client must see a failure
      continue;
    }
    http::response<http::string_body> res;
    res.version(version);
    if (failed || streamed || !set_head(res, r.status, r.headers)) {
      res = own_response(*s, 500, "internal error", version);
    } else {
      if (res.result() == http::status::no_content || res.result() == http::status::not_modified) r.body.clear();
      res.body() = std::move(r.body);
      res.prepare_payload();
    }
    res.keep_alive(keep_alive);
    if (co_await send(*stream, res, o.read_timeout, head_only) || !keep_alive) break;
  }
  error_code ignored;
  low.socket().shutdown(tcp::socket::shutdown_send, ignored);
  low.close();
}

asio::awaitable<void> serve_tls(std::shared_ptr<server_state> s, std::shared_ptr<tls_stream> stream) {
  auto& low = beast::get_lowest_layer(*stream);
  low.expires_after(s->o.read_timeout);
  auto [ec] = co_await stream->async_handshake(ssl::stream_base::server, tok);
  low.expires_never();
  if (ec || s->stopped) {
    low.close();
    co_return;
  }
  co_await serve(s, stream, true);
}

asio::awaitable<void> accept_loop(std::shared_ptr<server_state> s) {
  while (!s->stopped) {
    auto socket = co_await accept_or_pause(s->acceptor);
    if (s->stopped) break;
    if (!socket) continue;
    error_code ignored;
    // Small chunks of a streamed export must not wait for delayed ACKs.
    socket->set_option(tcp::no_delay(true), ignored);
    if (s->tls) {
      auto st = std::make_shared<tls_stream>(std::move(*socket), *s->tls);
      s->track(std::shared_ptr<beast::tcp_stream>(st, &beast::get_lowest_layer(*st)));  // aliasing: owns st
      asio::co_spawn(s->ex, serve_tls(s, std::move(st)), asio::detached);
    } else {
      auto st = std::make_shared<beast::tcp_stream>(std::move(*socket));
      s->track(st);
      asio::co_spawn(s->ex, serve(s, std::move(st), false), asio::detached);
    }
  }
}

// The server's certificate chain and key. OpenSSL's reasons name what is
// wrong ("no start line", "key values mismatch") without quoting the file.
std::unique_ptr<ssl::context> server_tls(const std::string& cert_file, const std::string& key_file) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  auto fail = [&](const std::string& what, const error_code& ec) {
    ERR_clear_error();
    throw std::runtime_error("console: " + what + (ec ? ": " + ec.message() : std::string()));
  };
  if (SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION) != 1)
    fail("cannot require TLS 1.2 or later", {});
  // An encrypted key would otherwise make OpenSSL prompt on the terminal.
  ctx->set_password_callback([](std::size_t, ssl::context::password_purpose) { return std::string(); });
  error_code ec;
  ctx->use_certificate_chain_file(cert_file, ec);
  if (ec) fail("cannot load certificate file '" + cert_file + "'", ec);
  ctx->use_private_key_file(key_file, ssl::context::pem, ec);
  const auto mismatch = [&] {
    return ec.category() == asio::error::get_ssl_category() &&
           ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH;
  };
  if (ec && !mismatch()) fail("cannot load key file '" + key_file + "' (PEM, unencrypted)", ec);
  if (ec || SSL_CTX_check_private_key(ctx->native_handle()) != 1)
    fail("key file '" + key_file + "' does not match certificate file '" + cert_file + "'", {});
  return ctx;
}

}  // namespace

struct console_server::impl {
  std::shared_ptr<server_state> s;
};

console_server::console_server(asio::any_io_executor ex, console_server_options o, handler h)
    : impl_(std::make_unique<impl>()) {
  for (const auto& [k, v] : o.own_headers)
    if (!header_safe(k, v)) throw std::invalid_argument("console: an own_headers entry is not a valid header");
  if (o.cert_file.empty() != o.key_file.empty())
    throw std::runtime_error("console: cert_file and key_file go together: set both for TLS, or neither");
  impl_->s = std::make_shared<server_state>(std::move(ex), std::move(o), std::move(h));
  auto& s = *impl_->s;
  if (!s.o.cert_file.empty()) s.tls = server_tls(s.o.cert_file, s.o.key_file);
  s.port = listen_on(s.acceptor, s.o.listen, "console");
}

console_server::~console_server() { stop(); }

std::uint16_t console_server::port() const { return impl_->s->port; }

void console_server::start() {
  if (impl_->s->begin()) asio::co_spawn(impl_->s->ex, accept_loop(impl_->s), asio::detached);
}

void console_server::stop() { impl_->s->stop(); }

}  // namespace signoff::net
