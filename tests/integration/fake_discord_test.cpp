// The fake Discord follows Discord's protocol: proven with the project's own
// clients (net::ws_client for the gateway, net::http_client for REST, both
// verifying the fake's certificate against the throw-away test CA), so what
// the bot sees from the fake is what these tests see
// (tests/fakes/fake_discord.hpp).
#include "fakes/fake_discord.hpp"
#include "support/run_io.hpp"
#include "support/test_pki.hpp"

#include "bot/net/net.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <thread>

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
namespace net = signoff::net;
using signoff::test::fake_discord;
using namespace std::chrono_literals;

const std::string bot_token = fake_discord::options{}.token;
const std::string user_agent = "DiscordBot (https://example.invalid/signoff, 0.1.0)";

// A JSON string's text ("" for anything else), to compare with std::string.
std::string s_of(const json::value& v) { return v.is_string() ? std::string(v.get_string()) : std::string{}; }

// ---- the gateway, through net::ws_client ----------------------------------------

struct gateway_client {
  asio::io_context ioc;
  net::tls_context tls{signoff::test::test_pki().ca_pem};
  std::unique_ptr<net::ws_client> ws;

  ~gateway_client() {
    if (ws) ws->abort();
  }

  // One client step on the test thread's io_context (a hang fails the test).
  template <class F>
  void step(F body) {
    ioc.restart();
    signoff::test::run_io(ioc, std::move(body), 5s);
  }

  bool connect(const std::string& url) {
    auto u = net::parse_url(url);
    REQUIRE(u);
    boost::system::error_code ec;
    step([&]() -> asio::awaitable<void> {
      net::timeouts t;
      auto [e, c] = co_await net::ws_client::connect(ioc.get_executor(), tls, *u, t);
      ec = e;
      ws = std::move(c);
    });
    return !ec;
  }

  void send(const std::string& text) {
    boost::system::error_code ec;
    step([&]() -> asio::awaitable<void> { ec = co_await ws->write(text); });
    REQUIRE_FALSE(ec);
  }
  void send(const json::object& o) { send(json::serialize(o)); }

  // The next message, or nullopt once the link is closed.
  std::optional<json::object> next() {
    std::string text;
    boost::system::error_code ec;
    step([&]() -> asio::awaitable<void> { ec = co_await ws->read(text); });
    if (ec) return std::nullopt;
    json::value v = json::parse(text);
    REQUIRE(v.is_object());
    return v.get_object();
  }
  // Reads until the link closes; the close code the fake sent.
  std::uint16_t closed() {
    for (int i = 0; i < 200; ++i)
      if (!next()) return ws->close_code();
    FAIL("the link stayed open");
    return 0;
  }

  // Hello, then Identify; returns READY's d.
  json::object identify(fake_discord& f, std::int64_t intents = 0) {
    REQUIRE(connect("wss://localhost:" + std::to_string(f.port()) + "/?v=10&encoding=json"));
    auto hello = next();
    REQUIRE(hello);
    CHECK(hello->at("op") == 10);
    send(identify_payload(bot_token, intents));
    auto ready = next();
    REQUIRE(ready);
    CHECK(ready->at("op") == 0);
    CHECK(ready->at("t") == "READY");
    return ready->at("d").get_object();
  }
  static json::object identify_payload(const std::string& token, std::int64_t intents) {
    return {{"op", 2},
            {"d",
             {{"token", token},
              {"intents", intents},
              {"properties", {{"os", "linux"}, {"browser", "signoff"}, {"device", "signoff"}}}}}};
  }
  // The next dispatch of type `t`, skipping others.
  json::object dispatch(std::string_view t) {
    for (int i = 0; i < 10; ++i) {
      auto m = next();
      REQUIRE(m);
      if (m->at("op") == 0 && s_of(m->at("t")) == t) return *m;
    }
    FAIL("no " << t << " dispatch");
    return {};
  }
};

std::string gateway_url(const fake_discord& f) { return "wss://localhost:" + std::to_string(f.port()) + "/?v=10&encoding=json"; }

// ---- REST, one blocking HTTPS exchange per call ---------------------------------

struct rest_answer {
  unsigned status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  json::value body;
  std::string header(const std::string& k) const {
    auto it = headers.find(k);
    return it == headers.end() ? std::string{} : it->second;
  }
  const json::object& object() const {
    REQUIRE(body.is_object());
    return body.get_object();
  }
};

rest_answer rest(const fake_discord& f, const std::string& method, const std::string& path,
                 const json::value& body = nullptr, std::optional<std::string> authorization = std::nullopt,
                 const std::string& ua = user_agent) {
  asio::io_context ioc;
  net::tls_context tls{signoff::test::test_pki().ca_pem};
  auto origin = net::parse_url(f.api_base());
  REQUIRE(origin);
  net::http_client client(ioc.get_executor(), tls, *origin);
  net::http_request req;
  req.method = method;
  req.target = "/api/v10" + path;
  req.authorization = authorization.value_or("Bot " + bot_token);
  req.user_agent = ua;
  if (!body.is_null()) {
    req.content_type = "application/json";
    req.body = json::serialize(body);
  }
  boost::system::error_code ec;
  net::http_response res;
  signoff::test::run_io(ioc, [&]() -> asio::awaitable<void> {
    auto [e, r] = co_await client.request(req);
    ec = e;
    res = std::move(r);
  });
  REQUIRE_FALSE(ec);
  rest_answer out;
  out.status = res.status;
  for (const auto& [k, v] : res.headers) out.headers[k] = v;
  if (!res.body.empty()) out.body = json::parse(res.body);
  return out;
}

rest_answer post(const fake_discord& f, const std::string& path, const json::value& body) {
  return rest(f, "POST", path, body);
}

std::string interaction_path(const json::object& d) {
  return "/interactions/" + std::string(d.at("id").get_string()) + "/" + std::string(d.at("token").get_string()) +
         "/callback";
}
std::string webhook_path(const json::object& d) {
  return "/webhooks/" + fake_discord::options{}.application_id + "/" + std::string(d.at("token").get_string());
}

bool has_error(const fake_discord& f, std::string_view what) {
  for (const auto& e : f.protocol_errors())
    if (e.find(what) != std::string::npos) return true;
  return false;
}

json::object button_row(int n, std::size_t id_len = 8, std::size_t label_len = 7) {
  json::array buttons;
  for (int i = 0; i < n; ++i)
    buttons.push_back(json::object{{"type", 2}, {"style", 1}, {"label", std::string(label_len, 'L')},
                                   {"custom_id", std::string(id_len - 1, 'c') + std::to_string(i % 10)}});
  return {{"type", 1}, {"components", std::move(buttons)}};
}

}  // namespace

TEST_CASE("gateway/bot, Hello, Identify, READY and heartbeats follow the Gateway docs", "[discord][fake_discord]") {
  fake_discord f;
  auto gb = rest(f, "GET", "/gateway/bot");
  REQUIRE(gb.status == 200);
  CHECK(s_of(gb.object().at("url")) == "wss://localhost:" + std::to_string(f.port()));
  CHECK(gb.object().at("shards") == 1);
  const auto& limit = gb.object().at("session_start_limit").get_object();
  CHECK(limit.at("total") == 1000);
  CHECK(limit.at("max_concurrency") == 1);
  CHECK_FALSE(gb.header("x-ratelimit-bucket").empty());

  gateway_client c;
  REQUIRE(c.connect(gateway_url(f)));
  auto hello = c.next();
  REQUIRE(hello);
  CHECK(hello->at("op") == 10);
  CHECK(hello->at("d").at("heartbeat_interval") == 41250);
  c.send(json::object{{"op", 1}, {"d", nullptr}});  // a heartbeat may come before Identify
  CHECK(c.next()->at("op") == 11);
  c.send(gateway_client::identify_payload(bot_token, 1));  // GUILDS
  auto ready = c.next();
  REQUIRE(ready);
  CHECK(ready->at("t") == "READY");
  CHECK(ready->at("s") == 1);
  const auto& d = ready->at("d").get_object();
  CHECK(d.at("v") == 10);
  CHECK(s_of(d.at("user").at("id")) == fake_discord::options{}.bot_user_id);
  CHECK(d.at("user").at("bot") == true);
  CHECK(s_of(d.at("application").at("id")) == fake_discord::options{}.application_id);
  CHECK(s_of(d.at("resume_gateway_url")) == "wss://localhost:" + std::to_string(f.port()) + "/resume");
  CHECK(d.at("session_id").get_string().size() >= 16);
  auto guild = c.dispatch("GUILD_CREATE");
  CHECK(guild.at("s") == 2);
  CHECK(s_of(guild.at("d").at("id")) == fake_discord::options{}.guild_id);
  c.send(json::object{{"op", 1}, {"d", 2}});
  auto ack = c.next();
  REQUIRE(ack);
  CHECK(ack->at("op") == 11);
  CHECK(f.identifies() == 1);
  CHECK(f.wait_ready(1, 1s));
  CHECK(f.connections() == 1);
  CHECK(f.protocol_errors().empty());
}

TEST_CASE("a zombie fake stops acknowledging, and a silent client is closed 4000", "[discord][fake_discord]") {
  fake_discord::options o;
  o.heartbeat_interval = 200ms;
  fake_discord f(o);
  gateway_client c;
  c.identify(f);
  f.zombie(true);
  c.send(json::object{{"op", 1}, {"d", 1}});
  std::this_thread::sleep_for(50ms);  // the heartbeat is read before the marker is queued
  f.send_raw(R"({"op":0,"t":"MARKER","s":null,"d":{}})");
  auto m = c.next();
  REQUIRE(m);
  CHECK(m->at("t") == "MARKER");  // no ACK came before it
  CHECK(c.closed() == 4000);    // no heartbeat for 1.5 intervals
  CHECK(has_error(f, "no heartbeat"));
}

TEST_CASE("each gateway rule broken gets Discord's close code", "[discord][fake_discord]") {
  fake_discord::options o;
  o.max_frame = 4096;
  fake_discord f(o);
  auto hello_then = [&](const std::string& frame) {
    gateway_client c;
    REQUIRE(c.connect(gateway_url(f)));
    REQUIRE(c.next());
    c.send(frame);
    return c.closed();
  };
  CHECK(hello_then(R"({"op":3,"d":{"status":"online"}})") == 4003);                   // before Identify
  CHECK(hello_then("not json") == 4002);
  CHECK(hello_then(R"({"op":2,"d":{"token":"x"}})") == 4002);                         // no intents, properties
  CHECK(hello_then(R"({"op":5,"d":null})") == 4001);                                  // unknown opcode
  CHECK(hello_then(R"({"op":1,"d":null,"pad":")" + std::string(5000, 'x') + "\"}") == 4002);  // over 4096 bytes
  CHECK(hello_then(json::serialize(gateway_client::identify_payload("wrong-token", 0))) == 4004);
  CHECK(hello_then(json::serialize(gateway_client::identify_payload(bot_token, 1 << 15))) == 4014);  // MESSAGE_CONTENT
  {
    gateway_client c;
    c.identify(f);
    c.send(gateway_client::identify_payload(bot_token, 0));
    CHECK(c.closed() == 4005);
  }
  {
    gateway_client c;
    REQUIRE(c.connect("wss://localhost:" + std::to_string(f.port()) + "/?v=9&encoding=json"));
    CHECK(c.closed() == 4012);
  }
  {
    gateway_client c;
    c.identify(f);
    for (int i = 0; i < 119; ++i) c.send(R"({"op":3,"d":{"status":"online","since":null,"activities":[],"afk":false}})");
    c.send(R"({"op":1,"d":1})");  // the 121st in a minute
    CHECK(c.closed() == 4008);
  }
  for (const char* e : {"before Identify", "not a JSON object", "without token", "unknown opcode", "over 4096",
                        "wrong token", "privileged", "second Identify", "v=10", "120 gateway sends"})
    CHECK(has_error(f, e));
}

TEST_CASE("Resume replays what the session missed, then RESUMED, and an unknown session gets op 9", "[discord][fake_discord]") {
  fake_discord f;
  gateway_client c;
  auto ready = c.identify(f);
  std::string session = std::string(ready.at("session_id").get_string());
  std::string resume_url = std::string(ready.at("resume_gateway_url").get_string()) + "/?v=10&encoding=json";
  json::array no_options;
  std::string a = f.command("2000000000000000001", "3000000000000000001", "escalations", no_options);
  auto first = c.dispatch("INTERACTION_CREATE");
  CHECK(s_of(first.at("d").at("id")) == a);
  std::int64_t seen = first.at("s").as_int64();
  f.drop_links();
  CHECK(c.closed() == 0);  // abrupt: no close frame
  std::string b = f.command("2000000000000000001", "3000000000000000001", "audit", no_options);  // while away

  gateway_client r;
  REQUIRE(r.connect(resume_url));
  REQUIRE(r.next());  // Hello
  r.send(json::object{{"op", 6}, {"d", {{"token", bot_token}, {"session_id", session}, {"seq", seen}}}});
  auto missed = r.next();
  REQUIRE(missed);
  CHECK(s_of(missed->at("d").at("id")) == b);
  CHECK(missed->at("s") == seen + 1);
  auto resumed = r.next();
  REQUIRE(resumed);
  CHECK(resumed->at("t") == "RESUMED");
  CHECK(f.resumes() == 1);
  CHECK(f.wait_ready(2, 1s));

  // At-least-once: the next Resume sends the last dispatch again although the client has it.
  f.replay_on_next_resume(1);
  f.drop_links();
  gateway_client again;
  REQUIRE(again.connect(resume_url));
  REQUIRE(again.next());
  again.send(json::object{{"op", 6}, {"d", {{"token", bot_token}, {"session_id", session}, {"seq", seen + 1}}}});
  auto replayed = again.next();
  REQUIRE(replayed);
  CHECK(s_of(replayed->at("d").at("id")) == b);
  CHECK(again.next()->at("t") == "RESUMED");

  gateway_client stranger;
  REQUIRE(stranger.connect(resume_url));
  REQUIRE(stranger.next());
  stranger.send(json::object{{"op", 6}, {"d", {{"token", bot_token}, {"session_id", "nope"}, {"seq", 1}}}});
  auto invalid = stranger.next();
  REQUIRE(invalid);
  CHECK(invalid->at("op") == 9);
  CHECK(invalid->at("d") == false);
  CHECK(f.protocol_errors().empty());
}

TEST_CASE("faults: op 7, op 9, close codes reach the client", "[discord][fake_discord]") {
  fake_discord f;
  gateway_client c;
  c.identify(f);
  f.send_reconnect();
  auto rc = c.next();
  REQUIRE(rc);
  CHECK(rc->at("op") == 7);
  f.invalid_session(false);
  auto inv = c.next();
  REQUIRE(inv);
  CHECK(inv->at("op") == 9);
  CHECK(inv->at("d") == false);
  f.close_links(4000);
  CHECK(c.closed() == 4000);
  CHECK(f.protocol_errors().empty());
}

TEST_CASE("interactions have Discord's shape, and callbacks come once, within the deadline", "[discord][fake_discord]") {
  fake_discord f;
  gateway_client c;
  c.identify(f);
  json::array opts{json::object{{"name", "new"}, {"type", 1},
                                {"options", json::array{json::object{{"name", "text"}, {"type", 3}, {"value", "Hello"}}}}}};
  std::string id = f.command("2000000000000000001", "3000000000000000001", "draft", opts);
  auto ev = c.dispatch("INTERACTION_CREATE");
  const auto& d = ev.at("d").get_object();
  CHECK(s_of(d.at("id")) == id);
  CHECK(d.at("type") == 2);
  CHECK(s_of(d.at("guild_id")) == fake_discord::options{}.guild_id);
  CHECK(d.at("channel_id") == "3000000000000000001");
  CHECK(d.at("member").at("user").at("id") == "2000000000000000001");
  CHECK(d.at("data").at("name") == "draft");
  CHECK(d.at("data").at("options").at(0).at("options").at(0).at("value") == "Hello");
  CHECK(d.at("token").as_string() == f.token_of(id));

  json::object reply{{"type", 4}, {"data", {{"content", "D-1 created"}, {"flags", 64}}}};
  auto ok = post(f, interaction_path(d), reply);
  CHECK(ok.status == 204);
  auto r = f.wait_response(id, 1s);
  REQUIRE(r);
  CHECK(r->type == 4);
  CHECK(r->content == "D-1 created");
  CHECK(r->ephemeral);
  CHECK_FALSE(r->late);
  auto twice = post(f, interaction_path(d), reply);
  CHECK(twice.status == 400);
  CHECK(twice.object().at("code") == 40060);
  CHECK(has_error(f, "second callback"));

  // A DM interaction carries user, not member; deferred, then the original edited, then a follow-up.
  std::string dm = f.command("2000000000000000002", fake_discord::dm_channel_of("2000000000000000002"), "handover",
                             json::array{}, true);
  auto dev = c.dispatch("INTERACTION_CREATE").at("d").get_object();
  CHECK(dev.at("user").at("id") == "2000000000000000002");
  CHECK_FALSE(dev.contains("member"));
  CHECK_FALSE(dev.contains("guild_id"));
  json::object deferred{{"type", 5}, {"data", {{"flags", 64}}}};
  CHECK(post(f, interaction_path(dev), deferred).status == 204);
  CHECK_FALSE(f.wait_response(dm, 100ms));  // not final until the edit
  auto edit = rest(f, "PATCH", webhook_path(dev) + "/messages/@original",
                   json::object{{"content", "recorded"}}, std::string{});  // no Authorization needed
  CHECK(edit.status == 200);
  auto follow = post(f, webhook_path(dev), json::object{{"content", "and one more"}});
  CHECK(follow.status == 200);
  CHECK_FALSE(follow.object().at("id").as_string().empty());
  auto dr = f.wait_response(dm, 1s);
  REQUIRE(dr);
  CHECK(dr->type == 5);
  CHECK(dr->content == "recorded");
  CHECK(dr->ephemeral);
  CHECK(f.wait_response(dm, 1s)->followups.size() == 1);
  auto next = f.next_response(100ms);  // benchmarks pop final answers in order
  REQUIRE(next);
  CHECK(next->interaction_id == id);
  CHECK(f.next_response(100ms)->interaction_id == dm);
  CHECK_FALSE(f.next_response(50ms));
  auto forged = post(f, "/webhooks/" + fake_discord::options{}.application_id + "/not-a-token", json::object{{"content", "x"}});
  CHECK(forged.status == 401);
  CHECK(forged.object().at("code") == 50027);
  for (const auto& e : f.protocol_errors()) CHECK(e.find(std::string(dev.at("token").as_string())) == std::string::npos);

  // A button on a posted card opens a modal; the modal is submitted.
  auto card = post(f, "/channels/3000000000000000001/messages",
                   json::object{{"content", "D-1"}, {"components", json::array{button_row(2)}}});
  REQUIRE(card.status == 200);
  std::string mid(card.object().at("id").as_string());
  std::string click = f.button("2000000000000000003", "3000000000000000001", mid, "reject:D-1@1");
  auto cev = c.dispatch("INTERACTION_CREATE").at("d").get_object();
  CHECK(cev.at("type") == 3);
  CHECK(cev.at("data").at("custom_id") == "reject:D-1@1");
  CHECK(cev.at("data").at("component_type") == 2);
  CHECK(s_of(cev.at("message").at("id")) == mid);
  json::object input{{"type", 4}, {"custom_id", "reason"}, {"label", "Reason"}, {"style", 2}};
  json::object modal{{"type", 9},
                     {"data", {{"custom_id", "reject:D-1@1"}, {"title", std::string(46, 'T')},
                               {"components", json::array{json::object{{"type", 1}, {"components", json::array{input}}}}}}}};
  auto bad_modal = post(f, interaction_path(cev), modal);
  CHECK(bad_modal.status == 400);  // title over 45
  CHECK(bad_modal.object().at("code") == 50035);
  CHECK(bad_modal.object().at("errors").at("data").get_object().contains("title"));
  modal["data"].as_object()["title"] = "Reject D-1";
  CHECK(post(f, interaction_path(cev), modal).status == 204);
  auto mr = f.wait_response(click, 1s);
  REQUIRE(mr);
  CHECK(mr->type == 9);
  CHECK(mr->data.at("custom_id") == "reject:D-1@1");
  std::string sub = f.modal_submit("2000000000000000003", "3000000000000000001", "reject:D-1@1", {{"reason", "too loud"}});
  auto sev = c.dispatch("INTERACTION_CREATE").at("d").get_object();
  CHECK(sev.at("type") == 5);
  CHECK(sev.at("data").at("components").at(0).at("components").at(0).at("value") == "too loud");
  CHECK(post(f, interaction_path(sev), modal).status == 400);  // no modal in answer to a modal
  CHECK(post(f, interaction_path(sev), reply).status == 204);
  CHECK(f.wait_response(sub, 1s));

  auto unknown = post(f, "/interactions/1/nope/callback", reply);
  CHECK(unknown.status == 404);
  CHECK(unknown.object().at("code") == 10062);
  CHECK(unknown.object().at("message") == "Unknown interaction");
}

TEST_CASE("a callback after the deadline is refused with 10062 and marked late", "[discord][fake_discord]") {
  fake_discord::options o;
  o.interaction_deadline = 100ms;
  fake_discord f(o);
  gateway_client c;
  c.identify(f);
  std::string id = f.command("2000000000000000001", "3000000000000000001", "escalations", json::array{});
  auto d = c.dispatch("INTERACTION_CREATE").at("d").get_object();
  std::this_thread::sleep_for(250ms);
  auto late = post(f, interaction_path(d), json::object{{"type", 4}, {"data", {{"content", "too slow"}}}});
  CHECK(late.status == 404);
  CHECK(late.object().at("code") == 10062);
  auto r = f.wait_response(id, 1s);
  REQUIRE(r);
  CHECK(r->late);
  CHECK(has_error(f, "callback after"));
}

TEST_CASE("REST wants Bot auth and a DiscordBot User-Agent, validates messages, opens DMs", "[discord][fake_discord]") {
  fake_discord::options o;
  o.bucket_limit = 50;  // refused bodies count against the bucket too
  fake_discord f(o);
  auto anon = rest(f, "POST", "/channels/3000000000000000001/messages", json::object{{"content", "hi"}},
                   "Bot wrong");
  CHECK(anon.status == 401);
  CHECK(anon.object().at("message") == "401: Unauthorized");
  CHECK(anon.object().at("code") == 0);
  CHECK(f.protocol_errors().empty());  // a wrong token is answered, not a protocol error

  auto made = post(f, "/channels/3000000000000000001/messages", json::object{{"content", "card"}});
  REQUIRE(made.status == 200);
  std::string mid(made.object().at("id").as_string());
  CHECK(made.object().at("channel_id") == "3000000000000000001");
  CHECK(made.object().at("author").at("bot") == true);
  auto edited = rest(f, "PATCH", "/channels/3000000000000000001/messages/" + mid,
                     json::object{{"content", "card v2"}});
  CHECK(edited.status == 200);
  auto msgs = f.messages("3000000000000000001");
  REQUIRE(msgs.size() == 1);
  CHECK(msgs[0].content == "card v2");
  CHECK(msgs[0].edits == 1);
  auto gone = rest(f, "PATCH", "/channels/3000000000000000001/messages/1", json::object{{"content", "x"}});
  CHECK(gone.status == 404);
  CHECK(gone.object().at("code") == 10008);

  auto invalid_body = [&](const json::object& body, std::string_view field) {
    auto a = post(f, "/channels/3000000000000000002/messages", body);
    CHECK(a.status == 400);
    CHECK(a.object().at("code") == 50035);
    CHECK(a.object().at("message") == "Invalid Form Body");
    CHECK(a.object().at("errors").get_object().contains(field));
  };
  invalid_body({{"content", std::string(2001, 'x')}}, "content");
  invalid_body({{"content", "x"}, {"components", json::array{button_row(6)}}}, "components");
  invalid_body({{"content", "x"}, {"components", json::array{button_row(2, 101)}}}, "components");
  invalid_body({{"content", "x"}, {"components", json::array{button_row(2, 8, 81)}}}, "components");
  auto empty = post(f, "/channels/3000000000000000002/messages", json::object{{"content", ""}});
  CHECK(empty.status == 400);
  CHECK(empty.object().at("code") == 50006);
  CHECK(post(f, "/channels/3000000000000000002/messages", json::object{{"content", std::string(2000, 'x')}}).status == 200);

  auto dm = post(f, "/users/@me/channels", json::object{{"recipient_id", "2000000000000000009"}});
  CHECK(dm.status == 200);
  CHECK(s_of(dm.object().at("id")) == fake_discord::dm_channel_of("2000000000000000009"));
  CHECK(dm.object().at("type") == 1);

  CHECK(f.protocol_errors().empty());
  rest(f, "GET", "/users/@me", nullptr, std::nullopt, "curl/8.0");
  CHECK(has_error(f, "User-Agent"));
  rest(f, "POST", "/webhooks/" + fake_discord::options{}.application_id + "/secret-token-value",
       json::object{{"content", "x"}}, std::nullopt, "curl/8.0");
  CHECK_FALSE(has_error(f, "secret-token-value"));  // tokens in paths are redacted
  CHECK(has_error(f, "{token}"));
  auto calls = f.calls("/channels/");
  CHECK(calls.size() == 10);
  CHECK(calls[0].status == 401);
  CHECK(calls[1].method == "POST");
  CHECK(calls[1].body.at("content") == "card");
  CHECK(calls[1].user_agent == user_agent);
}

TEST_CASE("rate limits: bucket headers count down, an exceeded bucket and injected 429s as Discord sends them", "[discord][fake_discord]") {
  fake_discord::options o;
  o.bucket_limit = 2;
  o.bucket_window = 60s;
  fake_discord f(o);
  const std::string ch = "/channels/3000000000000000001/messages";
  json::object msg{{"content", "x"}};
  auto one = post(f, ch, msg);
  CHECK(one.header("x-ratelimit-limit") == "2");
  CHECK(one.header("x-ratelimit-remaining") == "1");
  CHECK_FALSE(one.header("x-ratelimit-bucket").empty());
  CHECK(std::stod(one.header("x-ratelimit-reset-after")) > 50);
  CHECK(std::stod(one.header("x-ratelimit-reset")) > 1.7e9);
  auto two = post(f, ch, msg);
  CHECK(two.header("x-ratelimit-remaining") == "0");
  CHECK(two.header("x-ratelimit-bucket") == one.header("x-ratelimit-bucket"));
  CHECK(post(f, "/channels/3000000000000000002/messages", msg).header("x-ratelimit-remaining") == "1");  // per channel
  CHECK(f.protocol_errors().empty());
  auto three = post(f, ch, msg);
  CHECK(three.status == 429);
  CHECK(three.object().at("message") == "You are being rate limited.");
  CHECK(three.object().at("global") == false);
  CHECK(three.object().at("retry_after").to_number<double>() > 50);
  CHECK(three.header("x-ratelimit-scope") == "user");
  CHECK_FALSE(three.header("retry-after").empty());
  CHECK(has_error(f, "exhausted"));

  fake_discord g;
  g.rate_limit_next("/channels/", 1.5, false);
  auto injected = post(g, ch, msg);
  CHECK(injected.status == 429);
  CHECK(injected.object().at("retry_after") == 1.5);
  CHECK(injected.object().at("global") == false);
  CHECK(injected.header("retry-after") == "2");
  CHECK(injected.header("x-ratelimit-remaining") == "0");
  CHECK(injected.header("x-ratelimit-reset-after") == "1.500");
  CHECK(g.protocol_errors().empty());
  CHECK(post(g, ch, msg).status == 429);  // too soon: the bucket is still paused
  CHECK(has_error(g, "before the 429"));

  fake_discord h;
  h.rate_limit_next("interactions", 0.2, true);
  auto global = post(h, "/interactions/1/x/callback", json::object{{"type", 4}});
  CHECK(global.status == 429);
  CHECK(global.object().at("global") == true);
  CHECK(global.header("x-ratelimit-global") == "true");
  CHECK(global.header("x-ratelimit-scope") == "global");
  std::this_thread::sleep_for(300ms);
  h.fail_next("/channels/", 503, 0, "upstream connect error");
  auto failed = post(h, ch, msg);
  CHECK(failed.status == 503);
  CHECK(failed.object().at("message") == "upstream connect error");
  CHECK(post(h, ch, msg).status == 200);
  CHECK(h.protocol_errors().empty());
}

TEST_CASE("bulk overwrite validates commands and keeps their IDs", "[discord][fake_discord]") {
  fake_discord f;
  const auto app = fake_discord::options{}.application_id, guild = fake_discord::options{}.guild_id;
  const std::string path = "/applications/" + app + "/guilds/" + guild + "/commands";
  auto opt = [](const char* name, bool required) {
    return json::object{{"name", name}, {"description", "d"}, {"type", 3}, {"required", required}};
  };
  json::array cmds{json::object{{"name", "approve"}, {"description", "Approve a draft"},
                                {"options", json::array{opt("id", true), opt("note", false)}}},
                   json::object{{"name", "draft"}, {"description", "Drafts"},
                                {"options", json::array{json::object{{"name", "new"}, {"description", "New"}, {"type", 1},
                                                                     {"options", json::array{opt("text", true)}}}}}}};
  auto put = rest(f, "PUT", path, cmds);
  REQUIRE(put.status == 200);
  REQUIRE(put.body.is_array());
  CHECK(put.body.as_array().size() == 2);
  std::string id(put.body.at(0).at("id").as_string());
  CHECK(s_of(put.body.at(0).at("application_id")) == app);
  CHECK(s_of(put.body.at(0).at("guild_id")) == guild);
  CHECK(f.registered_commands(guild).as_array().size() == 2);
  CHECK(f.registered_commands("").is_null());
  CHECK(s_of(rest(f, "PUT", path, cmds).body.at(0).at("id")) == id);  // same name, same ID

  auto refused = [&](json::array bad) {
    auto a = rest(f, "PUT", path, bad);
    CHECK(a.status == 400);
    CHECK(a.object().at("code") == 50035);
  };
  refused({json::object{{"name", "Approve"}, {"description", "x"}}});  // upper case
  refused({json::object{{"name", "approve"}, {"description", ""}}});
  refused({json::object{{"name", "approve"}, {"description", std::string(101, 'd')}}});
  refused({json::object{{"name", "approve"}, {"description", "x"}, {"options", json::array{opt("note", false), opt("id", true)}}}});
  json::array many;
  for (int i = 0; i < 26; ++i) many.push_back(opt(("o" + std::to_string(i)).c_str(), false));
  refused({json::object{{"name", "approve"}, {"description", "x"}, {"options", many}}});
  CHECK(f.registered_commands(guild).as_array().size() == 2);  // a refused overwrite changes nothing
  CHECK(rest(f, "PUT", "/applications/" + app + "/guilds/1/commands", cmds).status == 403);
  CHECK(rest(f, "PUT", "/applications/" + app + "/commands", cmds).status == 200);
  CHECK(f.registered_commands("").as_array().size() == 2);

  f.set_gateway_bot(0ms, 503);
  CHECK(rest(f, "GET", "/gateway/bot").status == 503);
  CHECK(f.protocol_errors().empty());
}
