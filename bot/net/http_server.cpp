// The health/metrics endpoint: plain HTTP, GET (and the POST routes
// adapters register), one request per connection, each connection under a
// short deadline so a slow client cannot hold it open.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <map>
#include <stdexcept>

#include "bot/net/detail.hpp"

namespace signoff::net {

using namespace detail;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::chrono::seconds connection_deadline{10};

// Shared with the accept loop and every connection coroutine, so stopping or
// destroying the http_server never frees what they use.
struct server_state : listener_state {
  server_state(asio::any_io_executor e, std::string l, http_server::handler handler)
      : listener_state(std::move(e)), listen(std::move(l)), h(std::move(handler)) {}
  std::string listen;
  http_server::handler h;
  std::map<std::string, http_server::post_handler, std::less<>> posts;
};

http::response<http::string_body> response_of(http_reply r) {
  http::response<http::string_body> res;
  res.version(11);
  res.set(http::field::server, user_agent);
  res.keep_alive(false);
  res.result(r.status > 999 ? 500 : r.status);
  res.set(http::field::content_type, r.content_type);
  res.body() = std::move(r.body);
  return res;
}

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

asio::awaitable<http::response<http::string_body>> answer(std::shared_ptr<server_state> s,
                                                          http::request<http::string_body>& req) {
  const std::string_view target(req.target().data(), req.target().size());
  http::response<http::string_body> res;
  if (req.method() == http::verb::get) {
    http_reply r;
    try {
      r = s->h(target);
    } catch (const std::exception&) {
      // A failing health probe must answer, not take the process down.
      r = http_reply{500, "text/plain; charset=utf-8", "internal error\n"};
    }
    res = response_of(std::move(r));
  } else if (auto it = s->posts.find(path_of(target)); it != s->posts.end()) {
    if (req.method() == http::verb::post) {
      auto h = it->second;  // a copy: a route added meanwhile cannot free it
      std::string body = std::move(req.body());
      http_reply r;
      try {
        r = co_await h(std::move(body));
      } catch (const std::exception&) {
        r = http_reply{500, "text/plain; charset=utf-8", "internal error\n"};
      }
      res = response_of(std::move(r));
    } else {
      res = response_of(http_reply{405, "text/plain; charset=utf-8", "method not allowed\n"});
      res.set(http::field::allow, "POST");
    }
  } else {
    res = response_of(http_reply{405, "text/plain; charset=utf-8", "method not allowed\n"});
    res.set(http::field::allow, "GET");
  }
  res.prepare_payload();
  co_return res;
}

asio::awaitable<void> serve(std::shared_ptr<server_state> s, std::shared_ptr<beast::tcp_stream> stream) {
  beast::flat_buffer buffer;
  http::request_parser<http::string_body> parser;
  parser.body_limit(64 * 1024);
  stream->expires_after(connection_deadline);
  auto [rec, n] = co_await http::async_read(*stream, buffer, parser, tok);
  if (!rec && !s->stopped) {
    auto res = co_await answer(s, parser.get());
    if (!s->stopped) {
      stream->expires_after(connection_deadline);
      auto [wec, written] = co_await http::async_write(*stream, res, tok);
      error_code ignored;
      if (!wec) stream->socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
  }
  stream->close();
}

asio::awaitable<void> accept_loop(std::shared_ptr<server_state> s) {
  while (!s->stopped) {
    auto socket = co_await accept_or_pause(s->acceptor);
    if (s->stopped) break;
    if (!socket) continue;
    auto stream = std::make_shared<beast::tcp_stream>(std::move(*socket));
    s->track(stream);
    asio::co_spawn(s->ex, serve(s, std::move(stream)), asio::detached);
  }
}

}  // namespace

namespace detail {

namespace {

std::optional<tcp::endpoint> parse_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string host = listen.substr(0, colon);
  const std::string port = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const unsigned long p = std::stoul(port);
  if (p > 65535) return std::nullopt;
  error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return std::nullopt;
  return tcp::endpoint(address, static_cast<std::uint16_t>(p));
}

}  // namespace

std::uint16_t listen_on(tcp::acceptor& a, const std::string& listen, std::string_view what) {
  const std::string prefix(what);
  const auto endpoint = parse_listen(listen);
  if (!endpoint) throw std::runtime_error(prefix + ": cannot listen on '" + listen + "': expected host:port");
  error_code ec;
  auto fail = [&](const char* step) {
    throw std::runtime_error(prefix + ": cannot listen on " + listen + " (" + step + "): " + ec.message());
  };
  if (a.open(endpoint->protocol(), ec); ec) fail("socket");
  // Linux still refuses a port another socket listens on.
  if (a.set_option(tcp::acceptor::reuse_address(true), ec); ec) fail("SO_REUSEADDR");
  if (a.bind(*endpoint, ec); ec) fail("bind");
  if (a.listen(asio::socket_base::max_listen_connections, ec); ec) fail("listen");
  return a.local_endpoint().port();
}

asio::awaitable<std::optional<tcp::socket>> accept_or_pause(tcp::acceptor& a) {
  auto [ec, socket] = co_await a.async_accept(tok);
  if (!ec) co_return std::move(socket);
  asio::steady_timer pause(a.get_executor(), std::chrono::milliseconds(100));
  co_await pause.async_wait(tok);
  co_return std::nullopt;
}

}  // namespace detail

struct http_server::impl {
  std::shared_ptr<server_state> s;
};

http_server::http_server(asio::any_io_executor ex, const std::string& listen, handler h)
    : impl_(std::make_unique<impl>()) {
  impl_->s = std::make_shared<server_state>(std::move(ex), listen, std::move(h));
  auto& s = *impl_->s;
  s.port = listen_on(s.acceptor, listen, "http");
}

http_server::~http_server() { stop(); }

std::uint16_t http_server::port() const { return impl_->s->port; }

void http_server::route_post(std::string path, post_handler h) { impl_->s->posts[std::move(path)] = std::move(h); }

void http_server::start() {
  if (impl_->s->begin()) asio::co_spawn(impl_->s->ex, accept_loop(impl_->s), asio::detached);
}

void http_server::stop() { impl_->s->stop(); }

}  // namespace signoff::net
