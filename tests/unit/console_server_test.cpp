// The audit console's HTTP server against raw HTTP/1.1 clients on loopback
// (so malformed and oversized requests can be sent byte for byte), and the
// project's own https client for TLS. Server and clients share one io_context
// on the test thread. Never co_await inside a Catch macro (support/run_io.hpp).
#include <catch2/catch.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <string>

#include "bot/net/net.hpp"
#include "support/run_io.hpp"
#include "support/test_pki.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = signoff::net;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using namespace std::chrono_literals;
using signoff::test::eventually;
using signoff::test::test_pki;

constexpr auto tok = asio::as_tuple(asio::use_awaitable);
using response = http::response<http::string_body>;

const std::string csp = "default-src 'none'";

net::console_server_options options() {
  net::console_server_options o;
  o.listen = "127.0.0.1:0";
  o.read_timeout = 1s;
  o.own_headers = {{"Content-Security-Policy", csp}, {"X-Content-Type-Options", "nosniff"}};
  return o;
}

// What the handler saw, and a body that echoes it.
struct seen {
  int calls = 0;
  net::console_request last;
};

net::console_server::handler echo(seen& s) {
  return [&s](net::console_request r, net::response_stream&, bool&) -> asio::awaitable<net::console_response> {
    ++s.calls;
    s.last = r;
    net::console_response res;
    res.headers = {{"Content-Type", "text/plain"}, {"Content-Security-Policy", csp}, {"Set-Cookie", "sid=1"}};
    res.body = r.method + " " + r.target + " " + r.body;
    co_return res;
  };
}

// A raw HTTP/1.1 client: sends text as given, parses what comes back.
class client {
 public:
  explicit client(asio::io_context& ioc) : s_(ioc) {}
  asio::awaitable<error_code> connect(std::uint16_t port) {
    auto [ec] = co_await s_.socket().async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), tok);
    co_return ec;
  }
  asio::awaitable<error_code> send(std::string text) {
    auto [ec, n] = co_await asio::async_write(s_.socket(), asio::buffer(text), tok);
    co_return ec;
  }
  // One response; `head` for the answer to a HEAD request (no body follows).
  asio::awaitable<std::pair<error_code, response>> read(bool head = false) {
    http::response_parser<http::string_body> p;
    p.skip(head);
    p.body_limit(64 << 20);
    s_.expires_after(5s);
    auto [ec, n] = co_await http::async_read(s_, buf_, p, tok);
    s_.expires_never();
    co_return std::pair{ec, p.release()};
  }
  // True when the server closed the connection (end of stream) within 5 s.
  asio::awaitable<bool> closed_by_server() {
    std::array<char, 256> b{};
    s_.expires_after(5s);
    for (;;) {
      auto [ec, n] = co_await s_.async_read_some(asio::buffer(b), tok);
      if (ec) {
        s_.expires_never();
        co_return ec == asio::error::eof || ec == asio::error::connection_reset;
      }
    }
  }
  void close() { s_.close(); }
  beast::tcp_stream& stream() { return s_; }

 private:
  beast::tcp_stream s_;
  beast::flat_buffer buf_;
};

std::string get(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: console.test\r\n" + extra + "\r\n";
}

// A started server on the test's own io_context.
struct fixture {
  explicit fixture(net::console_server::handler h, net::console_server_options o = options())
      : server(ioc.get_executor(), std::move(o), std::move(h)) {
    server.start();
  }
  asio::io_context ioc;
  net::console_server server;
};

template <class F>
void run(asio::io_context& ioc, F body) {
  signoff::test::run_io(ioc, std::move(body));
}

std::string header(const response& r, std::string_view name) { return std::string(r[name]); }

TEST_CASE("console server: GET and POST reach the handler with their fields, two requests on one connection",
          "[console][server]") {
  seen s;
  fixture f(echo(s));
  auto& ioc = f.ioc;
  auto& server = f.server;
  run(ioc, [&]() -> asio::awaitable<void> {
    client c(ioc);
    auto ec = co_await c.connect(server.port());
    REQUIRE_FALSE(ec);
    ec = co_await c.send(get("/log?actor=alice&before=7",
                             "Cookie: a=1\r\nCookie: sid=xyz\r\nOrigin: https://console.test\r\n"
                             "Sec-Fetch-Site: same-origin\r\n"));
    REQUIRE_FALSE(ec);
    auto [ec1, r1] = co_await c.read();
    REQUIRE_FALSE(ec1);
    CHECK(r1.result_int() == 200);
    CHECK(r1.body() == "GET /log?actor=alice&before=7 ");
    CHECK(header(r1, "Content-Length") == std::to_string(r1.body().size()));
    CHECK(header(r1, "Set-Cookie") == "sid=1");
    CHECK(header(r1, "Content-Security-Policy") == csp);
    CHECK(s.last.cookie == "a=1; sid=xyz");
    CHECK(s.last.origin == "https://console.test");
    CHECK(s.last.sec_fetch_site == "same-origin");
    CHECK(s.last.host == "console.test");
    CHECK_FALSE(s.last.tls);

    const std::string form = "token=abc";
    ec = co_await c.send("POST /login HTTP/1.1\r\nHost: console.test\r\n"
                         "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
                         std::to_string(form.size()) + "\r\n\r\n" + form);
    REQUIRE_FALSE(ec);
    auto [ec2, r2] = co_await c.read();
    REQUIRE_FALSE(ec2);
    CHECK(r2.body() == "POST /login token=abc");
    CHECK(r2.keep_alive());
    CHECK(s.last.content_type == "application/x-www-form-urlencoded");
    CHECK(s.calls == 2);

    // Connection: close is honoured: answered, then closed.
    ec = co_await c.send(get("/chain", "Connection: close\r\n"));
    auto [ec3, r3] = co_await c.read();
    REQUIRE_FALSE(ec3);
    CHECK(r3.body() == "GET /chain ");
    const bool closed = co_await c.closed_by_server();
    CHECK(closed);
  });
}

TEST_CASE("console server: HEAD is answered as GET with its length but no body", "[console][server]") {
  seen s;
  fixture f(echo(s));
  auto& ioc = f.ioc;
  auto& server = f.server;
  run(ioc, [&]() -> asio::awaitable<void> {
    client c(ioc);
    co_await c.connect(server.port());
    // HEAD then GET on one connection: any body bytes after the HEAD answer
    // would be read as the start of the second response and break it.
    co_await c.send("HEAD /log HTTP/1.1\r\nHost: h\r\n\r\n" + get("/escalations"));
    auto [ec1, head] = co_await c.read(true);
    REQUIRE_FALSE(ec1);
    CHECK(head.result_int() == 200);
    CHECK(header(head, "Content-Length") == std::to_string(std::string("GET /log ").size()));
    CHECK(s.last.method == "GET");
    auto [ec2, r2] = co_await c.read();
    REQUIRE_FALSE(ec2);
    CHECK(r2.result_int() == 200);
    CHECK(r2.body() == "GET /escalations ");
  });
}

// Sends `request` on a fresh connection; the status of the answer, and
// whether the server closed the connection after it.
asio::awaitable<std::pair<unsigned, bool>> status_of(asio::io_context& ioc, std::uint16_t port, std::string request,
                                                     response* out = nullptr) {
  client c(ioc);
  co_await c.connect(port);
  co_await c.send(std::move(request));
  auto [ec, r] = co_await c.read();
  if (ec) co_return std::pair{0u, true};
  if (out) *out = r;
  const bool closed = co_await c.closed_by_server();
  co_return std::pair{r.result_int(), closed};
}

std::string fields(std::size_t count) {
  std::string f;
  for (std::size_t i = 0; i < count; ++i) f += "X-F" + std::to_string(i) + ": v\r\n";
  return f;
}

TEST_CASE("console server: past each limit a clear status, then the connection closes", "[console][server]") {
  seen s;
  fixture f(echo(s));
  auto& ioc = f.ioc;
  auto& server = f.server;
  const auto port = server.port();
  run(ioc, [&]() -> asio::awaitable<void> {
    response r;
    // Header bytes: 8192 in all is the default limit.
    auto big = co_await status_of(ioc, port, get("/log", "X-Big: " + std::string(9000, 'a') + "\r\n"), &r);
    CHECK(big == std::pair{431u, true});
    CHECK(header(r, "Content-Security-Policy") == csp);  // own answers carry own_headers
    CHECK(header(r, "Connection") == "close");
    // Header count: 64 allowed (Host is one of them), 65 refused.
    auto many = co_await status_of(ioc, port, get("/log", fields(64)));
    CHECK(many == std::pair{431u, true});
    auto just = co_await status_of(ioc, port, get("/log", fields(62) + "Connection: close\r\n"));
    CHECK(just.first == 200u);
    // Body: 16384 bytes allowed, one more refused (before it is sent, from Content-Length).
    auto post = [](std::size_t n) {
      return "POST /export HTTP/1.1\r\nHost: h\r\nConnection: close\r\nContent-Length: " + std::to_string(n) +
             "\r\n\r\n" + std::string(n, 'b');
    };
    auto over = co_await status_of(ioc, port, post(16385));
    CHECK(over == std::pair{413u, true});
    auto fits = co_await status_of(ioc, port, post(16384));
    CHECK(fits.first == 200u);
    CHECK(s.last.body.size() == 16384);
    // A chunked body over the limit is refused too.
    auto chunked = co_await status_of(ioc, port,
                                      "POST /export HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n4001\r\n" +
                                          std::string(0x4001, 'c') + "\r\n0\r\n\r\n");
    CHECK(chunked == std::pair{413u, true});
    CHECK(s.calls == 2);
  });
}

TEST_CASE("console server: malformed requests get 400, other methods 405, neither reaches the handler",
          "[console][server]") {
  seen s;
  fixture f(echo(s));
  auto& ioc = f.ioc;
  auto& server = f.server;
  const auto port = server.port();
  run(ioc, [&]() -> asio::awaitable<void> {
    auto garbage = co_await status_of(ioc, port, "GARBAGE\r\n\r\n");
    CHECK(garbage == std::pair{400u, true});
    auto bad_field = co_await status_of(ioc, port, "GET /log HTTP/1.1\r\nHost: h\r\nno colon here\r\n\r\n");
    CHECK(bad_field == std::pair{400u, true});
    auto bad_length = co_await status_of(ioc, port, "POST /log HTTP/1.1\r\nHost: h\r\nContent-Length: x\r\n\r\n");
    CHECK(bad_length == std::pair{400u, true});
    auto h2 = co_await status_of(ioc, port, "GET /log HTTP/2.0\r\nHost: h\r\n\r\n");
    CHECK(h2 == std::pair{400u, true});

    // 405 keeps the connection: the request was read whole.
    client c(ioc);
    co_await c.connect(port);
    co_await c.send("PUT /log HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi" +
                    std::string("DELETE /log HTTP/1.1\r\nHost: h\r\n\r\n") + get("/crises"));
    auto [e1, put] = co_await c.read();
    auto [e2, del] = co_await c.read();
    auto [e3, ok] = co_await c.read();
    REQUIRE_FALSE(e3);
    CHECK(put.result_int() == 405);
    CHECK(header(put, "Allow") == "GET, HEAD, POST");
    CHECK(header(put, "Content-Security-Policy") == csp);
    CHECK(del.result_int() == 405);
    CHECK(ok.body() == "GET /crises ");
    CHECK(s.calls == 1);
  });
}

TEST_CASE("console server: a request not complete within read_timeout gets 408, an idle connection just closes",
          "[console][server]") {
  seen s;
  fixture f(echo(s));
  auto& ioc = f.ioc;
  auto& server = f.server;
  const auto port = server.port();
  run(ioc, [&]() -> asio::awaitable<void> {
    client slow(ioc), idle(ioc), slow_body(ioc);
    co_await slow.connect(port);
    co_await idle.connect(port);
    co_await slow_body.connect(port);
    co_await slow.send("GET /log HTTP/1.1\r\nHost: h\r\n");  // the blank line never comes
    co_await slow_body.send("POST /export HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc");
    const auto t0 = std::chrono::steady_clock::now();
    auto [ec, r] = co_await slow.read();
    REQUIRE_FALSE(ec);
    CHECK(r.result_int() == 408);
    CHECK(std::chrono::steady_clock::now() - t0 >= 900ms);
    const bool slow_closed = co_await slow.closed_by_server();
    CHECK(slow_closed);
    auto [ec2, r2] = co_await slow_body.read();
    REQUIRE_FALSE(ec2);
    CHECK(r2.result_int() == 408);
    // The idle one receives nothing, only the end of the connection.
    const bool idle_closed = co_await idle.closed_by_server();
    CHECK(idle_closed);
    CHECK(s.calls == 0);
  });
}

TEST_CASE("console server: a handler exception is a 500 that tells nothing", "[console][server]") {
  fixture f([](net::console_request r, net::response_stream&, bool&) -> asio::awaitable<net::console_response> {
    if (r.target == "/inject") co_return net::console_response{200, {{"Location", "a\r\nSet-Cookie: x=1"}}, "x"};
    throw std::runtime_error("secret detail");
  });
  auto& ioc = f.ioc;
  auto& server = f.server;
  run(ioc, [&]() -> asio::awaitable<void> {
    client c(ioc);
    co_await c.connect(server.port());
    co_await c.send(get("/log") + get("/inject"));
    auto [ec, r] = co_await c.read();
    REQUIRE_FALSE(ec);
    CHECK(r.result_int() == 500);
    CHECK(r.body().find("secret") == std::string::npos);
    CHECK(header(r, "Content-Security-Policy") == csp);
    // A header value with CR LF never reaches the wire.
    auto [ec2, r2] = co_await c.read();
    REQUIRE_FALSE(ec2);
    CHECK(r2.result_int() == 500);
    CHECK(r2.count("Set-Cookie") == 0);
  });
}

// A handler that streams `pieces` through the response_stream.
struct streamer {
  std::vector<std::string> pieces;
  bool finish = true;
  int false_after = -1;  // how many writes succeeded before one returned false
  int writes = 0;
  bool endless = false;  // write until write() says the client went away
};

net::console_server::handler stream_handler(streamer& st) {
  return [&st](net::console_request r, net::response_stream& out,
               bool&) -> asio::awaitable<net::console_response> {
    if (r.target != "/export") co_return net::console_response{200, {}, "page"};
    net::console_response head;
    head.headers = {{"Content-Type", "text/csv"}, {"Content-Disposition", "attachment; filename=log.csv"}};
    head.body = "seq,ts\n";
    co_await out.begin(std::move(head));
    if (st.endless) {
      const std::string piece(16384, 'x');
      for (int i = 0; i < 100000; ++i) {
        const bool ok = co_await out.write(piece);
        if (!ok) {
          st.false_after = i;
          break;
        }
      }
      co_return net::console_response{};
    }
    for (const auto& p : st.pieces) {
      co_await out.write(p);
      ++st.writes;
    }
    if (st.finish) co_await out.finish();
    co_return net::console_response{};
  };
}

TEST_CASE("console server: a streamed answer arrives whole, chunked, and the connection serves on",
          "[console][server]") {
  streamer st;
  st.pieces = {"1,a\n", "", "2,b\n", std::string(50000, 'z')};
  fixture f(stream_handler(st));
  auto& ioc = f.ioc;
  auto& server = f.server;
  run(ioc, [&]() -> asio::awaitable<void> {
    client c(ioc);
    co_await c.connect(server.port());
    co_await c.send("POST /export HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n" + get("/log"));
    auto [ec, r] = co_await c.read();
    REQUIRE_FALSE(ec);
    CHECK(r.result_int() == 200);
    CHECK(header(r, "Transfer-Encoding") == "chunked");
    CHECK(r.count("Content-Length") == 0);
    CHECK(header(r, "Content-Disposition") == "attachment; filename=log.csv");
    CHECK(r.body() == "seq,ts\n1,a\n2,b\n" + std::string(50000, 'z'));
    auto [ec2, r2] = co_await c.read();
    REQUIRE_FALSE(ec2);
    CHECK(r2.body() == "page");
  });
}

TEST_CASE("console server: a stream the handler never finishes is cut off, not ended cleanly", "[console][server]") {
  streamer st;
  st.pieces = {"1,a\n"};
  st.finish = false;
  fixture f(stream_handler(st));
  auto& ioc = f.ioc;
  auto& server = f.server;
  run(ioc, [&]() -> asio::awaitable<void> {
    client c(ioc);
    co_await c.connect(server.port());
    co_await c.send("POST /export HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
    auto [ec, r] = co_await c.read();
    CHECK(ec == http::error::partial_message);
  });
}

TEST_CASE("console server: HTTP/1.0 gets the stream close-delimited", "[console][server]") {
  streamer st;
  st.pieces = {"1,a\n", "2,b\n"};
  fixture f(stream_handler(st));
  auto& ioc = f.ioc;
  auto& server = f.server;
  run(ioc, [&]() -> asio::awaitable<void> {
    client c(ioc);
    co_await c.connect(server.port());
    co_await c.send("POST /export HTTP/1.0\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
    auto [ec, r] = co_await c.read();
    REQUIRE_FALSE(ec);
    CHECK(r.version() == 10);
    CHECK(r.count("Transfer-Encoding") == 0);
    CHECK(r.body() == "seq,ts\n1,a\n2,b\n");
  });
}

TEST_CASE("console server: a client that goes away mid-stream makes write() return false", "[console][server]") {
  streamer st;
  st.endless = true;
  fixture f(stream_handler(st));
  auto& ioc = f.ioc;
  auto& server = f.server;
  run(ioc, [&]() -> asio::awaitable<void> {
    client c(ioc);
    co_await c.connect(server.port());
    co_await c.send("POST /export HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
    // Read a little of the answer, then hang up with data unread (a reset).
    std::array<char, 1024> b{};
    auto [ec, n] = co_await c.stream().async_read_some(asio::buffer(b), tok);
    REQUIRE_FALSE(ec);
    c.close();
    const bool stopped = co_await eventually([&] { return st.false_after >= 0; }, 5s);
    REQUIRE(stopped);
    CHECK(st.false_after < 1000);  // far fewer than the 100000 it would write
  });
}

TEST_CASE("console server: TLS with a certificate chain, keep-alive and tls in the request", "[console][server]") {
  seen s;
  auto o = options();
  o.cert_file = test_pki().cert_pem;
  o.key_file = test_pki().key_pem;
  fixture f(echo(s), o);
  auto& ioc = f.ioc;
  auto& server = f.server;
  const net::tls_context tls(test_pki().ca_pem);
  run(ioc, [&]() -> asio::awaitable<void> {
    auto u = net::parse_url("https://localhost:" + std::to_string(server.port()));
    REQUIRE(u);
    net::http_client c(ioc.get_executor(), tls, *u);
    net::http_request req;
    req.method = "GET";
    req.target = "/chain";
    auto [ec, r] = co_await c.request(req);
    REQUIRE_FALSE(ec);
    CHECK(r.status == 200);
    CHECK(r.body == "GET /chain ");
    CHECK(s.last.tls);
    req.method = "POST";
    req.target = "/login";
    req.body = "token=t";
    req.content_type = "application/x-www-form-urlencoded";
    auto [ec2, r2] = co_await c.request(req);
    REQUIRE_FALSE(ec2);
    CHECK(r2.body == "POST /login token=t");
    // Plain HTTP to the TLS port: no answer, and the server keeps serving.
    client plain(ioc);
    co_await plain.connect(server.port());
    co_await plain.send(get("/log"));
    auto [ec3, r3] = co_await plain.read();
    CHECK(ec3);
    auto [ec4, r4] = co_await c.request(req);
    CHECK_FALSE(ec4);
    CHECK(s.calls == 3);
  });
}

std::string temp_file(const std::string& name, const std::string& content) {
  const std::string path = "/tmp/signoff-console-test-" + name;
  std::ofstream(path) << content;
  return path;
}

std::string read_all(const std::string& path) {
  std::ifstream f(path);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

TEST_CASE("console server: bad certificate, key or address is a clear startup error without key bytes",
          "[console][server]") {
  asio::io_context ioc;
  seen s;
  auto with = [&](std::string cert, std::string key, std::string listen = "127.0.0.1:0") {
    auto o = options();
    o.cert_file = std::move(cert);
    o.key_file = std::move(key);
    o.listen = std::move(listen);
    try {
      net::console_server server(ioc.get_executor(), o, echo(s));
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const auto& pki = test_pki();
  const std::string key_text = read_all(pki.key_pem);
  const std::string key_body = key_text.substr(40, 40);  // some base64 from inside the PEM
  REQUIRE(key_body.size() == 40);

  const auto missing = with("/nonexistent/cert.pem", pki.key_pem);
  CHECK_THAT(missing, Catch::Contains("/nonexistent/cert.pem") && Catch::Contains("certificate"));
  const auto not_pem = with(temp_file("junk.pem", "not a certificate\n"), pki.key_pem);
  CHECK_THAT(not_pem, Catch::Contains("junk.pem"));
  const auto key_as_cert = with(pki.key_pem, pki.key_pem);
  CHECK_THAT(key_as_cert, Catch::Contains("certificate file"));
  CHECK(key_as_cert.find(key_body) == std::string::npos);
  const auto mismatch = with(pki.cert_pem, pki.wrong_host_key);
  CHECK_THAT(mismatch, Catch::Contains("does not match"));
  CHECK(mismatch.find(key_body) == std::string::npos);
  const auto bad_key = with(pki.cert_pem, temp_file("badkey.pem", key_text.substr(0, 100)));
  CHECK_THAT(bad_key, Catch::Contains("badkey.pem") && Catch::Contains("key file"));
  const auto one = with(pki.cert_pem, "");
  CHECK_THAT(one, Catch::Contains("both"));
  const auto address = with("", "", "256.0.0.1:80");
  CHECK_THAT(address, Catch::Contains("256.0.0.1:80"));
  CHECK(with(pki.cert_pem, pki.key_pem).empty());

  // A busy port names the address too.
  net::console_server first(ioc.get_executor(), options(), echo(s));
  const std::string busy = "127.0.0.1:" + std::to_string(first.port());
  CHECK_THAT(with("", "", busy), Catch::Contains(busy) && Catch::Contains("bind"));
}

TEST_CASE("console server: stop closes open keep-alive connections", "[console][server]") {
  seen s;
  fixture f(echo(s));
  auto& ioc = f.ioc;
  auto& server = f.server;
  run(ioc, [&]() -> asio::awaitable<void> {
    client c(ioc);
    co_await c.connect(server.port());
    co_await c.send(get("/log"));
    auto [ec, r] = co_await c.read();
    REQUIRE_FALSE(ec);
    server.stop();
    const bool closed = co_await c.closed_by_server();
    CHECK(closed);
    client late(ioc);
    auto cec = co_await late.connect(server.port());
    CHECK(cec);
  });
}

}  // namespace
