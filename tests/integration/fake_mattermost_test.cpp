// The fake Mattermost follows Mattermost's protocol: proven with raw clients
// (a Beast websocket that can carry an Authorization header on the upgrade,
// net::http_client for REST, both verifying the fake's certificate against
// the throw-away test CA, and a tiny plain-HTTP listener standing in for the
// bot's action endpoint), so what the bot sees from the fake is what these
// tests see (tests/fakes/fake_mattermost.hpp).
#include "fakes/fake_mattermost.hpp"
#include "support/run_io.hpp"
#include "support/test_pki.hpp"

#include "bot/net/net.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
namespace json = boost::json;
namespace net = signoff::net;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using signoff::test::fake_mattermost;
using namespace std::chrono_literals;

constexpr auto tok = asio::as_tuple(asio::use_awaitable);
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

const fake_mattermost::options defaults;
const std::string bot_token = defaults.token;
const std::string alice = "alice000000000000000000000", bob = "bob00000000000000000000000";
const std::string town = "town0000000000000000000000", secret = "secret00000000000000000000";

std::string s_of(const json::value& v) { return v.is_string() ? std::string(v.get_string()) : std::string{}; }

bool has_error(const fake_mattermost& f, std::string_view what) {
  for (const auto& e : f.protocol_errors())
    if (e.find(what) != std::string::npos) return true;
  return false;
}

// A fake with alice, bob, "town" (the bot is in it) and "secret" (it is not).
void populate(fake_mattermost& f) {
  f.add_user(alice, "alice");
  f.add_user(bob, "bob");
  f.add_channel(town, "town");
  f.add_channel(secret, "secret", false);
}

// ---- the websocket -------------------------------------------------------------

template <class T>
T run(asio::io_context& ioc, asio::awaitable<T> a, std::chrono::milliseconds limit = 5s) {
  std::optional<T> out;
  std::exception_ptr err;
  bool done = false;
  asio::co_spawn(ioc, std::move(a), [&](std::exception_ptr e, T v) {
    done = true;
    err = e;
    if (!e) out.emplace(std::move(v));
  });
  ioc.restart();
  ioc.run_for(limit);
  if (!done) throw std::runtime_error("client step timed out");
  if (err) std::rethrow_exception(err);
  return std::move(*out);
}

struct ws_client {
  asio::io_context ioc;
  ssl::context ctx{ssl::context::tls_client};
  websocket::stream<tls_stream> ws{ioc, ctx};
  beast::flat_buffer buf;
  websocket::response_type response;
  std::int64_t next_seq = 1;

  ws_client() {
    ctx.load_verify_file(signoff::test::test_pki().ca_pem);
    ctx.set_verify_mode(ssl::verify_peer);
  }

  asio::awaitable<error_code> connect_(std::uint16_t port, std::string target, std::string bearer) {
    SSL_set_tlsext_host_name(ws.next_layer().native_handle(), "localhost");
    ws.next_layer().set_verify_callback(ssl::host_name_verification("localhost"));
    if (!bearer.empty())
      ws.set_option(websocket::stream_base::decorator(
          [bearer](websocket::request_type& r) { r.set(beast::http::field::authorization, "Bearer " + bearer); }));
    beast::get_lowest_layer(ws).expires_after(5s);
    auto [ec] = co_await beast::get_lowest_layer(ws).async_connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), tok);
    if (ec) co_return ec;
    auto [hec] = co_await ws.next_layer().async_handshake(ssl::stream_base::client, tok);
    if (hec) co_return hec;
    auto [wec] = co_await ws.async_handshake(response, "localhost:" + std::to_string(port), target, tok);
    beast::get_lowest_layer(ws).expires_never();
    co_return wec;
  }
  error_code connect(const fake_mattermost& f, const std::string& query = "", const std::string& bearer = bot_token) {
    return run(ioc, connect_(f.port(), "/api/v4/websocket" + query, bearer));
  }

  struct frame {
    error_code ec;
    std::string text;
  };
  asio::awaitable<frame> read_(std::chrono::milliseconds limit) {
    beast::get_lowest_layer(ws).expires_after(limit);
    buf.clear();
    auto [ec, n] = co_await ws.async_read(buf, tok);
    co_return frame{ec, beast::buffers_to_string(buf.cdata())};
  }
  frame read(std::chrono::milliseconds limit = 3s) { return run(ioc, read_(limit), limit + 1s); }
  // The next message; nullopt when none comes within `limit` or the link ends.
  std::optional<json::object> next(std::chrono::milliseconds limit = 3s) {
    auto f = read(limit);
    if (f.ec) return std::nullopt;
    json::value v = json::parse(f.text);
    REQUIRE(v.is_object());
    return v.get_object();
  }
  json::object must_next() {
    auto m = next();
    REQUIRE(m);
    return *m;
  }
  // True once the link ended; `code` gets the close code (0: no close frame).
  bool ended(std::uint16_t& code) {
    for (int i = 0; i < 50; ++i) {
      auto f = read(2s);
      if (f.ec == beast::error::timeout) return false;
      if (f.ec) {
        code = ws.reason().code;
        return true;
      }
    }
    return false;
  }

  asio::awaitable<error_code> write_(std::string text) {
    beast::get_lowest_layer(ws).expires_after(3s);
    auto [ec, n] = co_await ws.async_write(asio::buffer(text), tok);
    co_return ec;
  }
  void write(const std::string& text) { REQUIRE_FALSE(run(ioc, write_(text))); }
  std::int64_t request(const std::string& action, const json::object& data = {}) {
    std::int64_t seq = next_seq++;
    json::object o{{"seq", seq}, {"action", action}};
    if (!data.empty()) o["data"] = data;
    write(json::serialize(o));
    return seq;
  }
};

// An authenticated link (Bearer on the upgrade); returns the hello.
json::object hello_on(ws_client& c, const fake_mattermost& f, const std::string& query = "") {
  REQUIRE_FALSE(c.connect(f, query));
  auto h = c.must_next();
  REQUIRE(s_of(h.at("event")) == "hello");
  return h;
}

// The next event named `name`, skipping others.
json::object event_named(ws_client& c, std::string_view name) {
  for (int i = 0; i < 10; ++i) {
    auto m = c.must_next();
    if (s_of(m["event"]) == name) return m;
  }
  FAIL("no " << name << " event");
  return {};
}

json::object post_of(const json::object& ev) {
  json::value v = json::parse(ev.at("data").at("post").as_string());  // a JSON string in a JSON object
  REQUIRE(v.is_object());
  return v.get_object();
}

// ---- REST ----------------------------------------------------------------------

struct rest_answer {
  unsigned status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string raw;
  json::value body;
  std::string header(const std::string& k) const {
    for (const auto& [n, v] : headers)
      if (n == k) return v;
    return {};
  }
  const json::object& object() const {
    REQUIRE(body.is_object());
    return body.get_object();
  }
};

rest_answer rest(const fake_mattermost& f, const std::string& method, const std::string& path,
                 const json::value& body = nullptr, std::optional<std::string> bearer = std::nullopt) {
  asio::io_context ioc;
  net::tls_context tls{signoff::test::test_pki().ca_pem};
  auto origin = net::parse_url(f.url());
  REQUIRE(origin);
  net::http_client client(ioc.get_executor(), tls, *origin);
  net::http_request req;
  req.method = method;
  req.target = "/api/v4" + path;
  req.bearer = bearer.value_or(bot_token);
  if (!body.is_null()) {
    req.content_type = "application/json";
    req.body = json::serialize(body);
  }
  error_code ec;
  net::http_response res;
  signoff::test::run_io(ioc, [&]() -> asio::awaitable<void> {
    auto [e, r] = co_await client.request(req);
    ec = e;
    res = std::move(r);
  });
  REQUIRE_FALSE(ec);
  rest_answer out;
  out.status = res.status;
  out.headers = res.headers;
  out.raw = res.body;
  boost::system::error_code pec;
  if (!res.body.empty()) out.body = json::parse(res.body, pec);
  return out;
}

void check_app_error(const rest_answer& a, unsigned status, std::string_view id) {
  CHECK(a.status == status);
  REQUIRE(a.body.is_object());
  CHECK(s_of(a.object().at("id")) == id);
  CHECK(a.object().at("status_code") == status);
  CHECK(a.object().contains("message"));
  CHECK(a.object().contains("request_id"));
  CHECK(a.object().contains("detailed_error"));
}

// ---- the bot's action endpoint: a plain-HTTP listener answering one canned body ----

struct action_endpoint {
  int fd = -1;
  std::uint16_t port = 0;
  std::thread thread;
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::string> bodies;  // request bodies received
  int status = 200;
  std::string answer = "{}";

  action_endpoint() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    ::listen(fd, 8);
    thread = std::thread([this] { serve(); });
  }
  ~action_endpoint() {
    stop = true;
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
    thread.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port) + "/mattermost/actions"; }
  void set(int s, std::string body) {
    std::lock_guard lk(mu);
    status = s;
    answer = std::move(body);
  }
  json::object last() {
    std::lock_guard lk(mu);
    REQUIRE_FALSE(bodies.empty());
    return json::parse(bodies.back()).as_object();
  }

  void serve() {
    while (!stop) {
      int c = ::accept(fd, nullptr, nullptr);
      if (c < 0) return;
      std::string in;
      char buf[4096];
      std::size_t need = std::string::npos;
      while (need == std::string::npos || in.size() < need) {
        auto n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, static_cast<std::size_t>(n));
        auto end = in.find("\r\n\r\n");
        if (end != std::string::npos && need == std::string::npos) {
          auto cl = in.find("Content-Length: ");
          std::size_t len = cl == std::string::npos ? 0 : std::stoul(in.substr(cl + 16));
          need = end + 4 + len;
        }
      }
      std::string reply;
      {
        std::lock_guard lk(mu);
        auto end = in.find("\r\n\r\n");
        bodies.push_back(end == std::string::npos ? std::string{} : in.substr(end + 4));
        reply = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\nContent-Length: " +
                std::to_string(answer.size()) + "\r\nConnection: close\r\n\r\n" + answer;
      }
      ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }
};

json::object card_props(const std::string& url, const std::string& action_id = "approve1") {
  json::object integration{{"url", url}, {"context", {{"draft", "D-1@1"}, {"tag", "abc"}}}};
  json::object button{{"id", action_id}, {"type", "button"}, {"name", "Approve"}, {"style", "primary"},
                      {"integration", integration}};
  return {{"attachments", json::array{json::object{{"text", "D-1"}, {"actions", json::array{button}}}}}};
}

}  // namespace

TEST_CASE("header-authenticated websocket: hello at seq 0, ping action, router errors", "[mattermost][fake_mattermost]") {
  fake_mattermost f;
  ws_client c;
  auto hello = hello_on(c, f);
  CHECK(hello.at("seq") == 0);
  std::string id = s_of(hello.at("data").at("connection_id"));
  CHECK(id.size() == 26);
  CHECK_FALSE(s_of(hello.at("data").at("server_version")).empty());
  CHECK(s_of(hello.at("broadcast").at("user_id")) == defaults.bot_user_id);
  CHECK(f.hellos() == 1);
  CHECK(f.wait_connected(1, 1s));
  CHECK(f.connections() == 1);

  auto seq = c.request("ping");
  auto pong = c.must_next();
  CHECK(pong.at("status") == "OK");
  CHECK(pong.at("seq_reply") == seq);
  CHECK(pong.at("data").at("text") == "pong");
  CHECK(pong.at("data").at("node_id") == "");
  CHECK(pong.at("data").at("server_time").as_int64() > 1'700'000'000'000);
  CHECK_FALSE(pong.contains("seq"));  // responses are not numbered
  CHECK(f.protocol_errors().empty());

  // A challenge on an authenticated link is ignored: the next answer is the ping's.
  c.request("authentication_challenge", {{"token", bot_token}});
  auto after = c.request("ping");
  CHECK(c.must_next().at("seq_reply") == after);

  c.write(R"({"seq":0,"action":"ping"})");
  auto bad_seq = c.must_next();
  CHECK(bad_seq.at("status") == "FAIL");
  CHECK_FALSE(bad_seq.contains("seq_reply"));  // omitempty
  CHECK(bad_seq.at("error").at("id") == "api.web_socket_router.bad_seq.app_error");
  c.write(R"({"seq":10,"action":""})");
  CHECK(c.must_next().at("error").at("id") == "api.web_socket_router.no_action.app_error");
  c.write(R"({"seq":11,"action":"junk"})");
  auto junk = c.must_next();
  CHECK(junk.at("error").at("id") == "api.web_socket_router.bad_action.app_error");
  CHECK(junk.at("error").at("status_code") == 500);
  c.write(R"({"seq":5,"action":"ping"})");  // seq went down
  CHECK(c.must_next().at("seq_reply") == 5);
  for (const char* e : {"seq <= 0", "without an action", "unknown action", "not above"}) CHECK(has_error(f, e));

  c.write("not json");
  std::uint16_t code = 1;
  CHECK(c.ended(code));
  CHECK(code == 0);  // a decode error: raw close, no close frame
  CHECK(has_error(f, "not a JSON WebSocketRequest"));
}

TEST_CASE("challenge authentication: hello then OK, wrong tokens, nothing answered before it", "[mattermost][fake_mattermost]") {
  fake_mattermost f;
  {
    ws_client c;
    REQUIRE_FALSE(c.connect(f, "", ""));  // no Authorization
    c.request("ping");  // not_authenticated is dropped by the hub: the first thing to come is the hello
    auto seq = c.request("authentication_challenge", {{"token", bot_token}});
    auto hello = c.must_next();
    CHECK(hello.at("event") == "hello");
    CHECK(hello.at("seq") == 0);
    auto ok = c.must_next();
    CHECK(ok.at("status") == "OK");
    CHECK(ok.at("seq_reply") == seq);
    CHECK(f.connections() == 1);
    CHECK(has_error(f, "before authentication"));
  }
  {
    ws_client c;
    REQUIRE_FALSE(c.connect(f, "", ""));
    c.request("authentication_challenge", {{"token", "wrongwrongwrongwrongwrong0"}});
    std::uint16_t code = 1;
    CHECK(c.ended(code));
    CHECK(code == 0);
    CHECK(has_error(f, "authentication_challenge without the right token"));
  }
  {
    // A wrong Bearer on the upgrade is not refused (the route needs no session): unauthenticated.
    ws_client c;
    REQUIRE_FALSE(c.connect(f, "", "wrongwrongwrongwrongwrong0"));
    auto seq = c.request("authentication_challenge", {{"token", bot_token}});  // no hello came before it
    CHECK(c.must_next().at("event") == "hello");
    CHECK(c.must_next().at("seq_reply") == seq);
    CHECK(has_error(f, "wrong Bearer token"));
  }
  for (const auto& e : f.protocol_errors()) CHECK(e.find(bot_token) == std::string::npos);
  f.refuse_connections(true);
  ws_client down;
  CHECK(down.connect(f));
  f.refuse_connections(false);
  CHECK(rest(f, "GET", "/users/me").status == 200);
}

TEST_CASE("posted events: Mattermost's shape, to members only, the bot's own posts included", "[mattermost][fake_mattermost]") {
  fake_mattermost f;
  populate(f);
  ws_client c;
  hello_on(c, f);
  f.post_as(alice, secret, "not for the bot");
  std::string id = f.post_as(alice, town, "!signoff draft new hello");
  auto ev = event_named(c, "posted");
  CHECK(ev.at("seq") == 1);
  const auto& d = ev.at("data").get_object();
  CHECK(d.at("channel_type") == "O");
  CHECK(d.at("channel_name") == "town");
  CHECK(d.at("sender_name") == "@alice");
  CHECK(s_of(d.at("team_id")) == defaults.team_id);
  CHECK(d.at("set_online") == true);
  CHECK(s_of(ev.at("broadcast").at("channel_id")) == town);
  auto p = post_of(ev);
  CHECK(s_of(p.at("id")) == id);
  CHECK(p.at("message") == "!signoff draft new hello");
  CHECK(s_of(p.at("user_id")) == alice);
  CHECK(p.at("root_id") == "");
  CHECK(p.at("edit_at") == 0);
  CHECK(p.at("props").as_object().empty());

  auto made = rest(f, "POST", "/posts", json::object{{"channel_id", town}, {"message", "D-1 created"}, {"root_id", id}});
  REQUIRE(made.status == 201);
  auto own = post_of(event_named(c, "posted"));
  CHECK(s_of(own.at("user_id")) == defaults.bot_user_id);
  CHECK(own.at("props").at("from_bot") == "true");
  CHECK(s_of(own.at("root_id")) == id);
  CHECK(f.wait_reply(id, 1s));

  std::string dm = f.dm_channel_of(bob);
  f.post_as(bob, dm, "!signoff escalations");
  auto dev = event_named(c, "posted");
  CHECK(dev.at("seq") == 3);
  CHECK(dev.at("data").at("channel_type") == "D");
  CHECK(dev.at("data").at("team_id") == "");
  CHECK(s_of(dev.at("data").at("channel_name")) ==
        std::min(bob, defaults.bot_user_id) + "__" + std::max(bob, defaults.bot_user_id));
  CHECK(f.protocol_errors().empty());
}

TEST_CASE("reliable websockets: resume from the dead queue, lossless, lossy and fresh", "[mattermost][fake_mattermost]") {
  fake_mattermost::options o;
  o.dead_queue = 3;
  fake_mattermost f(o);
  populate(f);
  ws_client c;
  std::string id = s_of(hello_on(c, f).at("data").at("connection_id"));
  for (int i = 0; i < 4; ++i) f.post_as(alice, town, "m" + std::to_string(i));
  for (int i = 0; i < 4; ++i) CHECK(c.must_next().at("seq") == i + 1);  // seqs 1..4; the dead queue holds 2..4
  f.drop_links();
  CHECK(f.connections() == 0);
  f.post_as(alice, town, "while away");  // queued for the inactive connection ID: seq 5 once written

  auto reconnect = [&](ws_client& r, const std::string& conn, std::int64_t n) {
    REQUIRE_FALSE(r.connect(f, "?connection_id=" + conn + "&sequence_number=" + std::to_string(n)));
  };
  {
    ws_client r;  // the client saw up to 2: replay 3, 4, then the queued 5; no hello
    reconnect(r, id, 3);
    for (std::int64_t s : {3, 4}) CHECK(r.must_next().at("seq") == s);
    auto away = r.must_next();
    CHECK(away.at("seq") == 5);
    CHECK(post_of(away).at("message") == "while away");
    CHECK(f.resumes() == 1);
    CHECK(f.hellos() == 1);
    f.drop_links();
  }
  f.post_as(alice, town, "second absence");
  {
    ws_client r;  // lossless: the client has everything up to 5
    reconnect(r, id, 6);
    auto next = r.must_next();
    CHECK(next.at("seq") == 6);
    CHECK(post_of(next).at("message") == "second absence");
    CHECK(f.resumes() == 2);
    // A second socket for an ID that is still active: the server has not seen the first go, so fresh.
    ws_client twin;
    reconnect(twin, id, 7);
    auto h = twin.must_next();
    CHECK(h.at("event") == "hello");
    CHECK(s_of(h.at("data").at("connection_id")) != id);
    CHECK(f.hellos() == 2);
    f.drop_links();
  }
  f.post_as(alice, town, "third absence");
  {
    ws_client r;  // lossy: seq 2 has left the dead queue (4..6): a new ID, hello at 0, then the backlog
    reconnect(r, id, 2);
    auto h = r.must_next();
    CHECK(h.at("event") == "hello");
    CHECK(h.at("seq") == 0);
    std::string renamed = s_of(h.at("data").at("connection_id"));
    CHECK(renamed != id);
    auto backlog = r.must_next();
    CHECK(backlog.at("seq") == 1);
    CHECK(post_of(backlog).at("message") == "third absence");
    CHECK(f.hellos() == 3);
    f.drop_links();
    ws_client again;  // the old ID is gone
    reconnect(again, id, 7);
    CHECK(again.must_next().at("event") == "hello");
    f.drop_links();
    ws_client challenge_only;  // no Authorization: connection_id is not honoured
    REQUIRE_FALSE(challenge_only.connect(f, "?connection_id=" + renamed + "&sequence_number=2", ""));
    challenge_only.request("authentication_challenge", {{"token", bot_token}});
    auto fresh = challenge_only.must_next();
    CHECK(fresh.at("event") == "hello");
    CHECK(s_of(fresh.at("data").at("connection_id")) != renamed);
  }
  CHECK(f.protocol_errors().empty());
  ws_client broken;
  REQUIRE_FALSE(broken.connect(f, "?connection_id=short&sequence_number=1"));
  std::uint16_t code = 1;
  CHECK(broken.ended(code));
  CHECK(code == 0);
  CHECK(has_error(f, "invalid connection_id"));
}

TEST_CASE("reliable websockets: an expired or overflowing connection ID is gone, a restart forgets all",
          "[mattermost][fake_mattermost]") {
  fake_mattermost::options o;
  o.inactive_ttl = 200ms;
  o.send_queue = 3;
  fake_mattermost f(o);
  populate(f);
  auto resume_after = [&](const std::function<void()>& meanwhile) {
    ws_client c;
    std::string id = s_of(hello_on(c, f).at("data").at("connection_id"));
    f.drop_links();
    meanwhile();
    f.post_as(alice, town, "backlog");
    ws_client r;
    REQUIRE_FALSE(r.connect(f, "?connection_id=" + id + "&sequence_number=1"));
    return r.must_next();
  };
  CHECK(resume_after([] {}).at("event") == "posted");  // control: a lossless resume writes the backlog
  CHECK(resume_after([&] { std::this_thread::sleep_for(300ms); }).at("event") == "hello");  // expired
  CHECK(resume_after([&] {
          for (int i = 0; i < 4; ++i) f.post_as(alice, town, "flood");  // a 4th event overflows the queue of 3
        }).at("event") == "hello");
  CHECK(resume_after([&] { f.forget_connections(); }).at("event") == "hello");
  CHECK(f.protocol_errors().empty());
}

TEST_CASE("zombie server, close codes and server pings", "[mattermost][fake_mattermost]") {
  fake_mattermost::options o;
  o.server_ping = 100ms;
  fake_mattermost f(o);
  populate(f);
  ws_client c;
  hello_on(c, f);
  f.zombie(true);
  c.request("ping");  // never answered
  f.post_as(alice, town, "held back");
  std::this_thread::sleep_for(400ms);
  f.zombie(false);
  auto held = c.must_next();  // the held event, not a pong
  CHECK(held.at("event") == "posted");
  CHECK(held.at("seq") == 1);
  auto seq = c.request("ping");
  CHECK(c.must_next().at("seq_reply") == seq);
  // While a read is outstanding the client (Beast) answers the server's ping
  // frames: the link outlives several pong waits (5/3 of the ping interval).
  std::thread later([&] {
    std::this_thread::sleep_for(600ms);
    f.send_raw(R"({"event":"marker","data":{},"broadcast":{},"seq":99})");
  });
  auto marker = c.next();
  later.join();
  REQUIRE(marker);
  CHECK(marker->at("event") == "marker");
  CHECK(f.connections() == 1);
  f.close_links(4000);
  std::uint16_t code = 0;
  CHECK(c.ended(code));
  CHECK(code == 4000);
  CHECK(f.protocol_errors().empty());
}

TEST_CASE("REST: Bearer auth, users, teams, channels and DMs as Mattermost answers them", "[mattermost][fake_mattermost]") {
  fake_mattermost f;
  populate(f);
  auto anon = rest(f, "GET", "/users/me", nullptr, std::string{});
  check_app_error(anon, 401, "api.context.session_expired.app_error");
  CHECK(anon.object().at("message") == "Invalid or expired session, please login again.");
  check_app_error(rest(f, "GET", "/users/me", nullptr, "wrongwrongwrongwrongwrong0"), 401,
                  "api.context.session_expired.app_error");
  CHECK(has_error(f, "no Authorization header"));
  CHECK(has_error(f, "wrong Bearer token"));

  auto me = rest(f, "GET", "/users/me");
  REQUIRE(me.status == 200);
  CHECK(s_of(me.object().at("id")) == defaults.bot_user_id);
  CHECK(me.object().at("username") == "signoff");
  CHECK(me.object().at("is_bot") == true);
  CHECK(rest(f, "GET", "/users/" + alice).object().at("username") == "alice");
  check_app_error(rest(f, "GET", "/users/nobody0000000000000000000"), 404, "app.user.missing_account.const");
  auto ids = rest(f, "POST", "/users/ids", json::array{alice, bob, "nobody0000000000000000000"});
  REQUIRE(ids.body.is_array());
  CHECK(ids.body.as_array().size() == 2);

  auto teams = rest(f, "GET", "/users/me/teams");
  REQUIRE(teams.body.is_array());
  CHECK(s_of(teams.body.at(0).at("id")) == defaults.team_id);

  auto dm = rest(f, "POST", "/channels/direct", json::array{bob, defaults.bot_user_id});
  REQUIRE(dm.status == 201);
  CHECK(dm.object().at("type") == "D");
  CHECK(dm.object().at("team_id") == "");
  CHECK(s_of(dm.object().at("name")) == std::min(bob, defaults.bot_user_id) + "__" + std::max(bob, defaults.bot_user_id));
  CHECK(s_of(dm.object().at("id")) == f.dm_channel_of(bob));
  CHECK(rest(f, "POST", "/channels/direct", json::array{defaults.bot_user_id, bob}).object().at("id") == dm.object().at("id"));
  CHECK(rest(f, "POST", "/channels/direct", json::array{alice, bob}).status == 400);
  CHECK(has_error(f, "not one of the two"));

  auto chans = rest(f, "GET", "/users/me/teams/" + defaults.team_id + "/channels");
  REQUIRE(chans.body.is_array());
  std::set<std::string> seen;
  for (const auto& ch : chans.body.as_array()) seen.insert(s_of(ch.at("id")));
  CHECK(seen == std::set<std::string>{town, f.dm_channel_of(bob)});  // not "secret"; the DM included
  check_app_error(rest(f, "GET", "/nope"), 404, "api.context.404.app_error");
  CHECK(has_error(f, "no such route"));
  CHECK(rest(f, "GET", "/system/ping", nullptr, std::string{}).status == 200);
  auto calls = f.calls("/users/me");
  REQUIRE(calls.size() >= 3);
  CHECK(calls[0].status == 401);
  CHECK(calls[2].method == "GET");
  for (const auto& e : f.protocol_errors()) CHECK(e.find(bot_token) == std::string::npos);
}

TEST_CASE("REST posts: create, thread, patch, since, Mattermost's refusals", "[mattermost][fake_mattermost]") {
  fake_mattermost f;
  populate(f);
  ws_client c;
  hello_on(c, f);
  auto before = rest(f, "POST", "/posts", json::object{{"channel_id", town}, {"message", "card"}});
  REQUIRE(before.status == 201);
  const auto& p = before.object();
  CHECK(s_of(p.at("id")).size() == 26);
  CHECK(s_of(p.at("channel_id")) == town);
  CHECK(s_of(p.at("user_id")) == defaults.bot_user_id);
  CHECK(p.at("props").at("from_bot") == "true");
  for (const char* k : {"create_at", "update_at", "edit_at", "delete_at", "is_pinned", "original_id", "type",
                        "hashtags", "pending_post_id", "reply_count", "metadata"})
    CHECK(p.contains(k));
  std::string card(p.at("id").as_string());
  std::int64_t created = p.at("create_at").as_int64();
  event_named(c, "posted");

  check_app_error(rest(f, "POST", "/posts", json::object{{"channel_id", secret}, {"message", "x"}}), 403,
                  "api.context.permissions.app_error");
  std::string user_post = f.post_as(alice, town, "root by alice");
  std::string reply = f.post_as(alice, town, "reply", user_post);
  CHECK(f.protocol_errors().empty());
  check_app_error(rest(f, "POST", "/posts", json::object{{"channel_id", town}, {"message", "x"}, {"root_id", reply}}),
                  400, "api.post.create_post.root_id.app_error");
  CHECK(has_error(f, "not a root post"));
  check_app_error(rest(f, "POST", "/posts", json::object{{"channel_id", town}, {"message", std::string(16384, 'x')}}),
                  400, "model.post.is_valid.message_length.app_error");
  CHECK(has_error(f, "message over 16383"));
  CHECK(rest(f, "POST", "/posts", json::object{{"channel_id", town}, {"message", std::string(16383, 'x')}}).status == 201);

  auto patched = rest(f, "PUT", "/posts/" + card + "/patch", json::object{{"message", "card v2"}});
  REQUIRE(patched.status == 200);
  CHECK(patched.object().at("message") == "card v2");
  CHECK(patched.object().at("edit_at").as_int64() >= created);
  auto edited = event_named(c, "post_edited");
  CHECK(post_of(edited).at("message") == "card v2");
  CHECK(f.find_post(card)->patches == 1);
  check_app_error(rest(f, "PUT", "/posts/" + user_post + "/patch", json::object{{"message", "hijack"}}), 403,
                  "api.context.permissions.app_error");
  CHECK(has_error(f, "did not write"));
  check_app_error(rest(f, "PUT", "/posts/nopost00000000000000000000/patch", json::object{{"message", "x"}}), 404,
                  "app.post.get.app_error");

  auto since = rest(f, "GET", "/channels/" + town + "/posts?since=" + std::to_string(created));
  REQUIRE(since.status == 200);
  const auto& order = since.object().at("order").as_array();
  REQUIRE(order.size() >= 3);
  CHECK(s_of(order[0]) != card);  // newest first; the patched card is there (edited after since)
  bool has_card = false;
  for (const auto& v : order) has_card = has_card || s_of(v) == card;
  CHECK(has_card);
  CHECK(since.object().at("posts").as_object().contains(card));
  check_app_error(rest(f, "GET", "/channels/" + secret + "/posts?since=0"), 403, "api.context.permissions.app_error");

  rest(f, "POST", "/posts", json::object{{"channel_id", town}, {"message", "bad button"},
                                         {"props", card_props("http://127.0.0.1:1/x", "approve:D-1")}});
  CHECK(has_error(f, "is not [A-Za-z0-9]"));
}

TEST_CASE("429s carry Mattermost's headers, early retries and injected failures", "[mattermost][fake_mattermost]") {
  fake_mattermost f;
  populate(f);
  // A 3 s window, so that a loaded machine (ASan, two cores shared with
  // builds) cannot outrun it between the requests below: with 1 s, the
  // "before the reset" request once arrived after it (CI, 2026-12-01).
  f.rate_limit_next("/posts", 3);
  auto limited = rest(f, "POST", "/posts", json::object{{"channel_id", town}, {"message", "x"}});
  const auto limited_at = std::chrono::steady_clock::now();
  CHECK(limited.status == 429);
  CHECK(limited.raw == "limit exceeded\n");
  CHECK(limited.header("x-ratelimit-remaining") == "0");
  CHECK(limited.header("x-ratelimit-reset") == "3");
  CHECK(limited.header("retry-after") == "3");
  CHECK_FALSE(limited.header("x-ratelimit-limit").empty());
  CHECK(f.protocol_errors().empty());
  // Within 100 ms a request may have been on its way already: refused, not held against the client.
  auto in_flight = rest(f, "GET", "/users/me");
  if (std::chrono::steady_clock::now() - limited_at < 100ms) CHECK(in_flight.status == 429);
  const auto errors_in_flight = f.protocol_errors().size();
  std::this_thread::sleep_for(200ms);
  CHECK(rest(f, "GET", "/users/me").status == 429);  // before the reset, after the grace
  CHECK(has_error(f, "before the 429's reset"));
  CHECK(f.protocol_errors().size() == errors_in_flight + 1);
  std::this_thread::sleep_until(limited_at + 3100ms);
  CHECK(rest(f, "POST", "/posts", json::object{{"channel_id", town}, {"message", "x"}}).status == 201);
  f.fail_next("/posts", 503, 2);
  CHECK(rest(f, "POST", "/posts", json::object{{"channel_id", town}, {"message", "x"}}).status == 503);
  check_app_error(rest(f, "POST", "/posts", json::object{{"channel_id", town}, {"message", "x"}}), 503,
                  "api.fake.injected_failure.app_error");
  CHECK(rest(f, "POST", "/posts", json::object{{"channel_id", town}, {"message", "x"}}).status == 201);
}

TEST_CASE("button clicks reach the integration URL, updates, ephemerals, dialogs and trigger IDs", "[mattermost][fake_mattermost]") {
  fake_mattermost::options o;
  o.trigger_lifetime = 300ms;
  fake_mattermost f(o);
  populate(f);
  action_endpoint bot;
  auto made = rest(f, "POST", "/posts", json::object{{"channel_id", town}, {"message", "D-1 card"}, {"props", card_props(bot.url())}});
  REQUIRE(made.status == 201);
  std::string card(made.object().at("id").as_string());

  bot.set(200, R"({"update":{"message":"D-1 approved","props":{}},"ephemeral_text":"recorded"})");
  auto r = f.click(alice, card, "approve1");
  CHECK(r.error.empty());
  CHECK(r.status == 200);
  CHECK(r.updated);
  CHECK(r.ephemeral_text == "recorded");
  auto sent = bot.last();
  CHECK(s_of(sent.at("user_id")) == alice);
  CHECK(sent.at("user_name") == "alice");
  CHECK(s_of(sent.at("channel_id")) == town);
  CHECK(sent.at("channel_name") == "town");
  CHECK(s_of(sent.at("team_id")) == defaults.team_id);
  CHECK(s_of(sent.at("post_id")) == card);
  CHECK(sent.at("type") == "button");
  CHECK(sent.at("context").at("draft") == "D-1@1");
  std::string trigger(sent.at("trigger_id").as_string());
  CHECK(json::parse(f.last_action_request()) == json::value(sent));
  auto after = f.find_post(card);
  REQUIRE(after);
  CHECK(after->message == "D-1 approved");
  CHECK(after->patches == 1);
  CHECK(after->props.at("from_bot") == "true");  // kept by UpdatePost

  // The trigger opens a dialog for alice while it is fresh.
  json::object dlg{{"callback_id", "reject:D-1@1"}, {"title", "Reject D-1"}, {"submit_label", "Reject"},
                   {"state", "st"}, {"elements", json::array{json::object{{"name", "reason"}, {"type", "textarea"}, {"display_name", "Reason"}}}}};
  auto opened = rest(f, "POST", "/actions/dialogs/open", json::object{{"trigger_id", trigger}, {"url", bot.url()}, {"dialog", dlg}});
  CHECK(opened.status == 200);
  CHECK(opened.object().at("status") == "OK");
  auto d = f.wait_dialog(alice, 1s);
  REQUIRE(d);
  CHECK(d->callback_id == "reject:D-1@1");
  CHECK(d->channel_id == town);
  CHECK(d->elements.at(0).at("name") == "reason");
  bot.set(200, R"({"errors":{"reason":"A reason is required"}})");
  auto refused = f.submit_dialog(*d, {{"reason", ""}});
  CHECK_THAT(refused.error, Catch::Contains("reason"));
  auto submitted = bot.last();
  CHECK(submitted.at("type") == "dialog_submission");
  CHECK(submitted.at("callback_id") == "reject:D-1@1");
  CHECK(submitted.at("state") == "st");
  CHECK(submitted.at("cancelled") == false);
  auto again = f.wait_dialog(alice, 1s);  // still open
  REQUIRE(again);
  bot.set(200, "{}");
  CHECK(f.submit_dialog(*again, {{"reason", "too loud"}}).error.empty());
  CHECK(bot.last().at("submission").at("reason") == "too loud");
  CHECK_FALSE(f.wait_dialog(alice, 50ms));
  CHECK(f.protocol_errors().empty());

  std::this_thread::sleep_for(400ms);  // the trigger is stale now
  CHECK(rest(f, "POST", "/actions/dialogs/open", json::object{{"trigger_id", trigger}, {"url", bot.url()}, {"dialog", dlg}}).status == 400);
  CHECK(has_error(f, "expired"));
  CHECK(rest(f, "POST", "/actions/dialogs/open", json::object{{"trigger_id", "Zm9yZ2VkOnRyaWdnZXI6MTp4eHg="}, {"url", bot.url()}, {"dialog", dlg}}).status == 400);
  CHECK(has_error(f, "verify_signature_failed"));

  // The update replaced the props: the button is gone from the card.
  CHECK_FALSE(f.click(bob, card, "approve1").error.empty());
  auto second = rest(f, "POST", "/posts", json::object{{"channel_id", town}, {"message", "D-2 card"}, {"props", card_props(bot.url())}});
  card = std::string(second.object().at("id").as_string());
  bot.set(403, R"({"error":"refused"})");
  auto failed = f.click(bob, card, "approve1");
  CHECK(failed.status == 403);
  CHECK_FALSE(failed.error.empty());
  CHECK_FALSE(failed.updated);
  CHECK_FALSE(f.click(bob, card, "nosuchbutton").error.empty());
  CHECK_FALSE(f.click(bob, "nopost00000000000000000000", "approve1").error.empty());

  bot.set(200, R"({"ephemeral_text":"forged click refused"})");
  auto raw = fake_mattermost::raw_post(bot.url(), R"({"user_id":"x","context":{"tag":"forged"}})");
  CHECK(raw.status == 200);
  CHECK(raw.ephemeral_text == "forged click refused");
  CHECK(bot.last().at("context").at("tag") == "forged");
}
