// The Mattermost websocket session machine and its frames, driven like the
// Discord Gateway: feed events with a fake clock and a scripted uniform01,
// check the returned actions. No socket, no sleep.
#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <deque>

#include "bot/protocol/mattermost/session.hpp"

using namespace signoff;
using namespace signoff::mattermost;
using namespace std::chrono_literals;
using strings = std::vector<std::string>;
namespace json = boost::json;

namespace {

const time_point t0 = time_point{} + std::chrono::hours(24 * 365 * 56);
const std::string token = "mm-SECRET-token-value";

time_point at(std::int64_t ms) { return t0 + std::chrono::milliseconds(ms); }

struct rig {
  std::deque<double> rolls;  // scripted uniform01; 0.5 once they run out
  session s;
  explicit rig(session_options o = {})
      : s(o, token, [this] {
          if (rolls.empty()) return 0.5;
          double r = rolls.front();
          rolls.pop_front();
          return r;
        }) {}
};

// Actions as short strings, times relative to t0: "open 1", "close 1 1000",
// "wake +1500", "health degraded: why", "auth 1 seq=1", "ping 1 seq=2".
// No health detail may hold the token.
strings show(const std::vector<action>& actions) {
  strings out;
  for (const auto& a : actions) {
    if (auto* o = std::get_if<open_link>(&a)) out.push_back("open " + std::to_string(o->id));
    if (auto* c = std::get_if<close_link>(&a))
      out.push_back("close " + std::to_string(c->id) + " " + std::to_string(c->code));
    if (auto* w = std::get_if<wake_at>(&a)) out.push_back("wake +" + std::to_string((w->at - t0).count()));
    if (auto* h = std::get_if<report_health>(&a)) {
      CHECK(h->detail.find(token) == std::string::npos);
      out.push_back("health " + std::string(link::to_string(h->st)) + (h->detail.empty() ? "" : ": " + h->detail));
    }
    if (auto* f = std::get_if<send_frame>(&a)) {
      auto v = json::parse(f->text);
      const auto act = std::string(v.at("action").as_string());
      const auto seq = std::to_string(v.at("seq").as_int64());
      if (act == "authentication_challenge") {
        CHECK(v.at("data").at("token").as_string() == token);
        out.push_back("auth " + std::to_string(f->id) + " seq=" + seq);
      } else {
        out.push_back(act + " " + std::to_string(f->id) + " seq=" + seq);
      }
    }
  }
  return out;
}

frame ev(const char* text) {
  auto r = decode_frame(text);
  REQUIRE(std::holds_alternative<event>(r));
  return std::get<event>(r);
}
frame hello(const std::string& id) {
  return ev(("{\"event\":\"hello\",\"data\":{\"connection_id\":\"" + id +
             "\",\"server_version\":\"9.11.0\"},\"broadcast\":{},\"seq\":0}")
                .c_str());
}
frame posted(std::int64_t seq) {
  return ev(("{\"event\":\"posted\",\"data\":{\"post\":\"{}\"},\"broadcast\":{},\"seq\":" + std::to_string(seq) + "}")
                .c_str());
}
frame ok(std::int64_t seq) { return reply{"OK", seq, ""}; }

// start + connect + hello on link 1 at t0: a connected session.
void up(rig& r, const std::string& id = "conn1") {
  r.s.start(t0);
  r.s.on_connected(1, t0);
  r.s.on_frame(1, hello(id), t0);
  REQUIRE(r.s.connected());
}

}  // namespace

TEST_CASE("frames decode to events and replies, bad input is a short error", "[mattermost][session]") {
  auto e = decode_frame(R"({"event":"posted","data":{"team_id":"t"},"broadcast":{"channel_id":"c"},"seq":7})");
  REQUIRE(std::holds_alternative<event>(e));
  CHECK(std::get<event>(e).name == "posted");
  CHECK(std::get<event>(e).seq == 7);
  CHECK(std::get<event>(e).data.at("team_id").as_string() == "t");
  CHECK(std::get<event>(e).broadcast.at("channel_id").as_string() == "c");

  auto r = decode_frame(R"({"status":"FAIL","seq_reply":1,"error":{"id":"api.web_socket_router.not_authenticated.app_error","message":"x"}})");
  REQUIRE(std::holds_alternative<reply>(r));
  CHECK(std::get<reply>(r).status == "FAIL");
  CHECK(std::get<reply>(r).seq_reply == 1);
  CHECK(std::get<reply>(r).error == "api.web_socket_router.not_authenticated.app_error");
  auto m = decode_frame(R"({"status":"FAIL","seq_reply":3,"error":{"message":"only a message"}})");
  CHECK(std::get<reply>(m).error == "only a message");

  auto no_seq = decode_frame(R"({"event":"typing","data":[]})");
  CHECK(std::get<event>(no_seq).seq == -1);
  CHECK(std::get<event>(no_seq).data.empty());

  for (const char* bad : {"", "not json", "[1,2]", "{}", R"({"event":5})", R"({"seq_reply":"1"})",
                          R"({"status":"OK","seq_reply":-2})"}) {
    auto d = decode_frame(bad);
    REQUIRE(std::holds_alternative<decode_error>(d));
    CHECK(!std::get<decode_error>(d).message.empty());
  }
  auto big = decode_frame(std::string(5000, 'x'));
  CHECK(std::get<decode_error>(big).message.size() < 120);  // quotes at most 40 bytes
}

TEST_CASE("encoded requests are the shapes the server routes", "[mattermost][session]") {
  auto a = json::parse(encode_authentication_challenge(1, "tok"));
  CHECK(a == json::parse(R"({"seq":1,"action":"authentication_challenge","data":{"token":"tok"}})"));
  CHECK(json::parse(encode_ping(5)) == json::parse(R"({"seq":5,"action":"ping"})"));
}

TEST_CASE("a fresh start: connecting, challenge then ping, hello connects, sets the resume target",
          "[mattermost][session]") {
  rig r;
  CHECK(r.s.target() == "/api/v4/websocket");
  CHECK(show(r.s.start(t0)) == strings{"health connecting", "open 1"});
  CHECK(r.s.live_links() == 1);
  CHECK(!r.s.connected());
  CHECK(show(r.s.on_connected(1, t0)) == strings{"auth 1 seq=1", "ping 1 seq=2", "wake +30000"});
  auto fx = r.s.on_frame(1, hello("abc123"), at(10));
  CHECK(show(fx.actions) == strings{"health connected"});
  CHECK(fx.catch_up);
  CHECK(fx.first_hello);
  CHECK(!fx.deliver);
  CHECK(r.s.connected());
  CHECK(r.s.connection_id() == "abc123");
  CHECK(r.s.expected_seq() == 1);
  CHECK(r.s.fresh_hellos() == 1);
  CHECK(r.s.target() == "/api/v4/websocket?connection_id=abc123&sequence_number=1");

  auto p1 = r.s.on_frame(1, posted(1), at(20));
  CHECK(p1.deliver);
  CHECK(!p1.catch_up);
  CHECK(r.s.expected_seq() == 2);
  CHECK(r.s.target() == "/api/v4/websocket?connection_id=abc123&sequence_number=2");
}

TEST_CASE("resume with replay (no hello), the pong and in-order events connect, no catch-up",
          "[mattermost][session]") {
  rig r;
  up(r, "keep");
  r.s.on_frame(1, posted(1), at(1));
  r.s.on_frame(1, posted(2), at(2));
  // A connected link lost: a new link at once, resuming where we were.
  CHECK(show(r.s.on_closed(1, "eof", 1006, at(100))) == strings{"open 2", "health degraded: close code 1006 (eof)"});
  CHECK(r.s.target() == "/api/v4/websocket?connection_id=keep&sequence_number=3");
  CHECK(show(r.s.on_connected(2, at(200))) == strings{"auth 2 seq=1", "ping 2 seq=2", "wake +30200"});
  auto replay = r.s.on_frame(2, posted(3), at(210));  // the server replays what we missed
  CHECK(replay.deliver);
  CHECK(!replay.catch_up);
  CHECK(show(replay.actions) == strings{"health connected"});
  CHECK(r.s.resumes() == 1);
  CHECK(r.s.fresh_hellos() == 1);
  auto pong = r.s.on_frame(2, ok(2), at(220));
  CHECK(show(pong.actions).empty());
  CHECK(r.s.expected_seq() == 4);
}

TEST_CASE("a resumed link that only answers the ping is connected by the pong", "[mattermost][session]") {
  rig r;
  up(r, "keep");
  r.s.on_closed(1, "eof", 1006, at(100));
  r.s.on_connected(2, at(200));
  auto pong = r.s.on_frame(2, ok(2), at(210));
  CHECK(show(pong.actions) == strings{"health connected"});
  CHECK(r.s.connected());
  CHECK(r.s.resumes() == 1);
}

TEST_CASE("resume with loss (a hello with a new connection_id asks for catch-up)", "[mattermost][session]") {
  rig r;
  up(r, "old");
  r.s.on_frame(1, posted(1), at(1));
  r.s.on_closed(1, "server restart", 1001, at(100));
  CHECK(r.s.target() == "/api/v4/websocket?connection_id=old&sequence_number=2");
  r.s.on_connected(2, at(200));
  auto fx = r.s.on_frame(2, hello("new"), at(210));
  CHECK(fx.catch_up);
  CHECK(!fx.first_hello);
  CHECK(!fx.deliver);
  CHECK(r.s.connection_id() == "new");
  CHECK(r.s.expected_seq() == 1);
  CHECK(r.s.fresh_hellos() == 2);
  CHECK(r.s.resumes() == 0);
  // The next event counts from the new connection's 1.
  CHECK(r.s.on_frame(2, posted(1), at(220)).deliver);
}

TEST_CASE("a seq gap is not delivered, close 1000, resume at once from the expected seq", "[mattermost][session]") {
  rig r;
  up(r, "c");
  REQUIRE(r.s.on_frame(1, posted(1), at(1)).deliver);
  auto gap = r.s.on_frame(1, posted(3), at(2));
  CHECK(!gap.deliver);
  CHECK(show(gap.actions) ==
        strings{"close 1 1000", "open 2", "health degraded: event seq 3 where 2 was expected; resuming"});
  CHECK(r.s.target() == "/api/v4/websocket?connection_id=c&sequence_number=2");
  // A replayed duplicate is a gap too.
  r.s.on_connected(2, at(3));
  REQUIRE(r.s.on_frame(2, posted(2), at(4)).deliver);
  auto dup = r.s.on_frame(2, posted(2), at(5));
  CHECK(!dup.deliver);
  CHECK(show(dup.actions).front() == "close 2 1000");
  CHECK(r.s.expected_seq() == 3);
}

TEST_CASE("a gap on a link that never connected backs off instead of spinning", "[mattermost][session]") {
  rig r;
  up(r, "c");
  r.s.on_closed(1, "eof", 1006, at(100));  // open 2 at once
  r.s.on_connected(2, at(100));
  r.rolls = {0.5};
  auto gap = r.s.on_frame(2, posted(9), at(110));
  CHECK(show(gap.actions) ==
        strings{"close 2 1000", "wake +610"});  // failure 1: uniform(0, 1000) * 0.5 = 500 ms
  CHECK(r.s.consecutive_failures() == 1);
  CHECK(show(r.s.on_timer(at(610))) == strings{"open 3"});
}

TEST_CASE("pings every interval, any frame is life, a silent link is a zombie and resumes",
          "[mattermost][session]") {
  session_options o;
  o.ping_interval = 10'000ms;
  o.reply_timeout = 5'000ms;
  rig r(o);
  r.s.start(t0);
  CHECK(show(r.s.on_connected(1, t0)) == strings{"auth 1 seq=1", "ping 1 seq=2", "wake +5000"});
  CHECK(show(r.s.on_frame(1, hello("z"), at(100)).actions) == strings{"health connected", "wake +10000"});
  CHECK(show(r.s.on_timer(at(10'000))) == strings{"ping 1 seq=3", "wake +15000"});
  // An event, not the pong, arrives: still life.
  CHECK(show(r.s.on_frame(1, posted(1), at(12'000)).actions) == strings{"wake +20000"});
  CHECK(show(r.s.on_timer(at(20'000))) == strings{"ping 1 seq=4", "wake +25000"});
  CHECK(show(r.s.on_frame(1, ok(4), at(20'050)).actions) == strings{"wake +30000"});
  CHECK(show(r.s.on_timer(at(30'000))) == strings{"ping 1 seq=5", "wake +35000"});
  // Nothing for reply_timeout: abort (code 0) and resume at once (it had connected).
  CHECK(show(r.s.on_timer(at(35'000))) ==
        strings{"close 1 0", "open 2", "health degraded: no frame within 5000 ms: the link is a zombie"});
  CHECK(r.s.target() == "/api/v4/websocket?connection_id=z&sequence_number=2");
  // Frames from the zombie are ignored.
  CHECK(show(r.s.on_frame(1, posted(2), at(35'001)).actions).empty());
  CHECK(!r.s.on_frame(1, posted(2), at(35'001)).deliver);
}

TEST_CASE("no first frame after connect within reply_timeout: a failure with backoff", "[mattermost][session]") {
  session_options o;
  o.reply_timeout = 5'000ms;
  rig r(o);
  r.s.start(t0);
  r.s.on_connected(1, t0);
  r.rolls = {1.0};
  CHECK(show(r.s.on_timer(at(5'000))) ==
        strings{"close 1 0", "health degraded: no frame within 5000 ms: the link is a zombie", "wake +6000"});
  CHECK(r.s.live_links() == 0);
  CHECK(show(r.s.on_timer(at(6'000))) == strings{"open 2"});
}

TEST_CASE("failures back off with full jitter, doubling to the cap, connecting resets", "[mattermost][session]") {
  session_options o;
  o.backoff_base = 1'000ms;
  o.backoff_cap = 4'000ms;
  rig r(o);
  r.s.start(t0);
  r.rolls = {0.999, 0.999, 0.999, 0.999};
  CHECK(show(r.s.on_open_failed(1, "connection refused", false, t0)) ==
        strings{"health degraded: connection refused", "wake +999"});
  r.s.on_timer(at(999));
  CHECK(show(r.s.on_open_failed(2, "connection refused", false, at(999))) == strings{"wake +2997"});  // +1998
  r.s.on_timer(at(2997));
  CHECK(show(r.s.on_closed(3, "handshake", 0, at(2997))) == strings{"wake +6993"});  // +3996
  r.s.on_timer(at(6993));
  CHECK(show(r.s.on_open_failed(4, "x", false, at(6993))) == strings{"wake +10989"});  // capped: +3996
  CHECK(r.s.consecutive_failures() == 4);
  r.s.on_timer(at(10989));
  r.s.on_connected(5, at(10989));
  r.s.on_frame(5, hello("h"), at(11000));
  CHECK(r.s.consecutive_failures() == 0);
  // Lost once connected: at once.
  CHECK(show(r.s.on_closed(5, "", 0, at(12000))).front() == "open 6");
}

TEST_CASE("a refused challenge closes and retries with backoff, naming the server's error", "[mattermost][session]") {
  rig r;
  r.s.start(t0);
  r.s.on_connected(1, t0);
  r.rolls = {0.5};
  auto fx = r.s.on_frame(1, reply{"FAIL", 1, "api.web_socket_router.bad_token"}, at(10));
  CHECK(show(fx.actions) ==
        strings{"close 1 1000", "health degraded: authentication_challenge refused: api.web_socket_router.bad_token",
                "wake +510"});
  CHECK(!r.s.connected());
  // A FAIL reply to something else is life, not a refusal.
  r.s.on_timer(at(510));
  r.s.on_connected(2, at(510));
  CHECK(show(r.s.on_frame(2, reply{"FAIL", 2, "x"}, at(520)).actions).empty());
  CHECK(r.s.live_links() == 1);

  // Even after a hello (the header authenticated the upgrade), a refused
  // challenge is a token problem: back off, never a reconnect at once.
  rig h;
  up(h);
  h.rolls = {0.5};
  CHECK(show(h.s.on_frame(1, reply{"FAIL", 1, ""}, at(10)).actions) ==
        strings{"close 1 1000", "health degraded: authentication_challenge refused", "wake +510"});
}

TEST_CASE("fatal open failure: disabled, nothing retried or after", "[mattermost][session]") {
  rig r;
  r.s.start(t0);
  CHECK(show(r.s.on_open_failed(1, "GET users/me: 401 invalid or expired session", true, t0)) ==
        strings{"health disabled: GET users/me: 401 invalid or expired session"});
  CHECK(r.s.live_links() == 0);
  CHECK(show(r.s.on_timer(at(100'000))).empty());
  CHECK(show(r.s.start(at(100'001))).empty());
  CHECK(!r.s.connected());
}

TEST_CASE("stop closes with 1000 and ends the machine", "[mattermost][session]") {
  rig r;
  up(r);
  CHECK(show(r.s.stop()) == strings{"close 1 1000", "health stopped"});
  CHECK(!r.s.connected());
  CHECK(r.s.live_links() == 0);
  CHECK(show(r.s.on_frame(1, posted(1), at(1)).actions).empty());
  CHECK(show(r.s.on_closed(1, "", 1000, at(2))).empty());
  CHECK(show(r.s.on_timer(at(999'999))).empty());
  CHECK(show(r.s.stop()).empty());

  rig opening;
  opening.s.start(t0);
  CHECK(show(opening.s.stop()) == strings{"close 1 0", "health stopped"});  // not up yet: abort
}

TEST_CASE("events for links that are not current are ignored", "[mattermost][session]") {
  rig r;
  up(r, "c");
  r.s.on_closed(1, "eof", 1006, at(1));  // link 2 opens
  CHECK(show(r.s.on_connected(1, at(2))).empty());
  CHECK(show(r.s.on_frame(1, posted(1), at(3)).actions).empty());
  CHECK(show(r.s.on_closed(1, "again", 1006, at(4))).empty());
  CHECK(show(r.s.on_open_failed(7, "x", true, at(5))).empty());
  CHECK(r.s.live_links() == 1);
  // Frames before on_connected are ignored too.
  CHECK(!r.s.on_frame(2, posted(1), at(6)).deliver);
  CHECK(r.s.expected_seq() == 1);
  // Link 2 up: a late frame of link 1 neither delivers nor moves the seq,
  // and a late hello from it does not replace the connection.
  r.s.on_connected(2, at(7));
  auto late = r.s.on_frame(1, posted(1), at(8));
  CHECK(!late.deliver);
  CHECK(show(late.actions).empty());
  CHECK(!r.s.on_frame(1, hello("other"), at(9)).catch_up);
  CHECK(r.s.connection_id() == "c");
  CHECK(r.s.expected_seq() == 1);
  CHECK(r.s.on_frame(2, posted(1), at(10)).deliver);
}

TEST_CASE("the resume target escapes an odd connection_id", "[mattermost][session]") {
  rig r;
  up(r, "a b&c=d");
  CHECK(r.s.target() == "/api/v4/websocket?connection_id=a%20b%26c%3Dd&sequence_number=1");
}
