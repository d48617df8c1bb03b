// The fake Slack follows Slack's protocol: proven with raw Beast clients that
// verify the fake's certificate against the throw-away test CA, so what the
// bot sees from the fake is what these tests see (tests/fakes/fake_slack.hpp).
#include "fakes/fake_slack.hpp"
#include "support/test_pki.hpp"

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
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using signoff::test::fake_slack;
using namespace std::chrono_literals;

constexpr auto tok = asio::as_tuple(asio::use_awaitable);
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

// Runs one client coroutine on the test's own io_context, for at most `limit`.
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

ssl::context client_tls() {
  ssl::context c(ssl::context::tls_client);
  c.load_verify_file(signoff::test::test_pki().ca_pem);
  c.set_verify_mode(ssl::verify_peer);
  return c;
}

template <class Stream>
void verify_localhost(Stream& s) {
  SSL_set_tlsext_host_name(s.native_handle(), "localhost");
  s.set_verify_callback(ssl::host_name_verification("localhost"));
}

json::object parse_object(std::string_view text) {
  json::value v = json::parse(text);
  REQUIRE(v.is_object());
  return v.get_object();
}

std::string str(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->get_string()) : std::string{};
}
const json::object& obj(const json::object& o, std::string_view k) {
  REQUIRE(o.if_contains(k));
  REQUIRE(o.at(k).is_object());
  return o.at(k).get_object();
}

// Checks an envelope's wrapper (ID, type, accepts_response_payload) and
// returns its payload.
const json::object& payload_of(const json::object& env, const std::string& id, std::string_view type,
                               bool accepts_response_payload) {
  CHECK(str(env, "envelope_id") == id);
  CHECK(str(env, "type") == type);
  CHECK(env.at("accepts_response_payload") == accepts_response_payload);
  return obj(env, "payload");
}

// One keep-alive HTTPS connection to the fake's Web API.
struct api_client {
  asio::io_context ioc;
  ssl::context ctx = client_tls();
  tls_stream s{ioc, ctx};
  beast::flat_buffer buf;
  int exchanges = 0;

  explicit api_client(std::uint16_t port) { REQUIRE_FALSE(run(ioc, connect(port))); }

  asio::awaitable<error_code> connect(std::uint16_t port) {
    verify_localhost(s);
    auto [ec] = co_await beast::get_lowest_layer(s).async_connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), tok);
    if (ec) co_return ec;
    auto [hec] = co_await s.async_handshake(ssl::stream_base::client, tok);
    co_return hec;
  }

  asio::awaitable<http::response<http::string_body>> exchange(http::request<http::string_body> req) {
    beast::get_lowest_layer(s).expires_after(5s);
    auto [wec, wn] = co_await http::async_write(s, req, tok);
    if (wec) throw boost::system::system_error(wec);
    http::response<http::string_body> res;
    auto [rec, rn] = co_await http::async_read(s, buf, res, tok);
    if (rec) throw boost::system::system_error(rec);
    co_return res;
  }

  http::response<http::string_body> send(http::request<http::string_body> req) {
    req.set(http::field::host, "localhost");
    req.prepare_payload();
    ++exchanges;
    return run(ioc, exchange(std::move(req)));
  }

  http::response<http::string_body> post(const std::string& target, std::string body, const std::string& ctype,
                                         const std::string& bearer = "") {
    http::request<http::string_body> req{http::verb::post, target, 11};
    req.set(http::field::host, "localhost");
    if (!ctype.empty()) req.set(http::field::content_type, ctype);
    if (!bearer.empty()) req.set(http::field::authorization, "Bearer " + bearer);
    req.body() = std::move(body);
    req.prepare_payload();
    ++exchanges;
    return run(ioc, exchange(std::move(req)));
  }

  // A JSON Web API call; the answer must be HTTP 200 JSON.
  json::object call(const std::string& method, const json::object& args, const std::string& token) {
    auto res = post("/api/" + method, json::serialize(args), "application/json; charset=utf-8", token);
    REQUIRE(res.result_int() == 200);
    REQUIRE(std::string(res[http::field::content_type]).starts_with("application/json"));
    return parse_object(res.body());
  }
};

std::string target_of(const std::string& url) {  // https://localhost:PORT/x -> /x
  auto slash = url.find('/', url.find("//") + 2);
  return url.substr(slash);
}

// One Socket Mode link, read and written by hand.
struct link_client {
  asio::io_context ioc;
  ssl::context ctx = client_tls();
  websocket::stream<tls_stream> ws{ioc, ctx};
  beast::flat_buffer buf;
  websocket::response_type handshake_response;

  asio::awaitable<error_code> connect_(std::string url) {
    auto colon = url.find(':', 6);
    auto slash = url.find('/', colon);
    std::string port = url.substr(colon + 1, slash - colon - 1);
    verify_localhost(ws.next_layer());
    beast::get_lowest_layer(ws).expires_after(5s);
    auto [ec] = co_await beast::get_lowest_layer(ws).async_connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<std::uint16_t>(std::stoi(port))), tok);
    if (ec) co_return ec;
    auto [hec] = co_await ws.next_layer().async_handshake(ssl::stream_base::client, tok);
    if (hec) co_return hec;
    auto [wec] = co_await ws.async_handshake(handshake_response, "localhost:" + port, url.substr(slash), tok);
    co_return wec;
  }
  error_code connect(const std::string& url) { return run(ioc, connect_(url)); }

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
  json::object read_json() {
    auto f = read();
    REQUIRE_FALSE(f.ec);
    return parse_object(f.text);
  }

  asio::awaitable<error_code> write_(std::string text) {
    beast::get_lowest_layer(ws).expires_after(3s);
    auto [ec, n] = co_await ws.async_write(asio::buffer(text), tok);
    co_return ec;
  }
  void write(const std::string& text) { REQUIRE_FALSE(run(ioc, write_(text))); }
  // Acks every envelope as it arrives, up to `limit`, like a fast bot;
  // returns how many (the caller's run() bounds the time).
  asio::awaitable<std::size_t> echo_acks(std::size_t limit) {
    std::size_t acked = 0;
    beast::flat_buffer b;
    beast::get_lowest_layer(ws).expires_never();
    for (; acked < limit; ++acked) {
      auto [ec, len] = co_await ws.async_read(b, tok);
      if (ec) break;
      auto env = json::parse(beast::buffers_to_string(b.cdata())).as_object();
      b.clear();
      std::string ack = R"({"envelope_id":")" + std::string(env.at("envelope_id").as_string()) + "\"}";
      auto [wec, wn] = co_await ws.async_write(asio::buffer(ack), tok);
      if (wec) break;
    }
    co_return acked;
  }

  void ack(const std::string& envelope_id, const std::optional<json::object>& payload = std::nullopt) {
    json::object a{{"envelope_id", envelope_id}};
    if (payload) a["payload"] = *payload;
    write(json::serialize(a));
  }
};

std::string link_url(api_client& api) {
  auto r = api.call("apps.connections.open", {}, fake_slack::options{}.app_token);
  REQUIRE(r.at("ok").as_bool());
  return str(r, "url");
}

// A link that said hello.
std::unique_ptr<link_client> open_link(api_client& api) {
  auto c = std::make_unique<link_client>();
  REQUIRE_FALSE(c->connect(link_url(api)));
  auto hello = c->read_json();
  REQUIRE(str(hello, "type") == "hello");
  return c;
}

const std::string bot = fake_slack::options{}.bot_token;

std::vector<std::string> wait_errors(const fake_slack& f, std::size_t n) {
  auto until = std::chrono::steady_clock::now() + 2s;
  while (f.protocol_errors().size() < n && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(5ms);
  return f.protocol_errors();
}

}  // namespace

TEST_CASE("apps.connections.open wants the app-level token and gives a wss URL", "[fake_slack]") {
  fake_slack f;
  api_client api(f.port());
  CHECK(f.api_base() == "https://localhost:" + std::to_string(f.port()) + "/api/");

  auto r = api.call("apps.connections.open", {}, "");
  CHECK(r.at("ok") == false);
  CHECK(str(r, "error") == "not_authed");
  CHECK(str(api.call("apps.connections.open", {}, bot), "error") == "not_allowed_token_type");
  CHECK(str(api.call("apps.connections.open", {}, "xapp-1-A0TEST-1-wrong"), "error") == "invalid_auth");

  const std::regex url_shape("wss://localhost:" + std::to_string(f.port()) +
                             R"(/link/\?ticket=[0-9a-f-]{36}&app_id=A0TEST)");
  auto ok = api.call("apps.connections.open", {}, fake_slack::options{}.app_token);
  CHECK(ok.at("ok") == true);
  CHECK(std::regex_match(str(ok, "url"), url_shape));
  CHECK(link_url(api) != str(ok, "url"));  // a fresh ticket every time

  // A form body may carry the token itself.
  auto form = api.post("/api/apps.connections.open", "token=" + fake_slack::options{}.app_token,
                       "application/x-www-form-urlencoded");
  CHECK(parse_object(form.body()).at("ok") == true);

  f.refuse_connections("invalid_auth");
  CHECK(str(api.call("apps.connections.open", {}, fake_slack::options{}.app_token), "error") == "invalid_auth");
  f.refuse_connections("");
  f.set_connections_open_delay(300ms);
  auto t0 = std::chrono::steady_clock::now();
  link_url(api);
  CHECK(std::chrono::steady_clock::now() - t0 >= 300ms);

  auto calls = f.calls("apps.connections.open");
  REQUIRE(calls.size() == 8);
  CHECK(calls[0].error == "not_authed");
  CHECK(calls[1].error == "not_allowed_token_type");
  CHECK(calls[1].token == bot);
  CHECK(calls[3].error.empty());
  CHECK(calls[3].status == 200);
  CHECK(calls[6].error == "invalid_auth");
  CHECK(calls[7].error.empty());
  CHECK(api.exchanges == 8);  // all on one keep-alive connection
}

TEST_CASE("a link URL is single use and the link starts with hello", "[fake_slack]") {
  fake_slack f;
  api_client api(f.port());
  std::string url = link_url(api);
  link_client first;
  REQUIRE_FALSE(first.connect(url));
  auto hello = first.read_json();
  CHECK(str(hello, "type") == "hello");
  CHECK(hello.at("num_connections") == 1);
  CHECK(str(obj(hello, "debug_info"), "host") == "applink-fake");
  CHECK(obj(hello, "debug_info").at("approximate_connection_time") == 18060);
  CHECK(str(obj(hello, "connection_info"), "app_id") == "A0TEST");
  CHECK(f.wait_connections(1, 2s));

  link_client again;  // the same ticket twice
  CHECK(again.connect(url) == websocket::error::upgrade_declined);
  CHECK(again.handshake_response.result_int() == 401);

  auto second = open_link(api);
  CHECK(f.wait_connections(2, 2s));
  CHECK(f.connections_opened() == 2);
  CHECK(f.protocol_errors().empty());
}

TEST_CASE("a slash command envelope has Slack's shape and its ack is matched and timed", "[fake_slack]") {
  fake_slack f;
  api_client api(f.port());
  auto link = open_link(api);
  std::string id = f.slash_command("U1", "C1", "/approve", "D-1@2 looks \"good\"");

  auto raw = link->read();
  REQUIRE_FALSE(raw.ec);
  CHECK(raw.text.find(R"(https:\/\/localhost)") != std::string::npos);  // Slack escapes '/'
  auto env = parse_object(raw.text);
  CHECK(std::regex_match(id, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}")));
  const auto& p = payload_of(env, id, "slash_commands", true);
  CHECK_FALSE(env.contains("retry_attempt"));
  for (auto k : {"token", "team_id", "team_domain", "channel_id", "channel_name", "user_id", "user_name", "command",
                 "text", "api_app_id", "is_enterprise_install", "response_url", "trigger_id"}) {
    INFO(k);
    CHECK(p.at(k).is_string());
  }
  CHECK(str(p, "team_id") == "T0TEAM");
  CHECK(str(p, "channel_id") == "C1");
  CHECK(str(p, "user_id") == "U1");
  CHECK(str(p, "command") == "/approve");
  CHECK(str(p, "text") == "D-1@2 looks \"good\"");
  CHECK(str(p, "api_app_id") == "A0TEST");
  CHECK(str(p, "is_enterprise_install") == "false");
  CHECK(str(p, "response_url") == f.response_url_of(id));
  CHECK(str(p, "response_url").starts_with("https://localhost:" + std::to_string(f.port()) + "/response/"));

  link->ack(id, json::object{{"text", "Approved D-1"}});
  auto a = f.wait_ack(id, 2s);
  REQUIRE(a);
  REQUIRE(a->payload);
  CHECK(a->payload->as_object().at("text") == "Approved D-1");
  CHECK(a->latency > 0ns);
  CHECK(a->latency < 2s);
  CHECK_FALSE(a->late);
  auto popped = f.next_ack(1s);
  REQUIRE(popped);
  CHECK(popped->envelope_id == id);
  CHECK_FALSE(f.next_ack(10ms));
  CHECK(f.protocol_errors().empty());

  // Redelivery: same envelope and payload, with retry_attempt and retry_reason.
  f.redeliver(id, 1, "timeout");
  auto again = link->read_json();
  CHECK(str(again, "envelope_id") == id);
  CHECK(again.at("retry_attempt") == 1);
  CHECK(str(again, "retry_reason") == "timeout");
  CHECK(again.at("payload") == env.at("payload"));
  link->ack(id);
  CHECK(f.next_ack(2s));
  CHECK(f.protocol_errors().empty());

  // What a broken client does is recorded.
  link->ack(id);                                      // a second ack of one delivery
  link->ack("00000000-0000-4000-8000-000000000000");  // an envelope never sent
  link->write("{\"type\":\"pong\"}");
  auto errors = wait_errors(f, 3);
  REQUIRE(errors.size() == 3);
  CHECK(errors[0].find("second ack") != std::string::npos);
  CHECK(errors[1].find("unknown envelope_id") != std::string::npos);
  CHECK(errors[2].find("not an ack") != std::string::npos);
}

TEST_CASE("acks past the deadline are late, payloads only where accepted", "[fake_slack]") {
  fake_slack::options o;
  o.ack_deadline = 50ms;
  fake_slack f(o);
  api_client api(f.port());
  auto link = open_link(api);
  std::string id = f.slash_command("U1", "C1", "/draft", "new hello");
  REQUIRE_FALSE(link->read().ec);
  std::this_thread::sleep_for(80ms);
  link->ack(id);
  auto a = f.wait_ack(id, 2s);
  REQUIRE(a);
  CHECK(a->late);
  CHECK(a->latency >= 50ms);

  auto msg = api.call("chat.postMessage", {{"channel", "C1"}, {"text", "card"}}, bot);
  std::string click = f.block_action("U1", "C1", "signoff_approve", "D-1@1", str(msg, "ts"));
  REQUIRE_FALSE(link->read().ec);
  link->ack(click, json::object{{"text", "not allowed here"}});
  REQUIRE(f.wait_ack(click, 2s));
  auto errors = wait_errors(f, 1);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("accepts_response_payload: false") != std::string::npos);
}

TEST_CASE("chat.postMessage to a user ID posts in the app's DM and answers with the D channel", "[fake_slack]") {
  fake_slack f;
  api_client api(f.port());
  auto posted = api.call("chat.postMessage", {{"channel", "U0DAVE"}, {"text", "You are paged"}}, bot);
  REQUIRE(posted.at("ok") == true);
  CHECK(str(posted, "channel") == "D0DAVE");
  CHECK(fake_slack::dm_channel_of("U0DAVE") == "D0DAVE");
  auto again = api.call("chat.postMessage", {{"channel", "U0DAVE"}, {"text", "Level 2"}}, bot);
  CHECK(str(again, "channel") == "D0DAVE");  // one DM per user
  CHECK(f.messages("D0DAVE").size() == 2);
  CHECK(f.messages("U0DAVE").empty());
  // A channel ID is not a user ID.
  CHECK(str(api.call("chat.postMessage", {{"channel", "C0DAVE"}, {"text", "x"}}, bot), "channel") == "C0DAVE");
}

TEST_CASE("messages, buttons, modals and response_url follow the Web API", "[fake_slack]") {
  fake_slack f;
  api_client api(f.port());
  auto link = open_link(api);

  auto who = api.call("auth.test", {}, bot);
  CHECK(who.at("ok") == true);
  for (auto k : {"url", "team", "user", "team_id", "user_id", "bot_id"}) CHECK(who.at(k).is_string());

  json::value blocks = json::parse(R"([{"type":"section","text":{"type":"mrkdwn","text":"D-1"}},
      {"type":"actions","block_id":"b1","elements":[{"type":"button","action_id":"signoff_approve",
       "text":{"type":"plain_text","text":"Approve"},"value":"D-1@1"}]}])");
  auto posted = api.call("chat.postMessage", {{"channel", "C1"}, {"text", "D-1 card"}, {"blocks", blocks}}, bot);
  REQUIRE(posted.at("ok") == true);
  std::string ts = str(posted, "ts");
  CHECK(std::regex_match(ts, std::regex(R"(\d{10}\.\d{6})")));
  CHECK(str(posted, "channel") == "C1");
  CHECK(str(obj(posted, "message"), "text") == "D-1 card");
  // Form bodies carry blocks as JSON text.
  auto res = api.post("/api/chat.postMessage",
                      "channel=C2&text=plain+post&blocks=" + std::string("%5B%5D"),
                      "application/x-www-form-urlencoded", bot);
  auto second = parse_object(res.body());
  CHECK(second.at("ok") == true);
  CHECK(str(second, "ts") > ts);  // unique and increasing
  CHECK(f.calls("chat.postMessage")[1].args.at("text") == "plain post");
  CHECK(str(api.call("chat.postMessage", {{"text", "x"}}, bot), "error") == "channel_not_found");
  CHECK(str(api.call("chat.postMessage", {{"channel", "C1"}}, bot), "error") == "no_text");

  auto upd = api.call("chat.update", {{"channel", "C1"}, {"ts", ts}, {"text", "D-1 approved"}}, bot);
  CHECK(upd.at("ok") == true);
  CHECK(str(api.call("chat.update", {{"channel", "C1"}, {"ts", "1.000001"}, {"text", "x"}}, bot), "error") ==
        "message_not_found");
  auto c1 = f.messages("C1");
  REQUIRE(c1.size() == 1);
  CHECK(c1[0].text == "D-1 approved");
  CHECK(c1[0].updates == 1);
  CHECK(c1[0].blocks == blocks);  // kept when an update sends none

  auto eph = api.call("chat.postEphemeral", {{"channel", "C1"}, {"user", "U1"}, {"text", "only you"}}, bot);
  CHECK(eph.at("ok") == true);
  CHECK(eph.at("message_ts").is_string());

  // A button click on the card.
  std::string click = f.block_action("U2", "C1", "signoff_reject", "D-1@1", ts);
  auto env = link->read_json();
  const auto& p = payload_of(env, click, "interactive", false);
  CHECK(str(p, "type") == "block_actions");
  CHECK(str(obj(p, "user"), "id") == "U2");
  for (auto k : {"username", "name", "team_id"}) CHECK(obj(p, "user").at(k).is_string());
  CHECK(str(p, "api_app_id") == "A0TEST");
  CHECK(p.at("token").is_string());
  const auto& container = obj(p, "container");
  CHECK(str(container, "type") == "message");
  CHECK(str(container, "message_ts") == ts);
  CHECK(str(container, "channel_id") == "C1");
  CHECK(container.at("is_ephemeral") == false);
  CHECK(str(obj(p, "team"), "id") == "T0TEAM");
  CHECK(obj(p, "team").at("domain").is_string());
  CHECK(str(obj(p, "channel"), "id") == "C1");
  CHECK(str(obj(p, "message"), "ts") == ts);
  CHECK(str(p, "response_url") == f.response_url_of(click));
  REQUIRE(p.at("actions").as_array().size() == 1);
  const auto& action = p.at("actions").as_array()[0].as_object();
  CHECK(str(action, "action_id") == "signoff_reject");
  CHECK(str(action, "value") == "D-1@1");
  CHECK(str(action, "type") == "button");
  CHECK(action.at("action_ts").is_string());
  link->ack(click);

  // views.open exchanges the click's trigger once.
  json::object modal{{"type", "modal"},
                     {"callback_id", "signoff_reject_modal"},
                     {"private_metadata", "D-1@1"},
                     {"title", {{"type", "plain_text"}, {"text", "Reject"}}},
                     {"blocks", json::parse(R"([{"type":"input","block_id":"reason",
                       "element":{"type":"plain_text_input","action_id":"reason_input"},
                       "label":{"type":"plain_text","text":"Reason"}}])")}};
  std::string trigger = str(p, "trigger_id");
  auto opened = api.call("views.open", {{"trigger_id", trigger}, {"view", modal}}, bot);
  REQUIRE(opened.at("ok") == true);
  std::string view_id = str(obj(opened, "view"), "id");
  CHECK(view_id.starts_with("V"));
  CHECK(str(api.call("views.open", {{"trigger_id", trigger}, {"view", modal}}, bot), "error") ==
        "exchanged_trigger_id");
  CHECK(str(api.call("views.open", {{"trigger_id", "1.2.abc"}, {"view", modal}}, bot), "error") ==
        "invalid_trigger_id");
  auto views = f.opened_views();
  REQUIRE(views.size() == 1);
  CHECK(views[0].view_id == view_id);
  CHECK(views[0].user_id == "U2");
  CHECK(views[0].callback_id == "signoff_reject_modal");
  CHECK(views[0].private_metadata == "D-1@1");

  std::string submit = f.view_submission("U2", view_id, {{"reason", "too vague"}});
  auto sub = link->read_json();
  const auto& sp = payload_of(sub, submit, "interactive", true);
  CHECK(str(sp, "type") == "view_submission");
  CHECK(str(obj(sp, "user"), "id") == "U2");
  CHECK(sp.at("trigger_id").is_string());
  const auto& v = obj(sp, "view");
  CHECK(str(v, "id") == view_id);
  CHECK(str(v, "callback_id") == "signoff_reject_modal");
  CHECK(str(v, "private_metadata") == "D-1@1");
  const auto& input = obj(obj(obj(obj(v, "state"), "values"), "reason"), "reason_input");
  CHECK(str(input, "type") == "plain_text_input");
  CHECK(str(input, "value") == "too vague");
  link->ack(submit, json::object{{"response_action", "clear"}});
  REQUIRE(f.wait_ack(submit, 2s));

  // response_url: JSON posts, recorded with the URL they went to.
  std::string rurl = f.response_url_of(click);
  auto r1 = api.post(target_of(rurl), R"({"text":"Rejected","replace_original":true})", "application/json");
  CHECK(r1.result_int() == 200);
  CHECK(parse_object(r1.body()).at("ok") == true);
  auto bad = api.post(target_of(rurl) + "x", "{}", "application/json");
  CHECK(bad.result_int() == 404);
  auto rcalls = f.calls("response_url");
  REQUIRE(rcalls.size() == 2);
  CHECK(rcalls[0].target == rurl);
  CHECK(rcalls[0].args.at("text") == "Rejected");
  CHECK(rcalls[0].token.empty());
  CHECK(rcalls[1].status == 404);
  CHECK(f.protocol_errors().empty());
}

TEST_CASE("slash-command text and modal inputs arrive escaped as Slack sends them", "[fake_slack]") {
  fake_slack f;
  api_client api(f.port());
  auto link = open_link(api);
  // &, < and > become entities, in one pass (an "&amp;" typed becomes "&amp;amp;");
  // quotes and everything else stay as typed.
  std::string id = f.slash_command("U1", "C1", "/draft", "new a < b & c > \"d\" &amp;");
  auto env = link->read_json();
  CHECK(str(payload_of(env, id, "slash_commands", true), "text") == "new a &lt; b &amp; c &gt; \"d\" &amp;amp;");
  link->ack(id);

  json::value blocks = json::parse(R"([{"type":"actions","block_id":"b1","elements":[{"type":"button",
      "action_id":"signoff_reject","text":{"type":"plain_text","text":"Reject"},"value":"D-1@1"}]}])");
  auto posted = api.call("chat.postMessage", {{"channel", "C1"}, {"text", "D-1 card"}, {"blocks", blocks}}, bot);
  std::string click = f.block_action("U2", "C1", "signoff_reject", "D-1@1", str(posted, "ts"));
  const auto click_env = link->read_json();
  link->ack(click);
  json::object modal{{"type", "modal"},
                     {"callback_id", "signoff_reject_modal"},
                     {"private_metadata", "D-1@1|C1"},
                     {"title", {{"type", "plain_text"}, {"text", "Reject"}}},
                     {"blocks", json::parse(R"([{"type":"input","block_id":"reason",
                       "element":{"type":"plain_text_input","action_id":"reason_input"},
                       "label":{"type":"plain_text","text":"Reason"}}])")}};
  auto trigger = str(obj(click_env, "payload"), "trigger_id");
  auto opened = api.call("views.open", {{"trigger_id", trigger}, {"view", modal}}, bot);
  REQUIRE(opened.at("ok") == true);
  std::string submit = f.view_submission("U2", str(obj(opened, "view"), "id"), {{"reason", "x < 5 & y > 2"}});
  auto sub = link->read_json();
  const auto& v = obj(payload_of(sub, submit, "interactive", true), "view");
  CHECK(str(obj(obj(obj(obj(v, "state"), "values"), "reason"), "reason_input"), "value") ==
        "x &lt; 5 &amp; y &gt; 2");
  CHECK(str(v, "private_metadata") == "D-1@1|C1");  // returned unchanged, as Slack does
  link->ack(submit);
  REQUIRE(f.wait_ack(submit, 2s));
  CHECK(f.protocol_errors().empty());
}

TEST_CASE("rate limits, injected failures and unknown methods", "[fake_slack]") {
  fake_slack f;
  api_client api(f.port());
  f.rate_limit_next("chat.postMessage", 2, 2);
  json::object args{{"channel", "C1"}, {"text", "hi"}};
  for (int i = 0; i < 2; ++i) {
    auto res = api.post("/api/chat.postMessage", json::serialize(args), "application/json", bot);
    CHECK(res.result_int() == 429);
    CHECK(res[http::field::retry_after] == "2");
    CHECK(str(parse_object(res.body()), "error") == "ratelimited");
  }
  CHECK(api.call("chat.postMessage", args, bot).at("ok") == true);

  f.fail_next("chat.postMessage", "channel_not_found");
  CHECK(str(api.call("chat.postMessage", args, bot), "error") == "channel_not_found");
  CHECK(api.call("chat.postMessage", args, bot).at("ok") == true);

  CHECK(str(api.call("chat.postMessage", args, fake_slack::options{}.app_token), "error") == "not_allowed_token_type");
  CHECK(str(api.call("chat.postMessage", args, "xoxb-wrong"), "error") == "invalid_auth");
  CHECK(str(api.call("chat.delete", args, bot), "error") == "unknown_method");
  auto broken = api.post("/api/chat.postMessage", "{not json", "application/json", bot);
  CHECK(str(parse_object(broken.body()), "error") == "invalid_json");

  auto calls = f.calls("chat.postMessage");
  REQUIRE(calls.size() == 8);
  CHECK(calls[0].status == 429);
  CHECK(calls[0].error == "ratelimited");
  CHECK(calls[2].status == 200);
  CHECK(calls[3].error == "channel_not_found");
  CHECK(calls[2].args.at("text") == "hi");
  CHECK(f.messages().size() == 2);
  CHECK(api.exchanges == 9);  // one keep-alive connection throughout
}

TEST_CASE("faults reach the client as Slack's would", "[fake_slack]") {
  fake_slack f;
  api_client api(f.port());

  SECTION("close frame with a code") {
    auto link = open_link(api);
    f.close_links(1011);
    auto r = link->read();
    CHECK(r.ec == websocket::error::closed);
    CHECK(link->ws.reason().code == 1011);
    CHECK(f.wait_connections(0, 2s));
  }
  SECTION("abrupt drop: a read error, no close frame") {
    auto link = open_link(api);
    f.drop_links();
    auto r = link->read();
    CHECK(r.ec);
    CHECK(r.ec != websocket::error::closed);
    CHECK(f.connections() == 0);
  }
  SECTION("refresh_requested: the old link serves until it is closed with 1000") {
    auto old = open_link(api);
    f.send_disconnect("refresh_requested", 300ms);
    auto d = old->read_json();
    CHECK(str(d, "type") == "disconnect");
    CHECK(str(d, "reason") == "refresh_requested");
    CHECK(obj(d, "debug_info").at("host").is_string());
    auto fresh = open_link(api);
    CHECK(f.wait_connections(2, 2s));
    std::string id = f.slash_command("U1", "C1", "/audit", "");
    CHECK(str(fresh->read_json(), "envelope_id") == id);  // new work goes to the new link
    auto closed = old->read();
    CHECK(closed.ec == websocket::error::closed);
    CHECK(old->ws.reason().code == 1000);
    CHECK(f.wait_connections(1, 2s));
  }
  SECTION("link_disabled: disconnect, then closed soon") {
    auto link = open_link(api);
    f.send_disconnect("link_disabled");
    CHECK(str(link->read_json(), "reason") == "link_disabled");
    auto r = link->read(1s);
    CHECK(r.ec == websocket::error::closed);
  }
  SECTION("raw and oversized frames") {
    auto link = open_link(api);
    link->ws.read_message_max(1 << 20);
    f.send_raw("not json {");
    auto r = link->read();
    REQUIRE_FALSE(r.ec);
    CHECK(r.text == "not json {");
    // Beast refuses it (message_too_big, or the TLS teardown error that
    // follows while the rest of the frame still arrives).
    f.send_raw(std::string(2 << 20, 'x'));
    CHECK(link->read().ec);
  }
  CHECK(f.protocol_errors().empty());
}

TEST_CASE("the link answers pings and the client's close, and the handshake is checked", "[fake_slack]") {
  fake_slack f;
  api_client api(f.port());
  auto link = open_link(api);
  std::string pong;
  link->ws.control_callback([&](websocket::frame_type kind, beast::string_view payload) {
    if (kind == websocket::frame_type::pong) pong = std::string(payload);
  });
  auto ping = [&]() -> asio::awaitable<error_code> {
    auto [ec] = co_await link->ws.async_ping("are-you-there", tok);
    co_return ec;
  };
  REQUIRE_FALSE(run(link->ioc, ping()));
  for (int i = 0; i < 20 && pong.empty(); ++i) {  // control frames surface during a read
    f.send_raw("tick");
    REQUIRE_FALSE(link->read().ec);
  }
  CHECK(pong == "are-you-there");

  auto close = [&]() -> asio::awaitable<error_code> {
    auto [ec] = co_await link->ws.async_close(websocket::close_code::going_away, tok);
    co_return ec;
  };
  CHECK_FALSE(run(link->ioc, close()));  // our close frame answered, TLS and TCP closed cleanly
  CHECK(f.wait_connections(0, 2s));

  http::request<http::string_body> old_version{http::verb::get, target_of(link_url(api)), 11};
  old_version.set(http::field::upgrade, "websocket");
  old_version.set(http::field::connection, "Upgrade");
  old_version.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  old_version.set(http::field::sec_websocket_version, "8");
  auto refused = api.send(std::move(old_version));
  CHECK(refused.result_int() == 426);
  CHECK(refused[http::field::sec_websocket_version] == "13");
  CHECK(f.protocol_errors().empty());
}

TEST_CASE("too many links: the extra one is told too_many_websockets", "[fake_slack]") {
  fake_slack::options o;
  o.max_connections = 1;
  fake_slack f(o);
  api_client api(f.port());
  auto first = open_link(api);
  link_client extra;
  REQUIRE_FALSE(extra.connect(link_url(api)));
  auto d = extra.read_json();
  CHECK(str(d, "type") == "disconnect");
  CHECK(str(d, "reason") == "too_many_websockets");
  CHECK(extra.read().ec == websocket::error::closed);
  CHECK(f.connections() == 1);
  CHECK(f.connections_opened() == 2);
}

TEST_CASE("envelopes wait for a link and are spread round robin", "[fake_slack]") {
  fake_slack f;
  api_client api(f.port());
  std::string early = f.slash_command("U1", "C1", "/draft", "list");
  auto a = open_link(api);  // hello first, then what waited
  CHECK(str(a->read_json(), "envelope_id") == early);
  auto b = open_link(api);
  REQUIRE(f.wait_connections(2, 2s));
  std::string x = f.slash_command("U1", "C1", "/draft", "one"), y = f.slash_command("U1", "C1", "/draft", "two");
  std::string got_a = str(a->read_json(), "envelope_id"), got_b = str(b->read_json(), "envelope_id");
  CHECK(got_a != got_b);
  CHECK((got_a == x || got_a == y));
  CHECK((got_b == x || got_b == y));
}

TEST_CASE("many envelopes through one link", "[fake_slack]") {
  fake_slack f;
  api_client api(f.port());
  auto link = open_link(api);
  constexpr std::size_t n = 5000;
  auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < n; ++i) f.slash_command("U1", "C1", "/audit", "--limit 5");
  auto queued = std::chrono::steady_clock::now() - t0;
  CHECK(run(link->ioc, link->echo_acks(n), 20s) == n);
  std::vector<std::chrono::nanoseconds> latency;
  while (latency.size() < n)
    if (auto a = f.next_ack(2s))
      latency.push_back(a->latency);
    else
      break;
  CHECK(latency.size() == n);
  if (std::getenv("SIGNOFF_FAKE_VERBOSE") && !latency.empty()) {
    auto us = [](auto d) { return static_cast<long long>(std::chrono::duration_cast<std::chrono::microseconds>(d).count()); };
    std::sort(latency.begin(), latency.end());
    std::printf("fake_slack: %zu slash_command() calls in %lld us; all acked after %lld us; "
                "write->ack latency p50 %lld us, p99 %lld us (queued all at once)\n",
                n, us(queued), us(std::chrono::steady_clock::now() - t0), us(latency[latency.size() / 2]),
                us(latency[latency.size() * 99 / 100]));
  }
  CHECK(f.protocol_errors().empty());
}

// Hidden (run with "[.fake_slack_bench]"): windowed load through one link, a
// raw client acking on its own thread; prints rate and write->ack latency.
TEST_CASE("fake Slack throughput, windowed", "[.fake_slack_bench]") {
  fake_slack f;
  api_client api(f.port());
  auto link = open_link(api);
  std::size_t client_acked = 0;
  std::thread client([&] { client_acked = run(link->ioc, link->echo_acks(SIZE_MAX), 60s); });
  const char* w = std::getenv("SIGNOFF_FAKE_WINDOW");
  const std::size_t window = w ? std::stoul(w) : 256;
  const auto length = 3s;
  std::vector<std::chrono::nanoseconds> latency;
  std::size_t sent = 0;
  auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - t0 < length) {
    while (sent - latency.size() < window) {
      f.slash_command("U1", "C1", "/audit", "--limit 5");
      ++sent;
    }
    auto a = f.next_ack(2s);
    REQUIRE(a);
    latency.push_back(a->latency);
  }
  while (latency.size() < sent) {
    auto a = f.next_ack(2s);
    REQUIRE(a);
    latency.push_back(a->latency);
  }
  auto elapsed = std::chrono::steady_clock::now() - t0;
  f.close_links(1000);
  client.join();
  CHECK(client_acked == sent);
  std::sort(latency.begin(), latency.end());
  auto us = [](auto d) { return std::chrono::duration<double, std::micro>(d).count(); };
  std::printf("fake_slack: %zu envelopes in %.0f ms = %.0f/s (window %zu); latency p50 %.0f us, p99 %.0f us, max %.0f us\n",
              sent, us(elapsed) / 1000, static_cast<double>(sent) / (us(elapsed) / 1e6), window,
              us(latency[latency.size() / 2]), us(latency[latency.size() * 99 / 100]), us(latency.back()));
  CHECK(f.protocol_errors().empty());
}
