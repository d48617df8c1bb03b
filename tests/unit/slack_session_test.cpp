// The Socket Mode session state machine, driven like Boost.Redis's
// test_writer_fsm: feed events with a fake clock and a scripted uniform01,
// check the returned actions. No socket, no sleep.
#include <catch2/catch.hpp>

#include <deque>
#include <limits>

#include "bot/protocol/slack/session.hpp"

using namespace signoff;
using namespace signoff::slack;
using namespace std::chrono_literals;
using strings = std::vector<std::string>;

namespace {

const time_point t0 = time_point{} + std::chrono::hours(24 * 365 * 56);

struct rig {
  std::deque<double> rolls;  // scripted uniform01; 0.5 once they run out
  session s;
  explicit rig(session_options o = {})
      : s(o, [this] {
          if (rolls.empty()) return 0.5;
          double r = rolls.front();
          rolls.pop_front();
          return r;
        }) {}
};

// Actions as short strings, times relative to t0: "open 1", "close 1 1000",
// "wake +1500", "health degraded: why".
strings show(const std::vector<action>& actions) {
  strings out;
  for (const auto& a : actions) {
    if (auto* o = std::get_if<open_link>(&a)) out.push_back("open " + std::to_string(o->id));
    if (auto* c = std::get_if<close_link>(&a))
      out.push_back("close " + std::to_string(c->id) + " " + std::to_string(c->code));
    if (auto* w = std::get_if<wake_at>(&a)) out.push_back("wake +" + std::to_string((w->at - t0).count()));
    if (auto* h = std::get_if<report_health>(&a))
      out.push_back("health " + std::string(link::to_string(h->st)) + (h->detail.empty() ? "" : ": " + h->detail));
  }
  return out;
}

time_point at(std::int64_t ms) { return t0 + std::chrono::milliseconds(ms); }

disconnect reason(disconnect_reason r, std::string text) { return {r, std::move(text)}; }

// start, connect and hello on link 1 at t0.
void bring_up(session& s) {
  REQUIRE(show(s.start(t0)) == strings{"health connecting", "open 1"});
  REQUIRE(show(s.on_connected(1, t0)) == strings{"wake +10000"});
  REQUIRE(show(s.on_hello(1, hello{1, "{}", 3600}, t0)) == strings{"health connected"});
  REQUIRE(s.healthy());
}

}  // namespace

TEST_CASE("start opens a link, it is live only after hello", "[slack][session]") {
  rig r;
  CHECK(show(r.s.start(t0)) == strings{"health connecting", "open 1"});
  CHECK_FALSE(r.s.healthy());
  CHECK(show(r.s.on_connected(1, at(150))) == strings{"wake +10150"});
  CHECK_FALSE(r.s.healthy());  // TCP and TLS up is not enough
  CHECK(r.s.live_links() == 0);
  CHECK(show(r.s.on_hello(1, hello{1, "{}", std::nullopt}, at(300))) == strings{"health connected"});
  CHECK(r.s.healthy());
  CHECK(r.s.live_links() == 1);
  CHECK(show(r.s.start(at(400))).empty());  // a second start does nothing
}

TEST_CASE("failures back off with full jitter, doubling to the cap", "[slack][session]") {
  rig r;  // base 1 s, cap 60 s
  r.s.start(t0);
  // With u = 0.5 the k-th failure waits half of min(60 s, 1 s * 2^(k-1)).
  const std::int64_t expected[] = {500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000};
  std::int64_t now = 0;
  link_id id = 1;
  for (auto delay : expected) {
    CHECK(show(r.s.on_open_failed(id, "connect refused", false, at(now))).back() ==
          "wake +" + std::to_string(now + delay));
    now += delay;
    CHECK(show(r.s.on_timer(at(now - 1))).empty());
    CHECK(show(r.s.on_timer(at(now))) == strings{"open " + std::to_string(++id)});
  }
  CHECK(r.s.consecutive_failures() == 9);
}

TEST_CASE("the jitter spans 0 up to the ceiling: u = 0 retries at once, u near 1 just under the ceiling", "[slack][session]") {
  rig r;
  r.rolls = {0.0, 0.99999, 0.99999};
  r.s.start(t0);
  CHECK(show(r.s.on_open_failed(1, "x", false, t0)) == strings{"open 2", "health degraded: x"});
  CHECK(show(r.s.on_open_failed(2, "x", false, t0)) == strings{"wake +1999"});  // ceiling 2 s
  CHECK(show(r.s.on_timer(at(1999))) == strings{"open 3"});
  CHECK(show(r.s.on_open_failed(3, "x", false, at(1999))) == strings{"wake +5998"});  // ceiling 4 s
}

TEST_CASE("the first failure reports degraded with the reason, hello resets the backoff", "[slack][session]") {
  rig r;
  r.s.start(t0);
  CHECK(show(r.s.on_open_failed(1, "apps.connections.open: ratelimited", false, t0)) ==
        strings{"health degraded: apps.connections.open: ratelimited", "wake +500"});
  r.s.on_timer(at(500));
  CHECK(show(r.s.on_open_failed(2, "timeout", false, at(500))) == strings{"wake +1500"});
  r.s.on_timer(at(1500));
  CHECK(r.s.consecutive_failures() == 2);
  r.s.on_connected(3, at(1600));
  CHECK(show(r.s.on_hello(3, hello{}, at(1700))) == strings{"health connected"});
  CHECK(r.s.consecutive_failures() == 0);

  // A live link lost: reconnect at once (it had worked)...
  CHECK(show(r.s.on_closed(3, "read: end of stream", at(5000))) == strings{"open 4", "health degraded: read: end of stream"});
  // ...and if that fails, the backoff starts again from the base.
  CHECK(show(r.s.on_open_failed(4, "timeout", false, at(5000))) == strings{"wake +5500"});
}

TEST_CASE("a link that closes before hello is a failure", "[slack][session]") {
  rig r;
  r.s.start(t0);
  r.s.on_connected(1, at(10));
  CHECK(show(r.s.on_closed(1, "close 1011", at(20))) == strings{"health degraded: close 1011", "wake +520"});
  CHECK(r.s.consecutive_failures() == 1);
}

TEST_CASE("refresh_requested: the old link serves until the new one says hello", "[slack][session]") {
  rig r;
  bring_up(r.s);
  CHECK(show(r.s.on_disconnect(1, reason(disconnect_reason::refresh_requested, "refresh_requested"), at(1000))) ==
        strings{"open 2"});
  CHECK(r.s.healthy());
  CHECK(r.s.live_links() == 1);  // the old link still carries envelopes and acks
  CHECK(show(r.s.on_connected(2, at(1200))) == strings{"wake +11200"});
  CHECK(r.s.live_links() == 1);
  // The old link is closed after the drain grace (5 s): Slack may still deliver on it.
  CHECK(show(r.s.on_hello(2, hello{2, "{}", std::nullopt}, at(1300))) == strings{"wake +6300"});
  CHECK(r.s.live_links() == 2);
  CHECK(r.s.consecutive_failures() == 0);
  CHECK(show(r.s.on_timer(at(6299))).empty());
  CHECK(show(r.s.on_timer(at(6300))) == strings{"close 1 1000"});
  CHECK(r.s.live_links() == 1);
  CHECK(show(r.s.on_closed(1, "closed 1000", at(6400))).empty());  // closed by us: nothing to do
  CHECK(show(r.s.on_timer(at(11200))).empty());                  // link 2 said hello: no timeout
}

TEST_CASE("a draining link that Slack closes during the grace needs nothing more", "[slack][session]") {
  rig r;
  bring_up(r.s);
  r.s.on_disconnect(1, reason(disconnect_reason::warning, "warning"), at(1000));
  r.s.on_connected(2, at(1100));
  r.s.on_hello(2, hello{}, at(1200));
  CHECK(show(r.s.on_closed(1, "closed by peer", at(3000))).empty());
  CHECK(show(r.s.on_timer(at(6200))).empty());
  CHECK(r.s.live_links() == 1);
}

TEST_CASE("warning: when the old link closes first nothing is lost, the new one is already opening", "[slack][session]") {
  rig r;
  bring_up(r.s);
  CHECK(show(r.s.on_disconnect(1, reason(disconnect_reason::warning, "warning"), at(1000))) == strings{"open 2"});
  CHECK(show(r.s.on_disconnect(1, reason(disconnect_reason::warning, "warning"), at(1001))).empty());  // once is enough
  CHECK(show(r.s.on_closed(1, "closed by peer", at(2000))) == strings{"health degraded: closed by peer"});
  CHECK(r.s.consecutive_failures() == 0);
  r.s.on_connected(2, at(2100));
  CHECK(show(r.s.on_hello(2, hello{}, at(2200))) == strings{"health connected"});
}

TEST_CASE("a replacement that fails to open is retried while the old link serves", "[slack][session]") {
  rig r;
  bring_up(r.s);
  r.s.on_disconnect(1, reason(disconnect_reason::refresh_requested, "refresh_requested"), at(1000));
  CHECK(show(r.s.on_open_failed(2, "timeout", false, at(1100))) == strings{"wake +1600"});
  CHECK(r.s.healthy());
  CHECK(show(r.s.on_timer(at(1600))) == strings{"open 3"});
  r.s.on_connected(3, at(1700));
  CHECK(show(r.s.on_hello(3, hello{}, at(1800))) == strings{"wake +6800"});
  CHECK(show(r.s.on_timer(at(6800))) == strings{"close 1 1000"});
}

TEST_CASE("an unknown disconnect reason is handled like warning", "[slack][session]") {
  rig r;
  bring_up(r.s);
  CHECK(show(r.s.on_disconnect(1, reason(disconnect_reason::other, "maintenance"), at(1000))) == strings{"open 2"});
}

TEST_CASE("with room for one link only, the replacement opens when the old one closes", "[slack][session]") {
  session_options o;
  o.max_links = 1;
  rig r(o);
  bring_up(r.s);
  CHECK(show(r.s.on_disconnect(1, reason(disconnect_reason::warning, "warning"), at(1000))).empty());
  CHECK(show(r.s.on_closed(1, "closed by peer", at(9000))) == strings{"open 2", "health degraded: closed by peer"});
}

TEST_CASE("disconnect before hello is a failure, not a refresh", "[slack][session]") {
  rig r;
  r.s.start(t0);
  r.s.on_connected(1, at(10));
  CHECK(show(r.s.on_disconnect(1, reason(disconnect_reason::warning, "warning"), at(20))) ==
        strings{"close 1 1000", "health degraded: disconnect: warning", "wake +520"});
}

TEST_CASE("too_many_websockets: close that link and wait at least too_many_backoff", "[slack][session]") {
  rig r;  // too_many_backoff 30 s; the jittered delay (500 ms) is below it
  bring_up(r.s);
  CHECK(show(r.s.on_disconnect(1, reason(disconnect_reason::too_many_websockets, "too_many_websockets"), at(1000))) ==
        strings{"close 1 1000", "health degraded: disconnect: too_many_websockets", "wake +31000"});
  CHECK(show(r.s.on_timer(at(30999))).empty());
  CHECK(show(r.s.on_closed(1, "closed", at(31000))).empty());  // closed by us
  CHECK(show(r.s.on_timer(at(31000))) == strings{"open 2"});

  // A jittered delay above the floor wins.
  session_options o;
  o.too_many_backoff = 100ms;
  rig q(o);
  bring_up(q.s);
  CHECK(show(q.s.on_disconnect(1, reason(disconnect_reason::too_many_websockets, "too_many_websockets"), at(1000))).back() ==
        "wake +1500");
}

TEST_CASE("too_many_websockets on the replacement: the old link serves, the retry waits for the floor", "[slack][session]") {
  rig r;
  bring_up(r.s);
  r.s.on_disconnect(1, reason(disconnect_reason::refresh_requested, "refresh_requested"), at(1000));
  r.s.on_connected(2, at(1100));
  CHECK(show(r.s.on_disconnect(2, reason(disconnect_reason::too_many_websockets, "too_many_websockets"), at(1200))) ==
        strings{"close 2 1000", "wake +31200"});
  CHECK(r.s.healthy());
  // The old link going away does not bring the retry forward.
  CHECK(show(r.s.on_closed(1, "closed by peer", at(5000))) == strings{"health degraded: closed by peer"});
  CHECK(show(r.s.on_timer(at(31199))).empty());
  CHECK(show(r.s.on_timer(at(31200))) == strings{"open 3"});
}

TEST_CASE("link_disabled closes everything and stops for good", "[slack][session]") {
  rig r;
  bring_up(r.s);
  r.s.on_disconnect(1, reason(disconnect_reason::refresh_requested, "refresh_requested"), at(1000));  // opens 2
  CHECK(show(r.s.on_disconnect(1, reason(disconnect_reason::link_disabled, "link_disabled"), at(1100))) ==
        strings{"close 1 1000", "close 2 0", "health disabled: link_disabled: Socket Mode is off for this app"});
  CHECK_FALSE(r.s.healthy());
  CHECK(show(r.s.on_timer(at(100000))).empty());
  CHECK(show(r.s.on_closed(1, "closed", at(100000))).empty());
  CHECK(show(r.s.on_open_failed(2, "aborted", false, at(100000))).empty());
  CHECK(show(r.s.start(at(100000))).empty());
}

TEST_CASE("a fatal auth error stops for good with the error in the report", "[slack][session]") {
  rig r;
  r.s.start(t0);
  CHECK(show(r.s.on_open_failed(1, "apps.connections.open: invalid_auth", true, at(200))) ==
        strings{"health disabled: apps.connections.open: invalid_auth"});
  CHECK_FALSE(r.s.healthy());
  CHECK(show(r.s.on_timer(at(1000000))).empty());

  // Also when a link is live: the replacement's token was revoked.
  rig q;
  bring_up(q.s);
  q.s.on_disconnect(1, reason(disconnect_reason::warning, "warning"), at(1000));
  CHECK(show(q.s.on_open_failed(2, "token_revoked", true, at(1100))) == strings{"close 1 1000", "health disabled: token_revoked"});
}

TEST_CASE("no hello within hello_timeout: abort the link and retry", "[slack][session]") {
  rig r;
  r.s.start(t0);
  CHECK(show(r.s.on_connected(1, at(100))) == strings{"wake +10100"});
  CHECK(show(r.s.on_timer(at(10099))).empty());
  CHECK(show(r.s.on_timer(at(10100))) ==
        strings{"close 1 0", "health degraded: no hello within 10000 ms", "wake +10600"});
  CHECK(r.s.consecutive_failures() == 1);
  CHECK(show(r.s.on_closed(1, "aborted", at(10101))).empty());   // already gone
  CHECK(show(r.s.on_hello(1, hello{}, at(10102))).empty());     // too late
  CHECK(show(r.s.on_timer(at(10600))) == strings{"open 2"});
}

TEST_CASE("wake_at always names the earliest deadline", "[slack][session]") {
  rig r;
  bring_up(r.s);
  r.s.on_disconnect(1, reason(disconnect_reason::warning, "warning"), at(1000));           // opens 2
  CHECK(show(r.s.on_connected(2, at(2000))) == strings{"wake +12000"});
  CHECK(show(r.s.on_hello(2, hello{}, at(3000))) == strings{"wake +8000"});  // the drain grace
  CHECK(show(r.s.on_timer(at(8000))) == strings{"close 1 1000"});
  // The 12000 timer fires for nothing; later deadlines are announced again.
  CHECK(show(r.s.on_timer(at(12000))).empty());
  CHECK(show(r.s.on_closed(2, "gone", at(20000))) == strings{"open 3", "health degraded: gone"});
  CHECK(show(r.s.on_connected(3, at(20100))) == strings{"wake +30100"});
}

TEST_CASE("stop closes every link with 1000 (opening ones are aborted) and ends the session", "[slack][session]") {
  rig r;
  bring_up(r.s);
  r.s.on_disconnect(1, reason(disconnect_reason::refresh_requested, "refresh_requested"), at(1000));
  CHECK(show(r.s.stop()) == strings{"close 1 1000", "close 2 0", "health stopped"});
  CHECK_FALSE(r.s.healthy());
  CHECK(show(r.s.stop()).empty());
  CHECK(show(r.s.on_hello(2, hello{}, at(1100))).empty());
  CHECK(show(r.s.on_timer(at(100000))).empty());

  // stop() while a retry is pending: nothing opens later.
  rig q;
  q.s.start(t0);
  q.s.on_open_failed(1, "x", false, t0);
  CHECK(show(q.s.stop()) == strings{"health stopped"});
  CHECK(show(q.s.on_timer(at(100000))).empty());
}

TEST_CASE("events for unknown links are ignored", "[slack][session]") {
  rig r;
  bring_up(r.s);
  CHECK(show(r.s.on_connected(9, t0)).empty());
  CHECK(show(r.s.on_hello(9, hello{}, t0)).empty());
  CHECK(show(r.s.on_disconnect(9, reason(disconnect_reason::link_disabled, "link_disabled"), t0)).empty());
  CHECK(show(r.s.on_closed(9, "x", t0)).empty());
  CHECK(show(r.s.on_open_failed(9, "x", true, t0)).empty());
  CHECK(r.s.healthy());
}

TEST_CASE("a broken random source cannot produce negative or huge delays", "[slack][session]") {
  rig r;
  r.rolls = {std::numeric_limits<double>::quiet_NaN(), -3.0, 7.0};
  r.s.start(t0);
  CHECK(show(r.s.on_open_failed(1, "x", false, t0)) == strings{"open 2", "health degraded: x"});  // NaN -> 0
  CHECK(show(r.s.on_open_failed(2, "x", false, t0)) == strings{"open 3"});                        // -3 -> 0
  CHECK(show(r.s.on_open_failed(3, "x", false, t0)) == strings{"wake +4000"});                    // 7 -> ceiling
}
