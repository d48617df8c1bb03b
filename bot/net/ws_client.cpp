// The websocket client: wss (or ws to a loopback host), text messages,
// Beast's own idle timeout with keep-alive pings once connected.
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <algorithm>
#include <limits>
#include <type_traits>

#include "bot/net/detail.hpp"

namespace signoff::net {

using namespace detail;
namespace websocket = beast::websocket;

namespace {

// The operations ws_client forwards to, whatever the stream underneath.
struct ws_link {
  virtual ~ws_link() = default;
  virtual asio::awaitable<error_code> open(const url& u, const timeouts& t, std::size_t max_message,
                                           const std::string& authorization) = 0;
  virtual asio::awaitable<error_code> read(std::string& out) = 0;
  virtual asio::awaitable<error_code> write(std::string_view text) = 0;
  virtual asio::awaitable<error_code> close(std::uint16_t code) = 0;
  virtual void abort() = 0;
  virtual std::uint16_t close_code() const = 0;
};

template <class Next>
class ws_link_on final : public ws_link {
 public:
  template <class... Args>
  explicit ws_link_on(Args&&... args) : ws_(std::forward<Args>(args)...) {}

  asio::awaitable<error_code> open(const url& u, const timeouts& t, std::size_t max_message,
                                   const std::string& authorization) override {
    auto& tcp_layer = beast::get_lowest_layer(ws_);
    error_code ec = co_await connect_tcp(tcp_layer, u, t.connect);
    if constexpr (std::is_same_v<Next, tls_stream>) {
      if (!ec) ec = co_await tls_handshake(ws_.next_layer(), u.host, t.handshake);
    }
    if (ec) co_return ec;
    // From here the websocket's own timers apply; Beast requires the
    // tcp_stream's timer off. suggested() would leave idle_timeout off and
    // keep_alive_pings false, so both are set explicitly.
    tcp_layer.expires_never();
    websocket::stream_base::timeout to{};
    to.handshake_timeout = t.handshake;
    to.idle_timeout = t.ws_idle;
    to.keep_alive_pings = true;
    ws_.set_option(to);
    ws_.set_option(websocket::stream_base::decorator([auth = authorization](websocket::request_type& req) {
      req.set(beast::http::field::user_agent, user_agent);
      if (!auth.empty()) req.set(beast::http::field::authorization, auth);
    }));
    max_message_ = std::min(max_message, std::numeric_limits<std::size_t>::max() - 1);
    ws_.read_message_max(0);  // see read()
    ws_.text(true);
    auto [hec] = co_await ws_.async_handshake(u.authority(), u.target, tok);
    co_return hec;
  }

  // The size limit is enforced here rather than with Beast's
  // read_message_max: when Beast fails a connection for an oversized message
  // over TLS, the peer's close frame usually arrives after our close_notify
  // and Beast reports that teardown error instead of message_too_big.
  // Reading at most max_message + 1 bytes keeps memory bounded all the same.
  asio::awaitable<error_code> read(std::string& out) override {
    beast::flat_buffer buffer;
    do {
      const std::size_t room = max_message_ + 1 - buffer.size();
      auto [ec, n] = co_await ws_.async_read_some(buffer, room, tok);
      if (ec) co_return ec;
      if (buffer.size() > max_message_) {
        // 1009 as RFC 6455 asks; the close is bounded by the handshake timeout.
        auto [cec] = co_await ws_.async_close(websocket::close_code::too_big, tok);
        (void)cec;
        co_return websocket::error::message_too_big;
      }
    } while (!ws_.is_message_done());
    out = beast::buffers_to_string(buffer.data());
    co_return error_code{};
  }

  asio::awaitable<error_code> write(std::string_view text) override {
    auto [ec, n] = co_await ws_.async_write(asio::buffer(text.data(), text.size()), tok);
    co_return ec;
  }

  asio::awaitable<error_code> close(std::uint16_t code) override {
    // Beast bounds the closing handshake by handshake_timeout, then tears
    // the connection down.
    auto [ec] = co_await ws_.async_close(websocket::close_reason(code), tok);
    co_return ec;
  }

  void abort() override { beast::get_lowest_layer(ws_).close(); }

  std::uint16_t close_code() const override { return static_cast<std::uint16_t>(ws_.reason().code); }

 private:
  websocket::stream<Next> ws_;
  std::size_t max_message_ = 0;
};

}  // namespace

// The link is shared with every coroutine using it, so destroying the
// ws_client while a read is pending cannot free the stream under it.
struct ws_client::impl {
  std::shared_ptr<ws_link> link;
};

ws_client::ws_client() : impl_(std::make_unique<impl>()) {}

ws_client::~ws_client() {
  if (impl_->link) impl_->link->abort();
}

asio::awaitable<std::pair<error_code, std::unique_ptr<ws_client>>> ws_client::connect(
    asio::any_io_executor ex, const tls_context& tls, url u, timeouts t, std::size_t max_message,
    std::string_view authorization) {
  using result = std::pair<error_code, std::unique_ptr<ws_client>>;
  if (u.scheme != "wss" && u.scheme != "ws") co_return result{asio::error::invalid_argument, nullptr};
  if (!transport_allowed(u)) co_return result{asio::error::access_denied, nullptr};
  std::shared_ptr<ws_link> link;
  if (u.tls())
    link = std::make_shared<ws_link_on<tls_stream>>(ex, ssl_context(tls));
  else
    link = std::make_shared<ws_link_on<beast::tcp_stream>>(ex);
  // Named: g++ 12 mishandles class temporaries inside a co_await expression.
  const std::string auth(authorization);
  const error_code ec = co_await link->open(u, t, max_message, auth);
  if (ec) co_return result{ec, nullptr};
  std::unique_ptr<ws_client> c(new ws_client());
  c->impl_->link = std::move(link);
  co_return result{error_code{}, std::move(c)};
}

namespace {
// The copies of the link in these frames keep the stream alive until the
// operation completes, even if the ws_client is destroyed meanwhile.
asio::awaitable<error_code> read_on(std::shared_ptr<ws_link> l, std::string& out) { co_return co_await l->read(out); }
asio::awaitable<error_code> write_on(std::shared_ptr<ws_link> l, std::string_view text) {
  co_return co_await l->write(text);
}
asio::awaitable<error_code> close_on(std::shared_ptr<ws_link> l, std::uint16_t code) {
  co_return co_await l->close(code);
}
}  // namespace

asio::awaitable<error_code> ws_client::read(std::string& out) { return read_on(impl_->link, out); }
asio::awaitable<error_code> ws_client::write(std::string_view text) { return write_on(impl_->link, text); }
asio::awaitable<error_code> ws_client::close(std::uint16_t code) { return close_on(impl_->link, code); }

void ws_client::abort() { impl_->link->abort(); }

std::uint16_t ws_client::close_code() const { return impl_->link->close_code(); }

}  // namespace signoff::net
