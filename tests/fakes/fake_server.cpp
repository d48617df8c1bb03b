// The shared plumbing of the fake platform servers (see fake_server.hpp).
//
// The link speaks RFC 6455 itself on the TLS stream rather than through
// beast::websocket::stream: Beast writes one message per operation, so every
// frame cost its own TLS record and sendmsg (~20 us of this thread per Slack
// envelope, measured); batching what is queued cut that to ~8 us, which keeps
// the fake well ahead of the bot in the 50k/s benchmark. The handshake,
// masking, fragmentation, ping/pong and the close handshake are checked by
// tests/integration/fake_slack_test.cpp against Beast's client.
#include "fakes/fake_server.hpp"

#include "support/test_pki.hpp"
#include "bot/console/request.hpp"

#include <openssl/evp.h>
#include <pthread.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <deque>
#include <fstream>
#include <future>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace signoff::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto tok = asio::as_tuple(asio::use_awaitable);
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

enum opcode : std::uint8_t { op_continuation = 0, op_text = 1, op_binary = 2, op_close = 8, op_ping = 9, op_pong = 10 };

void append_frame(std::string& out, std::uint8_t op, std::string_view payload) {
  out += static_cast<char>(0x80 | op);  // FIN: the fake never fragments
  std::size_t n = payload.size();
  if (n < 126) {
    out += static_cast<char>(n);
  } else if (n <= 0xffff) {
    out += static_cast<char>(126);
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n & 0xff);
  } else {
    out += static_cast<char>(127);
    for (int i = 7; i >= 0; --i) out += static_cast<char>((n >> (8 * i)) & 0xff);
  }
  out.append(payload);
}

std::string close_payload(std::uint16_t code) {
  std::string p;
  if (code == 1005) return p;  // "no status code": an empty close payload (RFC 6455 section 7.1.5)
  p += static_cast<char>(code >> 8);
  p += static_cast<char>(code & 0xff);
  return p;
}

// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (RFC 6455 section 4.2.2).
std::string websocket_accept(std::string_view key) {
  std::string s(key);
  s += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha1(), nullptr);
  unsigned char out[64];
  int n = EVP_EncodeBlock(out, md, static_cast<int>(len));
  return std::string(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
}

// One frame the server sends (RFC 6455: server frames are never masked). The
// writer batches whatever is queued into one TLS write: under load many
// frames share a record and a syscall, as they would from a real platform.
struct wframe {
  enum class kind : std::uint8_t { text, ping, pong, close };
  kind k = kind::text;
  std::uint16_t code = 0;
  std::string text;                               // overrides stamp->text() when not empty
  std::shared_ptr<fake_server::outgoing> stamp;
};

}  // namespace

struct fake_server::link::io {
  io(tls_stream&& s, std::uint64_t n) : id(n), stream(std::move(s)), signal(stream.get_executor()) {}
  std::uint64_t id;
  tls_stream stream;
  asio::steady_timer signal;   // wakes the writer; cancelled when a frame is queued
  std::deque<wframe> q;
  std::string out;             // the writer's batch
  std::vector<std::shared_ptr<outgoing>> stamped;  // in `out`, stamped just before the write
  bool closing = false;        // close frame queued: nothing more is sent
  bool close_written = false, close_received = false, finishing = false;
  bool dead = false;
  bool writer_waiting = false;
};

fake_server::link::link(std::unique_ptr<io> x) : io_(std::move(x)) {}
fake_server::link::~link() = default;
std::uint64_t fake_server::link::id() const { return io_->id; }
bool fake_server::link::usable() const { return !io_->closing && !io_->dead; }
bool fake_server::link::closing() const { return io_->closing; }
bool fake_server::link::dead() const { return io_->dead; }

std::string_view fake_server::request::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k.size() == name.size() && starts_with_ci(k, name)) return v;
  return {};
}

struct fake_server::state {
  state(fake_server& self, options o, handler& hh) : srv(self), opt(std::move(o)), h(hh) {}
  fake_server& srv;
  options opt;
  handler& h;
  ssl::context ssl_ctx{ssl::context::tls_server};
  asio::io_context ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
  tcp::acceptor acceptor{ioc};
  std::uint16_t port = 0;
  std::string port_text;
  std::uint64_t link_seq = 0;
  std::vector<link_ptr> links;  // io-only
  std::atomic<bool> answer_pings{true};
  std::thread thread;

  void spawn(asio::awaitable<void> a) {
    asio::co_spawn(ioc, std::move(a), [this](std::exception_ptr e) {
      if (!e) return;
      std::string what = "unknown exception";
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        what = x.what();
      } catch (...) {
      }
      h.on_error(opt.name + " internal error: " + what);
    });
  }

  void wake(link::io& x) {
    if (x.writer_waiting) {
      x.writer_waiting = false;
      x.signal.cancel();
    }
  }

  void enqueue(const link_ptr& l, wframe f) {
    link::io& x = *l->io_;
    if (x.dead || x.closing) return;
    if (f.k == wframe::kind::close) x.closing = true;
    x.q.push_back(std::move(f));
    wake(x);
  }

  void kill(const link_ptr& l) {
    link::io& x = *l->io_;
    if (x.dead) return;
    x.dead = true;
    x.stream.next_layer().close();  // abrupt: no close frame, no TLS close_notify
    x.signal.cancel();
    x.q.clear();
    links.erase(std::remove(links.begin(), links.end(), l), links.end());
    h.on_link_change(l);
  }

  void close(const link_ptr& l, std::uint16_t code) {
    if (l->io_->dead || l->io_->closing) return;
    wframe f;
    f.k = wframe::kind::close;
    f.code = code;
    enqueue(l, std::move(f));
    h.on_link_change(l);
  }

  // One writer per link: everything queued goes out in one TLS write.
  asio::awaitable<void> writer(link_ptr l) {
    link::io& x = *l->io_;
    for (;;) {
      if (x.dead) co_return;
      if (x.q.empty()) {
        x.writer_waiting = true;
        x.signal.expires_at(asio::steady_timer::time_point::max());
        co_await x.signal.async_wait(tok);
        continue;
      }
      x.out.clear();
      x.stamped.clear();
      bool wrote_close = false;
      while (!x.q.empty() && !wrote_close && x.out.size() < (256u << 10)) {
        wframe f = std::move(x.q.front());
        x.q.pop_front();
        switch (f.k) {
          case wframe::kind::text:
            append_frame(x.out, op_text, f.text.empty() && f.stamp ? f.stamp->text() : std::string_view(f.text));
            if (f.stamp) x.stamped.push_back(std::move(f.stamp));
            break;
          case wframe::kind::ping: append_frame(x.out, op_ping, f.text); break;
          case wframe::kind::pong: append_frame(x.out, op_pong, f.text); break;
          case wframe::kind::close:
            append_frame(x.out, op_close, close_payload(f.code));
            wrote_close = true;
            break;
        }
      }
      auto now = steady::now();  // just before the write starts
      for (auto& s : x.stamped) s->written(now);
      x.stamped.clear();
      auto [ec, n] = co_await asio::async_write(x.stream, asio::buffer(x.out), tok);
      if (ec) {
        kill(l);
        co_return;
      }
      if (wrote_close) {
        x.close_written = true;
        maybe_finish(l);
        if (!x.close_received) spawn(close_timeout(l));
        co_return;  // nothing may follow a close frame
      }
    }
  }

  // After both close frames: TLS close_notify, then the TCP close (the
  // server closes first, RFC 6455 section 7.1.1).
  void maybe_finish(const link_ptr& l) {
    link::io& x = *l->io_;
    if (x.dead || x.finishing || !x.close_written || !x.close_received) return;
    x.finishing = true;
    spawn(finish(l));
  }
  asio::awaitable<void> finish(link_ptr l) {
    l->io_->stream.next_layer().expires_after(2s);
    co_await l->io_->stream.async_shutdown(tok);
    kill(l);
  }
  asio::awaitable<void> close_timeout(link_ptr l) {
    asio::steady_timer t(ioc, 5s);  // the client never answered our close frame
    co_await t.async_wait(tok);
    if (!l->io_->finishing) kill(l);
  }

  // A protocol violation by the client: report it, close with `code`.
  void fail_link(const link_ptr& l, std::uint16_t code, const std::string& what) {
    h.on_error("websocket: " + what);
    l->io_->close_received = true;  // stop reading; finish once our close frame is out
    close(l, code);
  }

  void deliver(const link_ptr& l, std::uint8_t op, std::string_view message, steady::time_point read_at) {
    if (l->io_->closing) return;  // we closed it: only the client's close frame matters now
    if (op == op_text)
      h.on_text(l, message, read_at);
    else
      h.on_error("binary message from the client");
  }

  // The read side: RFC 6455 frames from the client (masked, possibly
  // fragmented, pings answered), whole text messages handed to on_text.
  asio::awaitable<void> run_link(link_ptr l, std::string in) {
    link::io& x = *l->io_;
    spawn(writer(l));
    std::string message;
    bool in_message = false;
    std::uint8_t message_op = 0;
    std::vector<char> chunk(16 << 10);
    auto read_at = steady::now();
    const std::size_t max_message = opt.max_message;
    for (;;) {
      std::size_t pos = 0;
      for (;;) {  // every whole frame in `in`
        if (x.dead || x.close_received) co_return;  // the handler may have closed it
        std::size_t avail = in.size() - pos;
        if (avail < 2) break;
        auto b0 = static_cast<std::uint8_t>(in[pos]), b1 = static_cast<std::uint8_t>(in[pos + 1]);
        std::size_t header = 2;
        std::uint64_t len = b1 & 0x7fu;
        if (len == 126) {
          if (avail < 4) break;
          len = (std::uint64_t{static_cast<std::uint8_t>(in[pos + 2])} << 8) | static_cast<std::uint8_t>(in[pos + 3]);
          header = 4;
        } else if (len == 127) {
          if (avail < 10) break;
          len = 0;
          for (std::size_t i = 0; i < 8; ++i) len = (len << 8) | static_cast<std::uint8_t>(in[pos + 2 + i]);
          header = 10;
        }
        auto op = static_cast<std::uint8_t>(b0 & 0x0fu);
        bool fin = (b0 & 0x80u) != 0, masked = (b1 & 0x80u) != 0;
        if (b0 & 0x70u) { fail_link(l, 1002, "RSV bits set without an extension"); co_return; }
        if (!masked) { fail_link(l, 1002, "unmasked client frame"); co_return; }
        if (op >= 8 && (!fin || len > 125)) { fail_link(l, 1002, "bad control frame"); co_return; }
        if (op != op_continuation && op != op_text && op != op_binary && op != op_close && op != op_ping &&
            op != op_pong) {
          fail_link(l, 1002, "unknown opcode " + std::to_string(op));
          co_return;
        }
        if (len > max_message || (op < 8 && message.size() + len > max_message)) {
          fail_link(l, opt.too_big_code, "message over " + std::to_string(max_message) + " bytes");
          co_return;
        }
        header += 4;
        if (avail < header + len) break;
        const char* mask = in.data() + pos + header - 4;
        char* data = in.data() + pos + header;
        for (std::size_t i = 0; i < len; ++i) data[i] = static_cast<char>(data[i] ^ mask[i & 3]);
        std::string_view payload(data, static_cast<std::size_t>(len));
        pos += header + static_cast<std::size_t>(len);

        if (op == op_ping) {
          if (!x.closing && answer_pings.load()) {
            wframe pong;
            pong.k = wframe::kind::pong;
            pong.text = std::string(payload);
            x.q.push_back(std::move(pong));
            wake(x);
          }
          continue;
        }
        if (op == op_pong) {
          if (!x.closing) h.on_pong(l);
          continue;
        }
        if (op == op_close) {
          // Echo the client's code (RFC 6455 section 5.5.1) unless we closed first.
          std::uint16_t code = 1000;
          if (payload.size() >= 2)
            code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                              static_cast<std::uint8_t>(payload[1]));
          x.close_received = true;
          h.on_client_close(l, payload.size() >= 2 ? code : std::uint16_t{1005});
          close(l, code);
          maybe_finish(l);
          co_return;
        }
        if (op == op_continuation ? !in_message : in_message) {
          fail_link(l, 1002, "bad fragmentation");
          co_return;
        }
        if (op != op_continuation) {
          message_op = op;
          message.clear();
          in_message = true;
        }
        if (fin && message.empty()) {  // the usual case: one frame, no copy
          deliver(l, message_op, payload, read_at);
          in_message = false;
          continue;
        }
        message.append(payload);
        if (fin) {
          deliver(l, message_op, message, read_at);
          in_message = false;
          message.clear();
        }
      }
      in.erase(0, pos);
      if (x.dead) co_return;
      auto [ec, n] = co_await x.stream.async_read_some(asio::buffer(chunk), tok);
      if (ec) break;
      read_at = steady::now();
      in.append(chunk.data(), n);
    }
    kill(l);
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, sock] = co_await acceptor.async_accept(tok);
      if (ec) {
        if (!acceptor.is_open()) co_return;
        asio::steady_timer pause(ioc, 10ms);  // e.g. out of descriptors: do not spin
        co_await pause.async_wait(tok);
        continue;
      }
      boost::system::error_code ignored;
      sock.set_option(tcp::no_delay(true), ignored);  // small frames: latency matters
      spawn(serve(std::move(sock)));
    }
  }

  static request to_request(http::request<http::string_body>& r) {
    request q;
    q.method = std::string(r.method_string());
    q.target = std::string(r.target());
    auto mark = q.target.find('?');
    q.path = q.target.substr(0, mark);
    if (mark != std::string::npos) q.query = q.target.substr(mark + 1);
    for (const auto& f : r) q.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    q.version = r.version();
    q.body = std::move(r.body());
    return q;
  }

  http::response<http::string_body> to_response(const answer& a, unsigned version) const {
    http::response<http::string_body> res{static_cast<http::status>(a.status), version};
    res.set(http::field::server, opt.name);
    if (!a.content_type.empty()) res.set(http::field::content_type, a.content_type);
    for (const auto& [k, v] : a.headers) res.set(k, v);
    res.body() = a.body;
    return res;
  }

  asio::awaitable<bool> write_answer(tls_stream& stream, const answer& a, unsigned version, bool keep_alive) {
    if (a.delay.count() > 0) {
      asio::steady_timer t(ioc, a.delay);
      co_await t.async_wait(tok);
    }
    auto res = to_response(a, version);
    res.keep_alive(keep_alive && !a.close);
    res.prepare_payload();
    stream.next_layer().expires_after(30s);
    auto [wec, wn] = co_await http::async_write(stream, res, tok);
    co_return !wec && res.keep_alive();
  }

  asio::awaitable<void> serve(tcp::socket sock) {
    tls_stream stream(std::move(sock), ssl_ctx);
    stream.next_layer().expires_after(10s);
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, tok);
    if (hec) co_return;
    beast::flat_buffer buf;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(opt.max_body);
      stream.next_layer().expires_after(120s);
      auto [rec, rn] = co_await http::async_read(stream, buf, parser, tok);
      if (rec) co_return;
      http::request<http::string_body> raw = parser.release();
      bool upgrade_req = websocket::is_upgrade(raw);
      bool keep_alive = raw.keep_alive();
      request req = to_request(raw);
      if (upgrade_req) {
        auto rest = buf.cdata();  // bytes after the request (none from a conforming client)
        co_await upgrade(std::move(stream), std::move(req),
                         std::string(static_cast<const char*>(rest.data()), rest.size()));
        co_return;
      }
      answer a = co_await h.on_http(std::move(req));
      bool more = co_await write_answer(stream, a, raw.version(), keep_alive);
      if (!more) break;
    }
    stream.next_layer().expires_after(2s);
    co_await stream.async_shutdown(tok);
  }

  // The websocket handshake (RFC 6455 section 4.2), then the link.
  asio::awaitable<void> upgrade(tls_stream stream, request req, std::string rest) {
    std::optional<answer> refused = h.on_upgrade(req);
    std::string ws_key(req.header("Sec-WebSocket-Key"));
    if (!refused && (req.header("Sec-WebSocket-Version") != "13" || ws_key.empty())) {
      answer a;
      a.status = ws_key.empty() ? 400 : 426;
      a.content_type = "text/plain";
      a.body = "bad websocket handshake";
      a.headers.emplace_back("Sec-WebSocket-Version", "13");
      refused = std::move(a);
    }
    if (refused) {
      co_await write_answer(stream, *refused, req.version, false);
      stream.next_layer().expires_after(2s);
      co_await stream.async_shutdown(tok);
      co_return;
    }
    http::response<http::empty_body> res{http::status::switching_protocols, req.version};
    res.set(http::field::server, opt.name);
    res.set(http::field::upgrade, "websocket");
    res.set(http::field::connection, "Upgrade");
    res.set(http::field::sec_websocket_accept, websocket_accept(ws_key));
    stream.next_layer().expires_after(10s);
    auto [ec, n] = co_await http::async_write(stream, res, tok);
    if (ec) co_return;
    stream.next_layer().expires_never();  // a link lives until closed
    auto l = std::make_shared<link>(std::make_unique<link::io>(std::move(stream), ++link_seq));
    l->path = req.path;
    links.push_back(l);
    h.on_open(l, req);
    co_await run_link(l, std::move(rest));
  }
};

fake_server::fake_server(options o, handler& h) : s_(std::make_unique<state>(*this, std::move(o), h)) {
  state& s = *s_;
  if (s.opt.cert_pem.empty()) s.opt.cert_pem = test_pki().cert_pem;
  if (s.opt.key_pem.empty()) s.opt.key_pem = test_pki().key_pem;
  s.ssl_ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                        ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  std::string cert = file_or_pem(s.opt.cert_pem), pkey = file_or_pem(s.opt.key_pem);
  s.ssl_ctx.use_certificate_chain(asio::buffer(cert));
  s.ssl_ctx.use_private_key(asio::buffer(pkey), ssl::context::pem);
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  s.acceptor.open(ep.protocol());
  s.acceptor.set_option(tcp::acceptor::reuse_address(true));
  s.acceptor.bind(ep);
  s.acceptor.listen();
  s.port = s.acceptor.local_endpoint().port();
  s.port_text = std::to_string(s.port);
}

fake_server::~fake_server() {
  // Pending coroutine frames (and the sockets they own) are destroyed with
  // the io_context, after the thread has stopped: no handler runs again.
  s_->ioc.stop();
  if (s_->thread.joinable()) s_->thread.join();
}

void fake_server::start() {
  state& s = *s_;
  s.spawn(s.accept_loop());
  s.thread = std::thread([&s] {
    std::string name = s.opt.name.substr(0, 15);  // visible in perf / top -H
    pthread_setname_np(pthread_self(), name.c_str());
    s.ioc.run();
  });
}

std::uint16_t fake_server::port() const { return s_->port; }
const std::string& fake_server::port_text() const { return s_->port_text; }
boost::asio::io_context& fake_server::io() { return s_->ioc; }
const std::vector<fake_server::link_ptr>& fake_server::links() const { return s_->links; }

void fake_server::run_sync(const std::function<void()>& f) {
  if (s_->ioc.get_executor().running_in_this_thread()) {
    f();
    return;
  }
  std::promise<void> done;
  auto fut = done.get_future();
  asio::post(s_->ioc, [&] {
    try {
      f();
      done.set_value();
    } catch (...) {
      done.set_exception(std::current_exception());
    }
  });
  fut.get();
}

void fake_server::spawn(boost::asio::awaitable<void> a) { s_->spawn(std::move(a)); }

void fake_server::send_text(const link_ptr& l, std::string text) {
  wframe f;
  f.text = std::move(text);
  s_->enqueue(l, std::move(f));
}

void fake_server::send(const link_ptr& l, std::shared_ptr<outgoing> o, std::string text) {
  wframe f;
  f.text = std::move(text);
  f.stamp = std::move(o);
  s_->enqueue(l, std::move(f));
}

void fake_server::send_ping(const link_ptr& l) {
  wframe f;
  f.k = wframe::kind::ping;
  s_->enqueue(l, std::move(f));
}

void fake_server::answer_pings(bool on) { s_->answer_pings.store(on); }

void fake_server::close(const link_ptr& l, std::uint16_t code) { s_->close(l, code); }

void fake_server::drop_all() {
  run_sync([this] {
    auto all = s_->links;  // kill() edits the list
    for (auto& l : all) s_->kill(l);
  });
}

void fake_server::close_all(std::uint16_t code) {
  run_sync([this, code] {
    auto all = s_->links;
    for (auto& l : all) s_->close(l, code);
  });
}

void fake_server::send_all(const std::string& text) {
  run_sync([this, &text] {
    for (auto& l : s_->links)
      if (l->usable()) send_text(l, text);
  });
}
void fake_server::kill(const link_ptr& l) { s_->kill(l); }

std::string file_or_pem(const std::string& s) {
  if (s.find("-----BEGIN") != std::string::npos) return s;
  std::ifstream in(s, std::ios::binary);
  if (!in) throw std::runtime_error("fake server: cannot read " + s);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  return true;
}

// The same decoding the console applies to its forms (one decoder).
std::string pct_decode(std::string_view s) { return console::url_decode(s); }

std::string cut80(std::string_view s) {
  return std::string(s.substr(0, 80)) + (s.size() > 80 ? "…" : "");
}

}  // namespace signoff::test
