// The Discord Gateway session machine and its frames, driven like the Slack
// session: feed events with a fake clock and a scripted uniform01, check the
// returned actions. No socket, no sleep.
#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <deque>

#include "bot/protocol/discord/gateway.hpp"

using namespace signoff;
using namespace signoff::discord;
using namespace std::chrono_literals;
using strings = std::vector<std::string>;
namespace json = boost::json;

namespace {

const time_point t0 = time_point{} + std::chrono::hours(24 * 365 * 56);
const std::string token = "Bot.SECRET-token-value";

time_point at(std::int64_t ms) { return t0 + std::chrono::milliseconds(ms); }

struct rig {
  std::deque<double> rolls;  // scripted uniform01; 0.5 once they run out
  gateway g;
  strings details;           // every health detail seen, checked for the token
  explicit rig(gateway_options o = {})
      : g(o, token, [this] {
          if (rolls.empty()) return 0.5;
          double r = rolls.front();
          rolls.pop_front();
          return r;
        }) {}
};

// Actions as short strings, times relative to t0: "open 1", "close 1 4000",
// "wake +1500", "health degraded: why", "beat 1 <d>", "identify 1",
// "resume 1 <session> <seq>".
strings show(const std::vector<action>& actions, strings* details = nullptr) {
  strings out;
  for (const auto& a : actions) {
    if (auto* o = std::get_if<open_link>(&a)) out.push_back("open " + std::to_string(o->id));
    if (auto* c = std::get_if<close_link>(&a))
      out.push_back("close " + std::to_string(c->id) + " " + std::to_string(c->code));
    if (auto* w = std::get_if<wake_at>(&a)) out.push_back("wake +" + std::to_string((w->at - t0).count()));
    if (auto* h = std::get_if<report_health>(&a)) {
      out.push_back("health " + std::string(link::to_string(h->st)) + (h->detail.empty() ? "" : ": " + h->detail));
      if (details) details->push_back(h->detail);
    }
    if (auto* f = std::get_if<send_frame>(&a)) {
      auto v = json::parse(f->text);
      auto op = v.at("op").as_int64();
      const auto& d = v.at("d");
      auto id = std::to_string(f->id);
      if (op == 1) out.push_back("beat " + id + " " + json::serialize(d));
      else if (op == 2) {
        CHECK(d.at("token").as_string() == token);
        out.push_back("identify " + id);
      } else if (op == 6) {
        CHECK(d.at("token").as_string() == token);
        out.push_back("resume " + id + " " + std::string(d.at("session_id").as_string()) + " " +
                      std::to_string(d.at("seq").as_int64()));
      } else out.push_back("frame " + id + " " + f->text);
    }
  }
  return out;
}

payload make(int op, const char* d_json = "null", std::optional<std::int64_t> s = std::nullopt, std::string t = "") {
  payload p;
  p.op = op;
  p.d = json::parse(d_json);
  p.s = s;
  p.t = std::move(t);
  return p;
}
payload hello(int interval = 40000) {
  return make(op::hello, ("{\"heartbeat_interval\":" + std::to_string(interval) + "}").c_str());
}
payload ready_event(std::int64_t s = 1) {
  return make(op::dispatch,
              R"({"v":10,"session_id":"sess-1","resume_gateway_url":"wss://resume.discord.gg",
                  "user":{"id":"4242","username":"signoff","bot":true},"application":{"id":"123"}})",
              s, "READY");
}
gateway_bot bot(int remaining = 1000, int max_concurrency = 1, std::int64_t reset_ms = 86'000'000) {
  return gateway_bot{"wss://gateway.discord.gg", 1, 1000, remaining, std::chrono::milliseconds(reset_ms),
                     max_concurrency};
}

// gateway/bot answered (a fresh link) and the websocket up for link `id`.
void connect(rig& r, link_id id, time_point when, const gateway_bot& b = bot()) {
  std::string why;
  REQUIRE(r.g.on_gateway_bot(id, b, when, why));
  r.g.on_connected(id, when);
}

// Start, gateway/bot, connect, Hello (first beat at 0.5 x 40 s) and READY
// on link 1 at t0.
void bring_up(rig& r) {
  REQUIRE(show(r.g.start(t0)) == strings{"health connecting", "open 1"});
  REQUIRE_FALSE(r.g.resume_url());
  std::string why;
  REQUIRE(r.g.on_gateway_bot(1, bot(), t0, why) == "wss://gateway.discord.gg/?v=10&encoding=json");
  REQUIRE(show(r.g.on_connected(1, t0)) == strings{"wake +20000"});
  REQUIRE(show(r.g.on_payload(1, hello(), t0)) == strings{"identify 1"});  // beat at +20000 = hello wake
  REQUIRE(show(r.g.on_payload(1, ready_event(), t0)) == strings{"health connected"});
  REQUIRE(r.g.ready());
}

}  // namespace

TEST_CASE("Hello, Identify and READY make the link ready and give the session", "[discord][gateway]") {
  rig r;
  r.rolls = {0.25};  // the first heartbeat at a quarter of the interval
  CHECK(show(r.g.start(t0)) == strings{"health connecting", "open 1"});
  CHECK(r.g.live_links() == 1);
  CHECK_FALSE(r.g.resume_url());  // no session: the adapter asks gateway/bot
  std::string why;
  CHECK(r.g.on_gateway_bot(1, bot(), at(10), why) == "wss://gateway.discord.gg/?v=10&encoding=json");
  CHECK(show(r.g.on_connected(1, at(100))) == strings{"wake +20100"});  // hello timeout
  CHECK_FALSE(r.g.ready());
  CHECK(show(r.g.on_payload(1, hello(41250), at(200))) == strings{"identify 1", "wake +10512"});
  CHECK(r.g.identifies() == 1);
  CHECK_FALSE(r.g.ready());  // Identify sent is not enough
  CHECK(show(r.g.on_payload(1, ready_event(1), at(300))) == strings{"health connected"});
  CHECK(r.g.ready());
  CHECK(r.g.session_id() == "sess-1");
  CHECK(r.g.seq() == 1);
  CHECK(r.g.bot_user_id() == "4242");
  CHECK(show(r.g.start(at(400))).empty());  // a second start does nothing
}

TEST_CASE("heartbeats: jittered first, then every interval with the last seq", "[discord][gateway]") {
  rig r;
  bring_up(r);  // first beat due at +20000
  CHECK(show(r.g.on_payload(1, make(op::dispatch, "{}", 7, "INTERACTION_CREATE"), at(5000))).empty());
  CHECK(r.g.seq() == 7);
  CHECK(show(r.g.on_timer(at(19999))).empty());  // early wake-ups are harmless
  CHECK(show(r.g.on_timer(at(20000))) == strings{"beat 1 7", "wake +60000"});
  CHECK(show(r.g.on_payload(1, make(op::heartbeat_ack), at(20050))).empty());
  CHECK(show(r.g.on_timer(at(60000))) == strings{"beat 1 7", "wake +100000"});
  // A heartbeat request from Discord is answered at once, off schedule.
  CHECK(show(r.g.on_payload(1, make(op::heartbeat), at(61000))) == strings{"beat 1 7"});
  CHECK(show(r.g.on_payload(1, make(op::heartbeat_ack), at(61010))).empty());
  CHECK(r.g.ready());
}

TEST_CASE("before any dispatch the heartbeat carries null", "[discord][gateway]") {
  rig r;
  r.g.start(t0);
  std::string why;
  connect(r, 1, t0, bot());
  r.rolls = {0.0};
  CHECK(show(r.g.on_payload(1, hello(), t0)) == strings{"identify 1", "wake +0"});
  CHECK(show(r.g.on_timer(t0)) == strings{"beat 1 null", "wake +30000"});  // next: the ready timeout
}

TEST_CASE("a heartbeat without ACK is a zombie: close 4000 and resume on a new link", "[discord][gateway]") {
  rig r;
  bring_up(r);
  CHECK(show(r.g.on_timer(at(20000))) == strings{"beat 1 1", "wake +60000"});
  // No ACK before the next one is due.
  CHECK(show(r.g.on_timer(at(60000))) ==
        strings{"close 1 4000", "open 2", "health degraded: no heartbeat ACK: the link is a zombie"});
  CHECK_FALSE(r.g.ready());
  // The new link resumes where READY said.
  CHECK(r.g.resume_url() == "wss://resume.discord.gg/?v=10&encoding=json");
  CHECK(show(r.g.on_connected(2, at(60100))) == strings{"wake +80100"});
  CHECK(show(r.g.on_payload(2, hello(), at(60200))) == strings{"resume 2 sess-1 1", "wake +80200"});
  CHECK(show(r.g.on_payload(2, make(op::dispatch, "{}", 2, "RESUMED"), at(60300))) == strings{"health connected"});
  CHECK(r.g.ready());
  CHECK(r.g.resumes() == 1);
  CHECK(r.g.identifies() == 1);
  CHECK(r.g.seq() == 2);
}

TEST_CASE("Reconnect (op 7) closes with 4000 and resumes at once", "[discord][gateway]") {
  rig r;
  bring_up(r);
  CHECK(show(r.g.on_payload(1, make(op::reconnect), at(1000))) ==
        strings{"close 1 4000", "open 2", "health degraded: Discord asked for a reconnect (op 7)"});
  CHECK(r.g.consecutive_failures() == 0);
  // Frames still read from the old link change nothing.
  CHECK(show(r.g.on_payload(1, make(op::dispatch, "{}", 99, "MESSAGE_CREATE"), at(1001))).empty());
  CHECK(show(r.g.on_closed(1, 1000, "closed", at(1002))).empty());
  CHECK(r.g.seq() == 1);
  CHECK(r.g.resume_url());
}

TEST_CASE("Invalid Session: resumable resumes, not resumable waits 1-5 s and identifies afresh", "[discord][gateway]") {
  SECTION("d = true") {
    rig r;
    bring_up(r);
    auto out = show(r.g.on_payload(1, make(op::invalid_session, "true"), at(1000)));
    CHECK(out == strings{"close 1 4000", "open 2", "health degraded: invalid session (resumable)"});
    CHECK(r.g.resume_url());
    CHECK(r.g.session_id() == "sess-1");
  }
  SECTION("d = false") {
    rig r;
    bring_up(r);
    r.rolls = {0.25};  // 1 s + 0.25 x 4 s = 2 s
    auto out = show(r.g.on_payload(1, make(op::invalid_session, "false"), at(1000)));
    CHECK(out == strings{"close 1 1000", "health degraded: invalid session", "wake +3000"});
    CHECK(r.g.session_id().empty());
    CHECK_FALSE(r.g.seq());
    CHECK(show(r.g.on_timer(at(2999))).empty());
    CHECK(show(r.g.on_timer(at(3000))) == strings{"open 2"});
    CHECK_FALSE(r.g.resume_url());  // a fresh session: gateway/bot, then Identify
    std::string why;
    CHECK(r.g.on_gateway_bot(2, bot(), at(3000), why));
    r.g.on_connected(2, at(3100));
    // The identify window (5 s since the last Identify at t0) has room again.
    CHECK(show(r.g.on_payload(2, hello(), at(5200))) == strings{"identify 2", "wake +25200"});
    CHECK(r.g.identifies() == 2);
  }
}

TEST_CASE("close codes Discord says never to retry disable the platform", "[discord][gateway]") {
  const std::pair<std::uint16_t, const char*> fatal[] = {
      {4004, "authentication failed"}, {4010, "invalid shard"}, {4011, "sharding required"},
      {4012, "invalid API version"},   {4013, "invalid intents"}, {4014, "disallowed intents"}};
  for (auto [code, meaning] : fatal) {
    rig r;
    bring_up(r);
    CAPTURE(code);
    auto out = show(r.g.on_closed(1, code, "server closed", at(500)), &r.details);
    CHECK(out == strings{"health disabled: close code " + std::to_string(code) + ": " + meaning});
    CHECK(r.g.live_links() == 0);
    CHECK(show(r.g.on_timer(at(100'000))).empty());
    CHECK(show(r.g.start(at(100'000))).empty());
    CHECK(show(r.g.on_open_failed(2, "x", false, at(100'000))).empty());
    for (const auto& d : r.details) CHECK(d.find(token) == std::string::npos);
  }
  // Before READY too: a bad token answers the Identify with 4004.
  rig r;
  r.g.start(t0);
  std::string why;
  connect(r, 1, t0, bot());
  r.g.on_payload(1, hello(), t0);
  CHECK(show(r.g.on_closed(1, 4004, "", at(10))) == strings{"health disabled: close code 4004: authentication failed"});
}

TEST_CASE("4007 and 4009 end the session: the next link identifies afresh", "[discord][gateway]") {
  for (std::uint16_t code : {std::uint16_t{4007}, std::uint16_t{4009}}) {
    rig r;
    bring_up(r);
    CAPTURE(code);
    auto out = show(r.g.on_closed(1, code, "", at(500)));
    REQUIRE(out.size() == 2);
    CHECK(out[0] == "open 2");  // it had been ready: at once
    CHECK(r.g.session_id().empty());
    CHECK_FALSE(r.g.resume_url());
  }
}

TEST_CASE("other closes resume: a link that had been ready reconnects at once, then backs off", "[discord][gateway]") {
  rig r;
  bring_up(r);
  CHECK(show(r.g.on_closed(1, 0, "read: end of stream", at(1000))) ==
        strings{"open 2", "health degraded: read: end of stream"});
  CHECK(r.g.resume_url() == "wss://resume.discord.gg/?v=10&encoding=json");
  // The resume link fails before RESUMED: the first failure waits uniform(0, 1 s).
  r.g.on_connected(2, at(1100));
  r.g.on_payload(2, hello(), at(1200));
  r.rolls = {0.5};
  CHECK(show(r.g.on_closed(2, 4000, "", at(1300))) == strings{"wake +1800"});
  CHECK(r.g.consecutive_failures() == 1);
  CHECK(show(r.g.on_timer(at(1800))) == strings{"open 3"});
  CHECK(r.g.resume_url());  // still resuming: 4000 keeps the session
  CHECK(show(r.g.on_closed(3, 4008, "", at(1900))) == strings{"wake +2900"});  // second failure: up to 2 s
}

TEST_CASE("Gateway failures back off with full jitter, doubling to the cap", "[discord][gateway]") {
  rig r;  // base 1 s, cap 60 s
  r.g.start(t0);
  const std::int64_t expected[] = {500, 1000, 2000, 4000, 8000, 16000, 30000, 30000};
  std::int64_t now = 0;
  link_id id = 1;
  for (auto wait : expected) {
    CAPTURE(wait);
    auto out = show(r.g.on_open_failed(id, "connect: refused", false, at(now)));
    CHECK(std::find(out.begin(), out.end(), "wake +" + std::to_string(now + wait)) != out.end());
    now += wait;
    CHECK(show(r.g.on_timer(at(now))) == strings{"open " + std::to_string(++id)});
  }
  // READY resets the count.
  std::string why;
  connect(r, id, at(now), bot());
  r.g.on_payload(id, hello(), at(now));
  r.g.on_payload(id, ready_event(), at(now));
  CHECK(r.g.consecutive_failures() == 0);
}

TEST_CASE("a fatal open failure (401 from gateway/bot) disables", "[discord][gateway]") {
  rig r;
  r.g.start(t0);
  CHECK(show(r.g.on_open_failed(1, "gateway/bot: 401 Unauthorized", true, at(10))) ==
        strings{"health disabled: gateway/bot: 401 Unauthorized"});
  CHECK(show(r.g.on_timer(at(100'000))).empty());
  CHECK(show(r.g.stop()) == strings{"health stopped"});
}

TEST_CASE("hello and ready timeouts abort the link and retry", "[discord][gateway]") {
  rig r;
  r.g.start(t0);
  std::string why;
  connect(r, 1, t0, bot());
  r.rolls = {0.0};
  CHECK(show(r.g.on_timer(at(20000))) == strings{"close 1 0", "open 2", "health degraded: no Hello within 20000 ms"});
  connect(r, 2, at(20000), bot());
  r.rolls = {0.9};  // first heartbeat late, so the ready timeout comes first
  CHECK(show(r.g.on_payload(2, hello(), at(26000))) == strings{"identify 2", "wake +56000"});
  r.rolls = {0.5};  // second failure: half of 2 s
  CHECK(show(r.g.on_timer(at(56000))) == strings{"close 2 0", "wake +57000"});
  CHECK(r.g.consecutive_failures() == 2);
}

TEST_CASE("the identify budget: none while it is spent, until reset_after", "[discord][gateway]") {
  rig r;
  r.g.start(t0);
  std::string why;
  CHECK_FALSE(r.g.on_gateway_bot(1, bot(0, 1, 60'000), t0, why));
  CHECK(why == "identify budget spent (0 of 1000 left); it resets in 60 s");
  r.rolls = {0.0};
  CHECK(show(r.g.on_open_failed(1, why, false, at(5))) ==
        strings{"health degraded: identify budget spent (0 of 1000 left); it resets in 60 s", "wake +60000"});
  CHECK(show(r.g.on_timer(at(59999))).empty());
  CHECK(show(r.g.on_timer(at(60000))) == strings{"open 2"});
  CHECK(r.g.on_gateway_bot(2, bot(5, 1), at(60000), why));
}

TEST_CASE("identifies are counted against the budget locally", "[discord][gateway]") {
  rig r;
  bring_up(r);  // gateway/bot said 1000 left, one Identify since
  r.g.on_payload(1, make(op::invalid_session, "false"), at(10));
  r.g.on_timer(at(10'000));
  std::string why;
  CHECK(r.g.on_gateway_bot(2, bot(1, 1, 3'600'000), at(10'000), why));  // one left
  r.g.on_connected(2, at(10'000));
  CHECK(show(r.g.on_payload(2, hello(), at(10'000))) == strings{"identify 2"});
  // That was the last one: the next fresh link waits for the reset, not
  // just the 1-5 s of an invalid session.
  CHECK(show(r.g.on_payload(2, make(op::invalid_session, "false"), at(10'100))) ==
        strings{"close 2 1000", "wake +3610000"});
  CHECK(show(r.g.on_timer(at(20'000))).empty());
  CHECK(show(r.g.on_timer(at(3'610'000))) == strings{"open 3"});
  CHECK(r.g.on_gateway_bot(3, bot(1000, 1, 86'000'000), at(3'610'000), why));  // a new budget

  SECTION("an answer that has not counted our Identify yet buys nothing") {
    rig r2;
    bring_up(r2);
    r2.g.on_payload(1, make(op::invalid_session, "false"), at(10));
    r2.g.on_timer(at(10'000));
    CHECK(r2.g.on_gateway_bot(2, bot(2, 1, 3'600'000), at(10'000), why));  // two left
    r2.g.on_connected(2, at(10'000));
    r2.g.on_payload(2, hello(), at(10'000));                                // one left
    r2.g.on_payload(2, make(op::invalid_session, "false"), at(10'100));
    r2.g.on_timer(at(20'000));
    CHECK(r2.g.on_gateway_bot(3, bot(2, 1, 3'600'000), at(20'000), why));   // stale: still "two"
    r2.g.on_connected(3, at(20'000));
    r2.g.on_payload(3, hello(), at(20'000));                                // our count: none left
    r2.g.on_payload(3, make(op::invalid_session, "false"), at(20'100));
    CHECK(show(r2.g.on_timer(at(30'000))).empty());                         // waits for the reset
    CHECK(r2.g.identifies() == 3);
  }
}

TEST_CASE("at most max_concurrency identifies per identify window", "[discord][gateway]") {
  rig r;
  bring_up(r);  // Identify at t0
  r.rolls = {0.0};  // invalid session wait: 1 s
  r.g.on_payload(1, make(op::invalid_session, "false"), at(100));
  CHECK(show(r.g.on_timer(at(1100))) == strings{"open 2"});
  std::string why;
  connect(r, 2, at(1100), bot());
  r.rolls = {0.5};
  // The window (5 s from t0) is full: Identify waits for +5000.
  CHECK(show(r.g.on_payload(2, hello(), at(1200))) == strings{"wake +5000"});
  CHECK(show(r.g.on_timer(at(5000))) == strings{"identify 2", "wake +21200"});
  CHECK(r.g.identifies() == 2);

  SECTION("two per window with max_concurrency 2") {
    rig r2;
    r2.g.start(t0);
    connect(r2, 1, t0, bot(1000, 2));
    CHECK(show(r2.g.on_payload(1, hello(), t0))[0] == "identify 1");
    r2.g.on_payload(1, make(op::invalid_session, "false"), at(1));
    r2.g.on_timer(at(3001));
    connect(r2, 2, at(3001), bot(1000, 2));
    CHECK(show(r2.g.on_payload(2, hello(), at(3001)))[0] == "identify 2");
  }
}

TEST_CASE("stop closes with 1000, then nothing happens", "[discord][gateway]") {
  rig r;
  bring_up(r);
  CHECK(show(r.g.stop()) == strings{"close 1 1000", "health stopped"});
  CHECK(show(r.g.stop()).empty());
  CHECK(show(r.g.on_timer(at(100'000))).empty());
  CHECK(show(r.g.on_payload(1, make(op::heartbeat), at(1))).empty());
  CHECK(show(r.g.on_closed(1, 1000, "", at(2))).empty());
  CHECK_FALSE(r.g.ready());
  SECTION("a link still opening is aborted") {
    rig r2;
    r2.g.start(t0);
    CHECK(show(r2.g.stop()) == strings{"close 1 0", "health stopped"});
  }
}

TEST_CASE("the token never shows in a health detail or a why", "[discord][gateway]") {
  rig r;
  strings details;
  show(r.g.start(t0), &details);
  std::string why;
  CHECK_FALSE(r.g.on_gateway_bot(1, bot(0), t0, why));
  CHECK(why.find(token) == std::string::npos);
  show(r.g.on_open_failed(1, why, false, t0), &details);
  for (const auto& d : details) CHECK(d.find(token) == std::string::npos);
}

TEST_CASE("decode_payload reads op, d, s and t, bad frames are named errors", "[discord][gateway]") {
  auto ok = decode_payload(R"({"op":0,"d":{"id":"1"},"s":42,"t":"INTERACTION_CREATE"})");
  REQUIRE(std::holds_alternative<payload>(ok));
  const auto& p = std::get<payload>(ok);
  CHECK(p.op == 0);
  CHECK(p.s == 42);
  CHECK(p.t == "INTERACTION_CREATE");
  CHECK(p.d.at("id").as_string() == "1");
  auto h = std::get<payload>(decode_payload(R"({"op":10,"d":{"heartbeat_interval":41250},"s":null,"t":null})"));
  CHECK(h.op == 10);
  CHECK_FALSE(h.s);
  CHECK(h.t.empty());
  for (const char* bad : {"", "nope", "[1]", R"({"d":1})", R"({"op":"1"})", R"({"op":1.5})", R"({"op":-1})"}) {
    auto r = decode_payload(bad);
    CAPTURE(bad);
    REQUIRE(std::holds_alternative<decode_error>(r));
    CHECK_FALSE(std::get<decode_error>(r).message.empty());
  }
  // At most 40 bytes of the input are quoted.
  auto long_bad = std::get<decode_error>(decode_payload("[" + std::string(500, 'x')));
  CHECK(long_bad.message.size() < 200);
}

TEST_CASE("Identify, Resume and Heartbeat frames have Discord's shape", "[discord][gateway]") {
  CHECK(encode_heartbeat(std::nullopt) == R"({"op":1,"d":null})");
  CHECK(encode_heartbeat(251) == R"({"op":1,"d":251})");
  auto id = json::parse(encode_identify("tok", 0));
  CHECK(id.at("op").as_int64() == 2);
  CHECK(id.at("d").at("token").as_string() == "tok");
  CHECK(id.at("d").at("intents").as_int64() == 0);
  for (const char* k : {"os", "browser", "device"}) CHECK(id.at("d").at("properties").at(k).is_string());
  auto res = json::parse(encode_resume("tok", "abc", 17));
  CHECK(res.at("op").as_int64() == 6);
  CHECK(res.at("d").at("session_id").as_string() == "abc");
  CHECK(res.at("d").at("seq").as_int64() == 17);
}

TEST_CASE("gateway/bot bodies and connect URLs", "[discord][gateway]") {
  auto g = decode_gateway_bot(R"({"url":"wss://gateway.discord.gg","shards":1,
      "session_start_limit":{"total":1000,"remaining":998,"reset_after":14400000,"max_concurrency":1}})");
  REQUIRE(g);
  CHECK(g->url == "wss://gateway.discord.gg");
  CHECK(g->total == 1000);
  CHECK(g->remaining == 998);
  CHECK(g->reset_after == 14'400'000ms);
  CHECK(g->max_concurrency == 1);
  CHECK_FALSE(decode_gateway_bot(R"({"shards":1})"));
  CHECK_FALSE(decode_gateway_bot("not json"));
  auto odd = decode_gateway_bot(R"({"url":"wss://x","session_start_limit":{"max_concurrency":0,"remaining":"9"}})");
  REQUIRE(odd);
  CHECK(odd->max_concurrency == 1);
  CHECK(odd->remaining == 0);

  CHECK(connect_url("wss://gateway.discord.gg") == "wss://gateway.discord.gg/?v=10&encoding=json");
  CHECK(connect_url("wss://gateway.discord.gg/") == "wss://gateway.discord.gg/?v=10&encoding=json");
  CHECK(connect_url("wss://proxy.example/discord/gw") == "wss://proxy.example/discord/gw/?v=10&encoding=json");
  CHECK(connect_url("wss://x.example/?v=9&encoding=etf") == "wss://x.example/?v=10&encoding=json");
  CHECK(close_code_meaning(4004) == "authentication failed");
  CHECK(close_code_meaning(1234).empty());
}
