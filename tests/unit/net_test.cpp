// bot/net against small Beast servers on loopback, with the throw-away test
// PKI: keep-alive and reconnect, Retry-After, certificate and host-name
// refusals, timeouts, the loopback-only rule for plain HTTP, the websocket
// client, and the health/metrics server. Servers and clients share one
// io_context on the test thread, so the tests are deterministic.
// Never co_await inside a Catch macro (see support/run_io.hpp).
#include <catch2/catch.hpp>

#include <openssl/x509_vfy.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bot/net/net.hpp"
#include "support/process.hpp"
#include "support/run_io.hpp"
#include "support/test_pki.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
namespace net = signoff::net;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using namespace std::chrono_literals;
using signoff::test::test_pki;

constexpr auto tok = asio::as_tuple(asio::use_awaitable);
using server_stream = beast::ssl_stream<beast::tcp_stream>;
using ws_server_stream = websocket::stream<server_stream>;

// Short deadlines: these tests check behaviour, not speed, but a hang must
// not cost the suite seconds.
net::timeouts short_timeouts() {
  net::timeouts t;
  t.connect = 1000ms;
  t.handshake = 1000ms;
  t.exchange = 1000ms;
  t.ws_idle = 1000ms;
  return t;
}

// Loading the system trust store is slow (more so under ASan), so each CA
// gets one context for the whole run, as an adapter would have.
const net::tls_context& trusting_test_ca() {
  static const net::tls_context c(test_pki().ca_pem);
  return c;
}
// The system store cannot hold the throw-away CA, so this context trusts
// nothing the test servers present.
const net::tls_context& trusting_other_ca() {
  static const net::tls_context c(test_pki().other_ca_pem);
  return c;
}

net::url url_of(const std::string& text) {
  auto u = net::parse_url(text);
  REQUIRE(u);
  return *u;
}

// Servers and clients share the test's io_context.
using signoff::test::eventually;
template <class F>
void run(asio::io_context& ioc, F body) {
  signoff::test::run_io(ioc, std::move(body));
}

// A TLS listener on 127.0.0.1 handing each handshaken connection to `session`.
// `Stream` is the server's whole stack (ssl_stream, or websocket over it).
template <class Stream>
class tls_listener {
 public:
  using session_fn = std::function<asio::awaitable<void>(std::shared_ptr<Stream>)>;
  tls_listener(asio::io_context& ioc, session_fn s, const std::string& cert, const std::string& key)
      : ioc_(ioc), acceptor_(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), session_(std::move(s)) {
    ctx_.use_certificate_chain_file(cert);
    ctx_.use_private_key_file(key, ssl::context::pem);
    asio::co_spawn(ioc_, accept_loop(), asio::detached);
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  // scheme://host:port/path of this listener.
  net::url url(const std::string& scheme, const std::string& host = "localhost", const std::string& path = "") const {
    return url_of(scheme + "://" + host + ":" + std::to_string(port()) + path);
  }
  int accepts = 0;
  int handshake_failures = 0;

 private:
  static server_stream& tls_of(server_stream& s) { return s; }
  static server_stream& tls_of(ws_server_stream& s) { return s.next_layer(); }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(tok);
      if (ec) co_return;
      ++accepts;
      asio::co_spawn(ioc_, handshake_then_serve(std::make_shared<Stream>(std::move(socket), ctx_)), asio::detached);
    }
  }
  asio::awaitable<void> handshake_then_serve(std::shared_ptr<Stream> s) {
    auto [ec] = co_await tls_of(*s).async_handshake(ssl::stream_base::server, tok);
    if (ec) {
      ++handshake_failures;
      co_return;
    }
    co_await session_(s);
  }

  asio::io_context& ioc_;
  ssl::context ctx_{ssl::context::tls_server};
  tcp::acceptor acceptor_;
  session_fn session_;
};

// What the HTTPS server saw of one request.
struct seen_request {
  std::string method, target, authorization, content_type, host, user_agent, connection, body;
};

// An HTTPS API stand-in whose answers the test sets between requests.
class https_server {
 public:
  explicit https_server(asio::io_context& ioc, const std::string& cert = test_pki().cert_pem,
                        const std::string& key = test_pki().key_pem)
      : listener(ioc, [this](std::shared_ptr<server_stream> s) { return session(std::move(s)); }, cert, key) {}

  tls_listener<server_stream> listener;
  std::vector<seen_request> requests;
  unsigned status = 200;
  std::string retry_after;     // sent when not empty
  std::vector<std::pair<std::string, std::string>> extra_headers;  // sent on every answer
  int close_after = 0;         // close a connection after this many answers (0: never)
  bool never_answer = false;   // read the request, then stay silent
  std::size_t partial_at = 0;  // request number (1-based) answered with half a response, then closed
  int closed_by_server = 0;

 private:
  asio::awaitable<void> session(std::shared_ptr<server_stream> s) {
    beast::flat_buffer buffer;
    int answered = 0;
    for (;;) {
      http::request<http::string_body> req;
      auto [ec, n] = co_await http::async_read(*s, buffer, req, tok);
      if (ec) co_return;
      auto field = [&](http::field f) { return std::string(req[f]); };
      requests.push_back({std::string(req.method_string()), std::string(req.target()),
                          field(http::field::authorization), field(http::field::content_type),
                          field(http::field::host), field(http::field::user_agent),
                          field(http::field::connection), req.body()});
      if (never_answer) continue;  // the next read waits until the client gives up
      if (requests.size() == partial_at) {
        const std::string half = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"ok\":";
        co_await asio::async_write(*s, asio::buffer(half), tok);
        beast::get_lowest_layer(*s).close();
        ++closed_by_server;
        co_return;
      }
      http::response<http::string_body> res{static_cast<http::status>(status), 11};
      res.set(http::field::content_type, "application/json");
      if (!retry_after.empty()) res.set(http::field::retry_after, retry_after);
      for (const auto& [k, v] : extra_headers) res.set(k, v);
      res.body() = "{\"ok\":true,\"target\":\"" + std::string(req.target()) + "\"}";
      res.keep_alive(true);
      res.prepare_payload();
      auto [wec, written] = co_await http::async_write(*s, res, tok);
      if (wec) co_return;
      if (close_after != 0 && ++answered == close_after) {
        // An idle-timeout close as a load balancer does it: no response
        // header announced it, the client finds out on its next request.
        beast::get_lowest_layer(*s).close();
        ++closed_by_server;
        co_return;
      }
    }
  }
};

net::http_request post(const std::string& target, const std::string& body = R"({"text":"hi"})") {
  net::http_request r;
  r.method = "POST";
  r.target = target;
  r.content_type = "application/json; charset=utf-8";
  r.body = body;
  r.bearer = "xoxb-test-secret";
  return r;
}

}  // namespace

TEST_CASE("net: parse_url splits http(s)/ws(s) URLs and refuses others", "[net]") {
  auto u = net::parse_url("HTTPS://Slack.com/api/chat.postMessage?x=1#frag");
  REQUIRE(u);
  CHECK(u->scheme == "https");
  CHECK(u->host == "slack.com");
  CHECK(u->port == "443");
  CHECK(u->target == "/api/chat.postMessage?x=1");
  CHECK(u->origin() == "https://slack.com:443");
  CHECK(u->authority() == "slack.com");

  u = net::parse_url("wss://[::1]:8443");
  REQUIRE(u);
  CHECK(u->host == "::1");
  CHECK(u->port == "8443");
  CHECK(u->target == "/");
  CHECK(u->tls());
  CHECK(u->origin() == "wss://[::1]:8443");
  CHECK(u->authority() == "[::1]:8443");

  u = net::parse_url("http://127.0.0.1:9470?q");
  REQUIRE(u);
  CHECK(u->target == "/?q");
  CHECK_FALSE(u->tls());

  for (const char* bad : {"ftp://example.com/", "example.com/x", "https://", "https://user:pw@example.com/",
                          "https://example.com:0/", "https://example.com:99999/", "https://exa mple.com/",
                          "https://[::1/", "https://example.com/a b"})
    CHECK_FALSE(net::parse_url(bad));

  CHECK(net::is_loopback_host("127.0.0.1"));
  CHECK(net::is_loopback_host("::1"));
  CHECK(net::is_loopback_host("LocalHost"));
  CHECK_FALSE(net::is_loopback_host("127.0.0.2"));
  CHECK_FALSE(net::is_loopback_host("localhost.example.com"));
}

TEST_CASE("net: parse_api_base: https or loopback http, a prefix ending in a slash, errors naming the key", "[net]") {
  auto b = net::parse_api_base("discord.api_base", "https://discord.com/api/v10");
  CHECK(b.origin.host == "discord.com");
  CHECK(b.prefix == "/api/v10/");
  CHECK(net::parse_api_base("slack.api_base", "http://127.0.0.1:8080/api/").prefix == "/api/");
  CHECK_THROWS_WITH(net::parse_api_base("discord.api_base", "http://discord.com/api/"),
                    Catch::Contains("discord.api_base") && Catch::Contains("loopback"));
  CHECK_THROWS_WITH(net::parse_api_base("slack.api_base", "wss://x/"), Catch::Contains("slack.api_base: not an http(s) URL"));
  // URLs the platform hands back: plain only when the API base is plain on loopback.
  CHECK(b.may_use(url_of("wss://gateway.discord.gg/")));
  CHECK_FALSE(b.may_use(url_of("ws://127.0.0.1:1/")));
  auto local = net::parse_api_base("discord.api_base", "http://localhost:9/api/v10/");
  CHECK(local.may_use(url_of("ws://127.0.0.1:1/")));
  CHECK_FALSE(local.may_use(url_of("ws://evil.example/")));
}

TEST_CASE("net: https: requests carry token and body, share one connection and survive an idle close", "[net]") {
  asio::io_context ioc;
  https_server srv(ioc);
  srv.close_after = 2;
  const auto& tls = trusting_test_ca();
  run(ioc, [&]() -> asio::awaitable<void> {
    const auto port = std::to_string(srv.listener.port());
    net::http_client client(ioc.get_executor(), tls, url_of("https://localhost:" + port), short_timeouts());

    // Two requests at once: the second waits for the first on the same connection.
    using namespace asio::experimental::awaitable_operators;
    auto [r1, r2] = co_await (client.request(post("/api/one")) && client.request(post("/api/two")));
    REQUIRE_FALSE(r1.first);
    REQUIRE_FALSE(r2.first);
    CHECK(r1.second.status == 200);
    CHECK(r1.second.body == R"({"ok":true,"target":"/api/one"})");
    CHECK(r2.second.body == R"({"ok":true,"target":"/api/two"})");
    CHECK_FALSE(r1.second.retry_after);
    CHECK(srv.listener.accepts == 1);

    REQUIRE(srv.requests.size() == 2);
    const auto& seen = srv.requests[0];
    CHECK(seen.method == "POST");
    CHECK(seen.target == "/api/one");
    CHECK(seen.authorization == "Bearer xoxb-test-secret");
    CHECK(seen.content_type == "application/json; charset=utf-8");
    CHECK(seen.body == R"({"text":"hi"})");
    CHECK(seen.host == "localhost:" + port);
    CHECK(seen.user_agent.rfind("signoff/", 0) == 0);
    CHECK(seen.connection != "close");

    // The server dropped the idle connection; the next request finds out on
    // write/read, reconnects once and is delivered exactly once.
    const bool closed = co_await eventually([&] { return srv.closed_by_server == 1; });
    REQUIRE(closed);
    auto [ec3, r3] = co_await client.request(post("/api/three"));
    REQUIRE_FALSE(ec3);
    CHECK(r3.status == 200);
    CHECK(srv.listener.accepts == 2);
    CHECK(srv.requests.size() == 3);
  });
}

TEST_CASE("net: https: a response cut off mid-way is an error and is not resent", "[net]") {
  asio::io_context ioc;
  https_server srv(ioc);
  srv.partial_at = 2;
  const auto& tls = trusting_test_ca();
  run(ioc, [&]() -> asio::awaitable<void> {
    net::http_client client(ioc.get_executor(), tls,
                            srv.listener.url("https", "127.0.0.1"), short_timeouts());
    auto [ec1, r1] = co_await client.request(post("/api/one"));
    REQUIRE_FALSE(ec1);
    // The second request goes out on the reused connection; the answer
    // starts and breaks off. The server may have acted on it: no retry.
    auto [ec2, r2] = co_await client.request(post("/api/two"));
    CHECK(ec2);
    CHECK(srv.requests.size() == 2);
    CHECK(srv.listener.accepts == 1);
  });
}

TEST_CASE("net: https: Retry-After of a 429 comes back in seconds", "[net]") {
  asio::io_context ioc;
  https_server srv(ioc);
  const auto& tls = trusting_test_ca();
  run(ioc, [&]() -> asio::awaitable<void> {
    net::http_client client(ioc.get_executor(), tls,
                            srv.listener.url("https", "127.0.0.1"), short_timeouts());
    srv.status = 429;
    srv.retry_after = " 7 ";
    auto [ec, r] = co_await client.request(post("/api/chat.postMessage"));
    REQUIRE_FALSE(ec);
    CHECK(r.status == 429);
    REQUIRE(r.retry_after);
    CHECK(*r.retry_after == 7s);

    srv.retry_after = "Wed, 21 Oct 2026 07:28:00 GMT";  // the date form is not used
    std::tie(ec, r) = co_await client.request(post("/api/chat.postMessage"));
    REQUIRE_FALSE(ec);
    CHECK_FALSE(r.retry_after);
    CHECK(srv.listener.accepts == 1);
  });
}

TEST_CASE("net: https: a non-Bearer Authorization and User-Agent are sent as given, headers come back", "[net]") {
  asio::io_context ioc;
  https_server srv(ioc);
  srv.extra_headers = {{"X-RateLimit-Bucket", "abcd1234"}, {"X-RateLimit-Remaining", "4"}};
  const auto& tls = trusting_test_ca();
  run(ioc, [&]() -> asio::awaitable<void> {
    net::http_client client(ioc.get_executor(), tls, srv.listener.url("https", "127.0.0.1"), short_timeouts());
    auto req = post("/api/v10/channels/1/messages");
    req.bearer.clear();
    req.authorization = "Bot discord-test-secret";
    req.user_agent = "DiscordBot (https://example.com/signoff, 1.0)";
    auto [ec, r] = co_await client.request(std::move(req));
    REQUIRE_FALSE(ec);
    REQUIRE(srv.requests.size() == 1);
    CHECK(srv.requests[0].authorization == "Bot discord-test-secret");
    CHECK(srv.requests[0].user_agent == "DiscordBot (https://example.com/signoff, 1.0)");
    // Names in lower case, whatever case the server used.
    REQUIRE(r.header("x-ratelimit-bucket"));
    CHECK(*r.header("x-ratelimit-bucket") == "abcd1234");
    CHECK(*r.header("x-ratelimit-remaining") == "4");
    CHECK(r.header("content-type"));
    CHECK_FALSE(r.header("x-ratelimit-global"));
    // A header value that would split the request is refused before sending.
    auto bad = post("/api/x");
    bad.authorization = "Bot a\r\nX-Evil: 1";
    auto [ec2, r2] = co_await client.request(std::move(bad));
    CHECK(ec2 == asio::error::invalid_argument);
    CHECK(srv.requests.size() == 1);
  });
}

TEST_CASE("net: https: an untrusted issuer or a wrong host name fails the handshake with a clear error", "[net]") {
  asio::io_context ioc;
  https_server good(ioc);
  https_server wrong_host(ioc, test_pki().wrong_host_cert, test_pki().wrong_host_key);
  const auto& other_ca = trusting_other_ca();
  const auto& test_ca = trusting_test_ca();
  run(ioc, [&]() -> asio::awaitable<void> {
    {
      net::http_client client(ioc.get_executor(), other_ca,
                              good.listener.url("https"), short_timeouts());
      auto [ec, r] = co_await client.request(post("/api/x"));
      INFO(ec.message());
      CHECK(ec.category() == net::tls_verify_category());
      CHECK(ec.value() == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
      CHECK(ec.message() == "TLS certificate verification failed: unable to get local issuer certificate");
    }
    for (const char* host : {"localhost", "127.0.0.1"}) {
      net::http_client client(ioc.get_executor(), test_ca,
                              wrong_host.listener.url("https", host),
                              short_timeouts());
      auto [ec, r] = co_await client.request(post("/api/x"));
      INFO(host << ": " << ec.message());
      CHECK(ec.category() == net::tls_verify_category());
      if (host == std::string("localhost")) {
        CHECK(ec.message() == "TLS certificate verification failed: hostname mismatch");
      } else {
        CHECK(ec.message() == "TLS certificate verification failed: IP address mismatch");
      }
    }
    // Nothing, the token least of all, reached either server.
    CHECK(good.requests.empty());
    CHECK(wrong_host.requests.empty());
    CHECK(good.listener.accepts == 1);
    CHECK(wrong_host.listener.accepts == 2);
  });
}

TEST_CASE("net: https: a server that never answers fails the request at the exchange deadline", "[net]") {
  asio::io_context ioc;
  https_server srv(ioc);
  srv.never_answer = true;
  const auto& tls = trusting_test_ca();
  run(ioc, [&]() -> asio::awaitable<void> {
    auto t = short_timeouts();
    t.exchange = 200ms;
    net::http_client client(ioc.get_executor(), tls,
                            srv.listener.url("https"), t);
    const auto start = std::chrono::steady_clock::now();
    auto [ec, r] = co_await client.request(post("/api/x"));
    const auto took = std::chrono::steady_clock::now() - start;
    INFO(ec.message());
    CHECK(ec == beast::error::timeout);
    CHECK(took >= 150ms);
    CHECK(took < 3s);
    CHECK(srv.requests.size() == 1);  // sent once, not retried after the timeout

    // A listener that never accepts: the kernel completes the TCP handshake
    // from its backlog and nobody ever speaks TLS, so the handshake deadline ends it.
    tcp::acceptor mute(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    t.handshake = 200ms;
    net::http_client silent(ioc.get_executor(), tls,
                            url_of("https://localhost:" + std::to_string(mute.local_endpoint().port())), t);
    std::tie(ec, r) = co_await silent.request(post("/api/x"));
    INFO(ec.message());
    CHECK(ec == beast::error::timeout);
  });
}

TEST_CASE("net: tls_context names a CA file it cannot load", "[net]") {
  const std::string missing = "/nonexistent/signoff/corp-ca.pem";
  try {
    net::tls_context tls(missing);
    FAIL("no exception");
  } catch (const std::runtime_error& e) {
    CHECK_THAT(e.what(), Catch::Contains(missing));
  }
  signoff::test::temp_dir dir;
  const auto not_pem = dir.write("not-a-ca.pem", "hello\n");
  CHECK_THROWS_WITH(net::tls_context(not_pem), Catch::Contains(not_pem));
  CHECK_NOTHROW(net::tls_context(""));
}

TEST_CASE("net: http_server answers GET through its handler, refuses other methods, names a busy address", "[net]") {
  asio::io_context ioc;
  std::vector<std::string> targets;
  net::http_server server(ioc.get_executor(), "127.0.0.1:0", [&](std::string_view target) {
    targets.emplace_back(target);
    if (target == "/healthz") return net::http_reply{200, "text/plain; charset=utf-8", "ok\n"};
    return net::http_reply{404, "text/plain; charset=utf-8", "not found\n"};
  });
  REQUIRE(server.port() != 0);
  server.start();
  const std::string address = "127.0.0.1:" + std::to_string(server.port());
  const auto& tls = trusting_test_ca();  // plain http never uses it
  run(ioc, [&]() -> asio::awaitable<void> {
    // Plain http is fine on loopback.
    net::http_client client(ioc.get_executor(), tls, url_of("http://" + address), short_timeouts());
    net::http_request get;
    get.method = "GET";
    get.target = "/healthz";
    auto [ec, r] = co_await client.request(get);
    REQUIRE_FALSE(ec);
    CHECK(r.status == 200);
    CHECK(r.body == "ok\n");

    get.target = "/nope";
    std::tie(ec, r) = co_await client.request(get);  // the server closed the last connection: reconnect
    REQUIRE_FALSE(ec);
    CHECK(r.status == 404);

    std::tie(ec, r) = co_await client.request(post("/healthz"));
    REQUIRE_FALSE(ec);
    CHECK(r.status == 405);
    CHECK(targets == std::vector<std::string>{"/healthz", "/nope"});  // the POST never reached the handler
  });
  CHECK_THROWS_WITH(net::http_server(ioc.get_executor(), address, [](std::string_view) { return net::http_reply{}; }),
                    Catch::Contains(address));
  CHECK_THROWS_WITH(net::http_server(ioc.get_executor(), "nonsense", [](std::string_view) { return net::http_reply{}; }),
                    Catch::Contains("nonsense"));
}

TEST_CASE("net: http_server hands a POST route its body and answers when the route's coroutine does", "[net]") {
  asio::io_context ioc;
  net::http_server server(ioc.get_executor(), "127.0.0.1:0",
                          [](std::string_view) { return net::http_reply{200, "text/plain", "get\n"}; });
  std::vector<std::string> bodies;
  server.route_post("/mattermost/actions", [&](std::string body) -> asio::awaitable<net::http_reply> {
    bodies.push_back(body);
    // The answer may wait (a commit): the connection stays open meanwhile.
    asio::steady_timer t(ioc.get_executor(), std::chrono::milliseconds(50));
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return net::http_reply{200, "application/json", "{\"echo\":" + std::to_string(body.size()) + "}"};
  });
  server.start();
  const auto& tls = trusting_test_ca();
  run(ioc, [&]() -> asio::awaitable<void> {
    net::http_client client(ioc.get_executor(), tls, url_of("http://127.0.0.1:" + std::to_string(server.port())),
                            short_timeouts());
    auto req = post("/mattermost/actions?x=1");
    req.body = "{\"a\":1}";
    auto [ec, r] = co_await client.request(req);
    REQUIRE_FALSE(ec);
    CHECK(r.status == 200);
    CHECK(r.body == "{\"echo\":7}");
    // Another path, or GET on the route's path, never reaches the route.
    std::tie(ec, r) = co_await client.request(post("/mattermost/other"));
    REQUIRE_FALSE(ec);
    CHECK(r.status == 405);
    net::http_request get;
    get.method = "GET";
    get.target = "/mattermost/actions";
    std::tie(ec, r) = co_await client.request(get);
    REQUIRE_FALSE(ec);
    CHECK(r.body == "get\n");
    auto put = post("/mattermost/actions");
    put.method = "PUT";
    std::tie(ec, r) = co_await client.request(put);
    REQUIRE_FALSE(ec);
    CHECK(r.status == 405);
  });
  CHECK(bodies == std::vector<std::string>{"{\"a\":1}"});
}

TEST_CASE("net: plain http and ws to a non-loopback host are refused before any connection", "[net]") {
  asio::io_context ioc;
  const auto& tls = trusting_test_ca();  // plain http never uses it
  run(ioc, [&]() -> asio::awaitable<void> {
    // 192.0.2.1 (TEST-NET-1) never answers: a connect attempt would end in a
    // timeout or unreachable error, not access_denied.
    for (const char* origin : {"http://192.0.2.1:8080", "http://example.com"}) {
      net::http_client client(ioc.get_executor(), tls, url_of(origin));
      auto [ec, r] = co_await client.request(post("/api/x"));
      INFO(origin);
      CHECK(ec == asio::error::access_denied);
    }
    auto [ec, ws] = co_await net::ws_client::connect(ioc.get_executor(), tls, url_of("ws://192.0.2.1/socket"));
    CHECK(ec == asio::error::access_denied);
    CHECK_FALSE(ws);
  });
}

namespace {

// A secure websocket server with one scripted behaviour per test.
class wss_server {
 public:
  enum class mode { echo, big_message, close_1011, silent };
  wss_server(asio::io_context& ioc, mode m)
      : listener(
            ioc, [this](std::shared_ptr<ws_server_stream> s) { return session(std::move(s)); },
            test_pki().cert_pem, test_pki().key_pem),
        mode_(m) {}

  tls_listener<ws_server_stream> listener;
  std::string host, user_agent, target;  // of the upgrade request
  std::vector<std::string> received;
  bool closed_by_client = false;
  std::uint16_t close_code_seen = 0;  // in the client's close frame

 private:
  asio::awaitable<void> session(std::shared_ptr<ws_server_stream> ws) {
    beast::flat_buffer buffer;
    http::request<http::string_body> upgrade;
    auto [rec, n] = co_await http::async_read(ws->next_layer(), buffer, upgrade, tok);
    if (rec) co_return;
    host = std::string(upgrade[http::field::host]);
    user_agent = std::string(upgrade[http::field::user_agent]);
    target = std::string(upgrade.target());
    auto [aec] = co_await ws->async_accept(upgrade, tok);
    if (aec) co_return;
    ws->text(true);
    switch (mode_) {
      case mode::big_message:
        co_await ws->async_write(asio::buffer(std::string(4096, 'x')), tok);
        break;
      case mode::close_1011:
        co_await ws->async_close(websocket::close_reason(1011), tok);
        co_return;
      case mode::silent: {
        // No read is pending, so the client's pings go unanswered.
        asio::steady_timer forever(ws->get_executor(), std::chrono::hours(1));
        co_await forever.async_wait(tok);
        co_return;
      }
      case mode::echo:
        break;
    }
    for (;;) {
      beast::flat_buffer message;
      auto [ec, m] = co_await ws->async_read(message, tok);
      if (ec) {
        closed_by_client = ec == websocket::error::closed;
        close_code_seen = static_cast<std::uint16_t>(ws->reason().code);
        co_return;
      }
      received.push_back(beast::buffers_to_string(message.data()));
      co_await ws->async_write(message.data(), tok);
    }
  }

  mode mode_;
};

// A websocket to a test server that must connect.
asio::awaitable<std::unique_ptr<net::ws_client>> connect_ok(asio::io_context& ioc, net::url u,
                                                            net::timeouts t = short_timeouts(),
                                                            std::size_t max_message = 1 << 20) {
  auto [ec, ws] = co_await net::ws_client::connect(ioc.get_executor(), trusting_test_ca(), std::move(u), t, max_message);
  INFO(ec.message());
  REQUIRE_FALSE(ec);
  REQUIRE(ws);
  co_return std::move(ws);
}

}  // namespace

TEST_CASE("net: ws_client: wss echo, then a clean close", "[net]") {
  asio::io_context ioc;
  wss_server srv(ioc, wss_server::mode::echo);
  run(ioc, [&]() -> asio::awaitable<void> {
    const auto port = std::to_string(srv.listener.port());
    auto ws = co_await connect_ok(ioc, srv.listener.url("wss", "localhost", "/link?ticket=1"));
    CHECK(srv.host == "localhost:" + port);
    CHECK(srv.target == "/link?ticket=1");
    CHECK(srv.user_agent.rfind("signoff/", 0) == 0);
    std::string got;
    for (const std::string text : {R"({"envelope_id":"1"})", "second"}) {
      const error_code wec = co_await ws->write(text);
      REQUIRE_FALSE(wec);
      const error_code rec = co_await ws->read(got);
      REQUIRE_FALSE(rec);
      CHECK(got == text);
    }
    const error_code cec = co_await ws->close(1000);
    CHECK_FALSE(cec);
    CHECK(srv.received.size() == 2);
    const bool seen_close = co_await eventually([&] { return srv.closed_by_client; });
    CHECK(seen_close);
    CHECK(srv.close_code_seen == 1000);
  });
}

TEST_CASE("net: ws_client: a message over max_message fails with message_too_big", "[net]") {
  asio::io_context ioc;
  wss_server srv(ioc, wss_server::mode::big_message);
  run(ioc, [&]() -> asio::awaitable<void> {
    auto ws = co_await connect_ok(ioc, srv.listener.url("wss"), short_timeouts(), 1024);
    std::string got;
    const error_code rec = co_await ws->read(got);
    CHECK(rec == websocket::error::message_too_big);
    CHECK(got.empty());
    // The client failed the connection with 1009 ("message too big").
    const bool seen_close = co_await eventually([&] { return srv.closed_by_client; });
    CHECK(seen_close);
    CHECK(srv.close_code_seen == 1009);
  });
}

TEST_CASE("net: ws_client: the server's close code is reported", "[net]") {
  asio::io_context ioc;
  wss_server srv(ioc, wss_server::mode::close_1011);
  run(ioc, [&]() -> asio::awaitable<void> {
    auto ws = co_await connect_ok(ioc, srv.listener.url("wss", "127.0.0.1"));
    CHECK(ws->close_code() == 0);
    std::string got;
    const error_code rec = co_await ws->read(got);
    CHECK(rec == websocket::error::closed);
    CHECK(ws->close_code() == 1011);
  });
}

TEST_CASE("net: ws_client: a peer that stops answering pings ends the read at the idle timeout", "[net]") {
  asio::io_context ioc;
  wss_server srv(ioc, wss_server::mode::silent);
  run(ioc, [&]() -> asio::awaitable<void> {
    auto t = short_timeouts();
    t.ws_idle = 300ms;
    auto ws = co_await connect_ok(ioc, srv.listener.url("wss"), t);
    const auto start = std::chrono::steady_clock::now();
    std::string got;
    const auto rec = co_await ws->read(got);
    INFO(rec.message());
    CHECK(rec == beast::error::timeout);
    CHECK(std::chrono::steady_clock::now() - start >= 250ms);
  });
}

TEST_CASE("net: ws_client: wss with an untrusted certificate is refused", "[net]") {
  asio::io_context ioc;
  wss_server srv(ioc, wss_server::mode::echo);
  run(ioc, [&]() -> asio::awaitable<void> {
    auto [ec, ws] = co_await net::ws_client::connect(ioc.get_executor(), trusting_other_ca(),
                                                     srv.listener.url("wss"), short_timeouts());
    CHECK(ec.category() == net::tls_verify_category());
    CHECK_FALSE(ws);
    CHECK(srv.host.empty());  // no upgrade request was sent
  });
}
