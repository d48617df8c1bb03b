#include "support/ws_peer.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <deque>
#include <mutex>
#include <thread>
#include <variant>

namespace signoff::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

constexpr auto tok = asio::as_tuple(asio::use_awaitable);

}  // namespace

struct ws_peer::impl : std::enable_shared_from_this<impl> {
  // One accepted connection. `ws`, `outq` and `writing` belong to the
  // executor; `seen` is shared, under impl::mu.
  struct conn {
    websocket::stream<beast::tcp_stream> ws;
    std::deque<std::variant<std::string, std::uint16_t>> outq;  // a text, or a close code
    bool writing = false;
    bool closing = false;  // we sent a close frame
    connection seen;
    explicit conn(tcp::socket s) : ws(std::move(s)) {}
  };
  using conn_ptr = std::shared_ptr<conn>;

  asio::any_io_executor ex;
  options opt;
  tcp::acceptor acceptor;
  std::uint16_t port = 0;

  mutable std::mutex mu;
  std::vector<conn_ptr> conns;  // in handshake order

  impl(asio::any_io_executor e, options o) : ex(e), opt(o), acceptor(e) {
    const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor.open(ep.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen();
    port = acceptor.local_endpoint().port();
  }

  void start() { asio::co_spawn(ex, accept_loop(shared_from_this()), asio::detached); }

  // Closes the acceptor and every socket: pending operations end with errors.
  void shut() {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    std::lock_guard lk(mu);
    for (auto& c : conns) beast::get_lowest_layer(c->ws).socket().close(ignored);
  }

  conn_ptr find(std::size_t n) const {
    std::lock_guard lk(mu);
    return n < conns.size() ? conns[n] : nullptr;
  }

  // On the executor: queue `op` on connection `n`, start its writer if idle.
  void enqueue(std::size_t n, std::variant<std::string, std::uint16_t> op) {
    auto c = find(n);
    if (!c) return;  // never accepted: nothing to send on
    c->outq.push_back(std::move(op));
    if (!c->writing) {
      c->writing = true;
      asio::co_spawn(ex, writer(shared_from_this(), c), asio::detached);
    }
  }

  static asio::awaitable<void> accept_loop(std::shared_ptr<impl> self) {
    for (;;) {
      auto [ec, socket] = co_await self->acceptor.async_accept(tok);
      if (ec) co_return;
      auto c = std::make_shared<conn>(std::move(socket));
      asio::co_spawn(self->ex, session(self, c), asio::detached);
    }
  }

  static asio::awaitable<void> session(std::shared_ptr<impl> self, conn_ptr c) {
    beast::flat_buffer buffer;
    http::request<http::string_body> upgrade;
    auto [rec, n] = co_await http::async_read(c->ws.next_layer(), buffer, upgrade, tok);
    if (rec) co_return;
    auto to = websocket::stream_base::timeout::suggested(beast::role_type::server);
    to.handshake_timeout = std::chrono::seconds(5);  // also bounds our close handshake
    c->ws.set_option(to);
    auto [aec] = co_await c->ws.async_accept(upgrade, tok);
    if (aec) co_return;
    c->ws.text(true);
    {
      std::lock_guard lk(self->mu);
      c->seen.target = std::string(upgrade.target());
      self->conns.push_back(c);
    }
    if (!self->opt.read) co_return;  // the stream stays open: `conns` holds it
    for (;;) {
      beast::flat_buffer message;
      auto [ec, bytes] = co_await c->ws.async_read(message, tok);
      const auto at = std::chrono::steady_clock::now();
      std::lock_guard lk(self->mu);
      if (ec) {
        // Our own close cancels the read; the writer records its outcome.
        if (c->closing && ec == asio::error::operation_aborted) co_return;
        c->seen.ended = true;
        c->seen.end_reason = ec.message();
        if (ec == websocket::error::closed) c->seen.client_close_code = c->ws.reason().code;
        co_return;
      }
      c->seen.received.push_back({beast::buffers_to_string(message.data()), at});
    }
  }

  static asio::awaitable<void> writer(std::shared_ptr<impl> self, conn_ptr c) {
    while (!c->outq.empty()) {
      auto op = std::move(c->outq.front());
      c->outq.pop_front();
      if (auto* text = std::get_if<std::string>(&op)) {
        // Named, not temporaries in the co_await (GCC 12 coroutine bug).
        const asio::const_buffer buf(text->data(), text->size());
        auto [ec, n] = co_await c->ws.async_write(buf, tok);
        if (ec) break;
      } else {
        const websocket::close_reason reason(std::get<std::uint16_t>(op));
        c->closing = true;
        auto [ec] = co_await c->ws.async_close(reason, tok);
        std::lock_guard lk(self->mu);
        if (!c->seen.ended) {
          c->seen.ended = true;
          c->seen.end_reason = ec ? ec.message() : "closed by the peer";
          if (!ec) c->seen.client_close_code = c->ws.reason().code;  // the client's answer
        }
        break;  // nothing goes after a close frame
      }
    }
    c->writing = false;
  }
};

// Only a ws_peer with its own thread has one; it outlives the coroutine
// frames on its io_context, which hold the impl.
struct ws_peer::own_thread {
  asio::io_context ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
  std::thread thread;
};

ws_peer::ws_peer() : ws_peer(options{}) {}

ws_peer::ws_peer(options o) : thread_(std::make_unique<own_thread>()) {
  impl_ = std::make_shared<impl>(thread_->ioc.get_executor(), o);
  impl_->start();
  thread_->thread = std::thread([io = &thread_->ioc] { io->run(); });
}

ws_peer::ws_peer(asio::any_io_executor ex) : ws_peer(std::move(ex), options{}) {}

ws_peer::ws_peer(asio::any_io_executor ex, options o) : impl_(std::make_shared<impl>(std::move(ex), o)) {
  impl_->start();
}

ws_peer::~ws_peer() {
  if (thread_) {
    // Stop the thread first: then the sockets can be closed from here, and
    // the suspended frames go with the io_context.
    thread_->ioc.stop();
    thread_->thread.join();
  }
  impl_->shut();
  impl_.reset();
  thread_.reset();
}

std::uint16_t ws_peer::port() const { return impl_->port; }

std::string ws_peer::url(const std::string& target) const {
  return "ws://127.0.0.1:" + std::to_string(impl_->port) + target;
}

std::size_t ws_peer::connections() const {
  std::lock_guard lk(impl_->mu);
  return impl_->conns.size();
}

ws_peer::connection ws_peer::seen(std::size_t n) const {
  std::lock_guard lk(impl_->mu);
  return n < impl_->conns.size() ? impl_->conns[n]->seen : connection{};
}

std::vector<std::string> ws_peer::texts(std::size_t n) const {
  std::vector<std::string> out;
  for (auto& m : seen(n).received) out.push_back(m.text);
  return out;
}

void ws_peer::send(std::size_t n, std::string text) {
  asio::post(impl_->ex, [self = impl_, n, text = std::move(text)]() mutable { self->enqueue(n, std::move(text)); });
}

void ws_peer::close(std::size_t n, std::uint16_t code) {
  asio::post(impl_->ex, [self = impl_, n, code] { self->enqueue(n, code); });
}

}  // namespace signoff::test
