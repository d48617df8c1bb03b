// runtime::link_driver over real loopback websockets (support/ws_peer, on its
// own thread) with a scripted link_protocol: the driver opens links through
// open_transport and tells the machine, carries frames both ways in order,
// holds frames back by the send budget, closes (1000 after the queued frames)
// or aborts, reports the peer's close, the failed open, a close while the
// open is pending, wake_at, report_health, and a clean stop whose drain ends
// in an abort. Timing checks are lower bounds the driver enforces; there is
// no upper bound on any delay.
// Never co_await inside a Catch macro (see support/run_io.hpp).
#include <catch2/catch.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/logger.h>

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bot/core/time.hpp"
#include "bot/net/net.hpp"
#include "bot/runtime/link_driver.hpp"
#include "support/run_io.hpp"
#include "support/ws_peer.hpp"

using namespace signoff;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::eventually;
using steady = std::chrono::steady_clock;

namespace {

constexpr auto tok = asio::as_tuple(asio::use_awaitable);

// Plain ws on loopback needs no CA, but ws_client::connect takes a context.
const net::tls_context& no_extra_ca() {
  static const net::tls_context c("");
  return c;
}

// The handshake timeout also bounds ws_client::close; it is long so that a
// link ended within a second was aborted, not timed out.
net::timeouts link_timeouts() {
  net::timeouts t;
  t.connect = 2000ms;
  t.handshake = 5000ms;
  t.ws_idle = 10'000ms;
  return t;
}

// What the driver told the machine.
struct seen_event {
  std::string kind;  // connected, open_failed, frame, closed, timer, stop
  link::link_id id = 0;
  std::string text;  // the frame, or the reason
  bool fatal = false;
  time_point at{};
};

// A scripted session machine: records every event and answers each kind of
// event with the next scripted action list (none when the script is empty).
// open_transport connects to the peer at /link/<id>, unless told to fail or
// to hold the open until released.
struct fake_protocol final : runtime::link_protocol {
  asio::any_io_executor ex;
  test::ws_peer& peer;
  std::vector<seen_event> events;
  std::vector<link::link_id> opens;  // open_transport calls
  std::map<std::string, std::deque<std::vector<link::action>>> script;
  std::optional<std::pair<std::string, bool>> fail_open;  // why, fatal
  bool hold_open = false;                                 // open_transport waits while set

  fake_protocol(asio::any_io_executor e, test::ws_peer& p) : ex(e), peer(p) {}

  asio::awaitable<runtime::link_opened> open_transport(link::link_id id) override {
    opens.push_back(id);
    asio::steady_timer poll(ex);
    while (hold_open) {
      poll.expires_after(2ms);
      co_await poll.async_wait(tok);
    }
    runtime::link_opened out;
    if (fail_open) {
      out.why = fail_open->first;
      out.fatal = fail_open->second;
      co_return out;
    }
    // Named, not temporaries in the co_await (GCC 12 coroutine bug).
    const net::url u = *net::parse_url(peer.url("/link/" + std::to_string(id)));
    const net::timeouts t = link_timeouts();
    auto [ec, ws] = co_await net::ws_client::connect(ex, no_extra_ca(), u, t);
    if (ec) out.why = "connect: " + ec.message();
    else out.ws = std::move(ws);
    co_return out;
  }

  std::vector<link::action> answer(seen_event e) {
    auto& q = script[e.kind];
    events.push_back(std::move(e));
    if (q.empty()) return {};
    auto acts = std::move(q.front());
    q.pop_front();
    return acts;
  }
  std::vector<link::action> on_connected(link::link_id id, time_point now) override {
    return answer({"connected", id, "", false, now});
  }
  std::vector<link::action> on_open_failed(link::link_id id, const std::string& why, bool fatal,
                                           time_point now) override {
    return answer({"open_failed", id, why, fatal, now});
  }
  std::vector<link::action> on_frame(link::link_id id, const std::string& text, time_point now) override {
    return answer({"frame", id, text, false, now});
  }
  std::vector<link::action> on_closed(link::link_id id, const std::string& why, std::uint16_t code,
                                      time_point now) override {
    last_close_code = code;
    return answer({"closed", id, why, false, now});
  }
  std::vector<link::action> on_timer(time_point now) override { return answer({"timer", 0, "", false, now}); }
  std::vector<link::action> on_stop() override { return answer({"stop", 0, "", false, clock_now()}); }

  std::uint16_t last_close_code = 0xFFFF;  // the last on_closed close code

  std::size_t count(const std::string& kind) const {
    std::size_t n = 0;
    for (const auto& e : events) n += e.kind == kind;
    return n;
  }
  std::vector<seen_event> of(const std::string& kind) const {
    std::vector<seen_event> out;
    for (const auto& e : events)
      if (e.kind == kind) out.push_back(e);
    return out;
  }
  std::vector<std::string> frames(link::link_id id) const {
    std::vector<std::string> out;
    for (const auto& e : events)
      if (e.kind == "frame" && e.id == id) out.push_back(e.text);
    return out;
  }
};

// Driver options with a per-link send budget of `count` frames per `window`.
runtime::link_options with_budget(int count, std::chrono::milliseconds window) {
  runtime::link_options o;
  o.budget = link::send_budget(count, window);
  return o;
}

// One test's world: the driver's io_context (run on the test thread by
// run_io), a peer on its own thread, the scripted machine and the driver.
struct harness {
  asio::io_context ioc{1};
  test::ws_peer peer;
  fake_protocol proto{ioc.get_executor(), peer};
  runtime::link_driver driver;
  std::shared_ptr<int> owner = std::make_shared<int>(0);

  explicit harness(runtime::link_options o = {}, test::ws_peer::options po = {})
      : peer(po), driver(ioc.get_executor(), proto, std::make_shared<spdlog::logger>("link-test"), std::move(o)) {}

  void start(std::vector<link::action> first) { driver.start(owner, std::move(first)); }
};

// Sleeps on the current executor (to let events that must not come, come).
asio::awaitable<void> pause(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  t.expires_after(d);
  co_await t.async_wait(tok);
}

// Opens link `id` and waits until the machine heard on_connected and the
// peer has the connection.
asio::awaitable<bool> connected(harness& h, link::link_id id, std::size_t peer_connections) {
  co_return co_await eventually([&] {
    std::size_t n = 0;
    for (const auto& e : h.proto.events) n += e.kind == "connected" && e.id == id;
    return n == 1 && h.peer.connections() == peer_connections;
  });
}

// Starts the driver with open_link 1, waits until that link is up, then runs
// `body` (a coroutine) on the driver's io_context.
template <class F>
void with_link(harness& h, F body) {
  h.start({link::open_link{1}});
  test::run_io(h.ioc, [&]() -> asio::awaitable<void> {
    const bool up = co_await connected(h, 1, 1);
    REQUIRE(up);
    co_await body();
  });
}

}  // namespace

TEST_CASE("link driver: open_link opens that id, frames go both ways in order, actions are carried out",
          "[runtime][link]") {
  harness h;
  h.proto.script["connected"].push_back({link::send_frame{1, "from on_connected"}});
  h.proto.script["frame"].push_back({link::send_frame{1, "answer to in-0"}});
  with_link(h, [&]() -> asio::awaitable<void> {
    CHECK(h.proto.opens == std::vector<link::link_id>{1});
    CHECK(h.peer.seen(0).target == "/link/1");
    REQUIRE(h.proto.events.size() == 1);
    CHECK(h.proto.events[0].kind == "connected");
    CHECK(h.driver.open_links() == 1);

    for (int i = 0; i < 5; ++i) h.peer.send(0, "in-" + std::to_string(i));
    const bool in = co_await eventually([&] { return h.proto.frames(1).size() == 5; });
    CHECK(in);
    CHECK(h.proto.frames(1) == std::vector<std::string>{"in-0", "in-1", "in-2", "in-3", "in-4"});

    CHECK(h.driver.send(1, "out-1"));
    CHECK(h.driver.send(1, "out-2"));
    h.driver.apply({link::send_frame{1, "out-3"}});
    CHECK(h.driver.send(1, "out-4"));
    CHECK_FALSE(h.driver.send(2, "no such link"));
    const bool out = co_await eventually([&] { return h.peer.seen(0).received.size() == 6; });
    CHECK(out);
    CHECK(h.peer.texts(0) == std::vector<std::string>{"from on_connected", "answer to in-0", "out-1", "out-2",
                                                      "out-3", "out-4"});
    co_await pause(50ms);
    CHECK(h.peer.seen(0).received.size() == 6);  // nothing sent twice
    CHECK(h.driver.counters().opened == 1);
    CHECK(h.driver.counters().open_failures == 0);
    CHECK(h.driver.counters().frames_out == 6);
    CHECK(h.driver.counters().budget_waits == 0);
    CHECK(h.proto.count("closed") == 0);
  });
}

TEST_CASE("link driver: the send budget holds the 4th of 6 frames until a window after the 1st",
          "[runtime][link][budget]") {
  harness h(with_budget(3, 300ms));
  with_link(h, [&]() -> asio::awaitable<void> {
    const auto queued = steady::now();
    for (int i = 0; i < 6; ++i) REQUIRE(h.driver.send(1, "f" + std::to_string(i)));
    const bool all = co_await eventually([&] { return h.peer.seen(0).received.size() == 6; }, 5000ms);
    REQUIRE(all);
    const auto got = h.peer.seen(0).received;
    CHECK(h.peer.texts(0) == std::vector<std::string>{"f0", "f1", "f2", "f3", "f4", "f5"});
    // The budget counts on the steady clock: the 4th frame goes no sooner
    // than 300 ms after the 1st was written, which was after `queued`.
    // Without the budget the 4th arrives within a few milliseconds.
    for (std::size_t i = 3; i < 6; ++i) {
      INFO("frame " << i << " arrived "
                    << std::chrono::duration_cast<std::chrono::microseconds>(got[i].at - queued).count()
                    << " us after it was queued");
      CHECK(got[i].at - queued >= 300ms);
    }
    CHECK(h.driver.counters().budget_waits > 0);
    CHECK(h.driver.counters().frames_out == 6);
  });
}

TEST_CASE("link driver: close_link 1000 closes after every frame queued before it, on_closed once",
          "[runtime][link]") {
  // A budget holds frames back, so the close has to wait for them.
  harness h(with_budget(2, 200ms));
  with_link(h, [&]() -> asio::awaitable<void> {
    for (const char* f : {"a", "b", "c", "d"}) REQUIRE(h.driver.send(1, f));
    h.driver.apply({link::close_link{1, 1000}});
    CHECK_FALSE(h.driver.send(1, "after the close"));
    const bool closed = co_await eventually([&] { return h.peer.seen(0).ended && h.proto.count("closed") == 1; },
                                            5000ms);
    REQUIRE(closed);
    const auto seen = h.peer.seen(0);
    CHECK(h.peer.texts(0) == std::vector<std::string>{"a", "b", "c", "d"});
    CHECK(seen.client_close_code == std::optional<std::uint16_t>(1000));
    co_await pause(100ms);
    CHECK(h.proto.count("closed") == 1);
    CHECK(h.proto.of("closed")[0].id == 1);
    CHECK(h.driver.open_links() == 0);
    CHECK_FALSE(h.driver.send(1, "gone"));
    CHECK(h.driver.counters().frames_out == 4);
  });
}

TEST_CASE("link driver: close_link 0 aborts the link without a close frame, on_closed once", "[runtime][link]") {
  harness h;
  with_link(h, [&]() -> asio::awaitable<void> {
    h.driver.apply({link::close_link{1, 0}});
    // The link cannot carry a frame any more, even before its reader has
    // seen the socket go.
    CHECK_FALSE(h.driver.send(1, "after the abort"));
    const bool ended = co_await eventually([&] { return h.peer.seen(0).ended && h.proto.count("closed") == 1; });
    REQUIRE(ended);
    CHECK_FALSE(h.peer.seen(0).client_close_code);  // no close frame came
    CHECK(h.peer.seen(0).received.empty());
    co_await pause(100ms);
    CHECK(h.proto.count("closed") == 1);
    CHECK(h.proto.last_close_code == 0);  // no close frame from the peer
    CHECK(h.driver.open_links() == 0);
    CHECK(h.driver.counters().frames_out == 0);
  });
}

TEST_CASE("link driver: the peer's close 4000 reaches on_closed once, naming the code", "[runtime][link]") {
  harness h;
  with_link(h, [&]() -> asio::awaitable<void> {
    h.peer.close(0, 4000);
    const bool closed = co_await eventually([&] { return h.proto.count("closed") == 1; });
    REQUIRE(closed);
    const auto ev = h.proto.of("closed")[0];
    CHECK(ev.id == 1);
    CHECK_THAT(ev.text, Catch::Contains("4000"));
    CHECK(h.proto.last_close_code == 4000);
    co_await pause(100ms);
    CHECK(h.proto.count("closed") == 1);
    CHECK(h.driver.open_links() == 0);
    CHECK_FALSE(h.driver.send(1, "gone"));
  });
}

TEST_CASE("link driver: a failed open reaches on_open_failed with its reason and fatality, no on_closed",
          "[runtime][link]") {
  harness h;
  h.proto.fail_open = std::make_pair(std::string("apps.connections.open: invalid_auth"), true);
  h.start({link::open_link{7}});
  test::run_io(h.ioc, [&]() -> asio::awaitable<void> {
    const bool failed = co_await eventually([&] { return h.proto.count("open_failed") == 1; });
    REQUIRE(failed);
    auto ev = h.proto.of("open_failed")[0];
    CHECK(ev.id == 7);
    CHECK(ev.text == "apps.connections.open: invalid_auth");
    CHECK(ev.fatal);
    CHECK(h.driver.counters().open_failures == 1);
    CHECK(h.driver.counters().opened == 1);
    CHECK(h.driver.open_links() == 0);
    CHECK_FALSE(h.driver.send(7, "never opened"));

    // A failure that is not fatal says so.
    h.proto.fail_open = std::make_pair(std::string("rate limited"), false);
    h.driver.apply({link::open_link{8}});
    const bool again = co_await eventually([&] { return h.proto.count("open_failed") == 2; });
    REQUIRE(again);
    ev = h.proto.of("open_failed")[1];
    CHECK(ev.id == 8);
    CHECK(ev.text == "rate limited");
    CHECK_FALSE(ev.fatal);
    co_await pause(50ms);
    CHECK(h.driver.counters().open_failures == 2);
    CHECK(h.proto.count("closed") == 0);
    CHECK(h.proto.count("connected") == 0);
    CHECK(h.peer.connections() == 0);
  });
}

TEST_CASE("link driver: close_link while the open is pending closes with 1000 once connected, no on_connected",
          "[runtime][link]") {
  harness h;
  h.proto.hold_open = true;
  h.start({link::open_link{1}});
  test::run_io(h.ioc, [&]() -> asio::awaitable<void> {
    const bool opening = co_await eventually([&] { return h.proto.opens.size() == 1; });
    REQUIRE(opening);
    h.driver.apply({link::close_link{1, 1000}});
    CHECK_FALSE(h.driver.send(1, "not open yet"));
    h.proto.hold_open = false;
    const bool closed = co_await eventually([&] { return h.peer.connections() == 1 && h.peer.seen(0).ended; });
    REQUIRE(closed);
    CHECK(h.peer.seen(0).client_close_code == std::optional<std::uint16_t>(1000));
    const bool gone = co_await eventually([&] { return h.driver.open_links() == 0; });
    CHECK(gone);
    co_await pause(50ms);
    CHECK(h.proto.count("connected") == 0);
    CHECK(h.proto.count("frame") == 0);
    CHECK(h.driver.counters().frames_out == 0);
  });
}

TEST_CASE("link driver: wake_at calls on_timer at or after that time, a later wake_at supersedes",
          "[runtime][link]") {
  harness h;
  const auto t0 = clock_now();
  // on_timer's own wake_at is carried out too.
  h.proto.script["timer"].push_back({link::wake_at{t0 + 450ms}});
  h.start({link::wake_at{t0 + 100ms}});
  h.driver.apply({link::wake_at{t0 + 250ms}});  // supersedes +100 ms
  test::run_io(h.ioc, [&]() -> asio::awaitable<void> {
    const bool first = co_await eventually([&] { return h.proto.count("timer") == 1; });
    REQUIRE(first);
    CHECK(h.proto.of("timer")[0].at >= t0 + 250ms);
    const bool second = co_await eventually([&] { return h.proto.count("timer") == 2; });
    REQUIRE(second);
    CHECK(h.proto.of("timer")[1].at >= t0 + 450ms);
    co_await pause(300ms);
    CHECK(h.proto.count("timer") == 2);  // each wake_at fires once; +100 ms never did on its own

    // An earlier wake_at supersedes a later one as well: it fires, and the
    // later one is gone.
    const auto t1 = clock_now();
    h.driver.apply({link::wake_at{t1 + 400ms}});
    h.driver.apply({link::wake_at{t1 + 100ms}});
    const bool third = co_await eventually([&] { return h.proto.count("timer") == 3; });
    REQUIRE(third);
    CHECK(h.proto.of("timer")[2].at >= t1 + 100ms);
    const auto waited = t1 + 600ms - clock_now();
    co_await pause(std::chrono::duration_cast<std::chrono::milliseconds>(waited));
    CHECK(h.proto.count("timer") == 3);
  });
}

TEST_CASE("link driver: report_health sets state() and detail()", "[runtime][link]") {
  harness h;
  CHECK(h.driver.state() == link::state::connecting);
  CHECK(h.driver.detail().empty());
  h.proto.script["connected"].push_back({link::report_health{link::state::connected, ""}});
  h.start({link::report_health{link::state::degraded, "link 1 lost"}});
  CHECK(h.driver.state() == link::state::degraded);
  CHECK(h.driver.detail() == "link 1 lost");
  h.driver.apply({link::report_health{link::state::disabled, "invalid_auth"}});
  CHECK(h.driver.state() == link::state::disabled);
  CHECK(h.driver.detail() == "invalid_auth");
  h.driver.apply({link::report_health{link::state::degraded, "retrying"}, link::open_link{1}});
  test::run_io(h.ioc, [&]() -> asio::awaitable<void> {
    const bool up = co_await connected(h, 1, 1);
    REQUIRE(up);
    // The health an event's actions report.
    CHECK(h.driver.state() == link::state::connected);
    CHECK(h.driver.detail().empty());
    h.driver.apply({link::report_health{link::state::stopped, "SIGTERM"}});
    CHECK(h.driver.state() == link::state::stopped);
    CHECK(h.driver.detail() == "SIGTERM");
  });
}

TEST_CASE("link driver: stop carries out on_stop's closes, after it returns no event reaches the machine",
          "[runtime][link][stop]") {
  harness h;
  h.start({link::open_link{1}, link::open_link{2}});
  test::run_io(h.ioc, [&]() -> asio::awaitable<void> {
    const bool up = co_await eventually([&] { return h.proto.count("connected") == 2 && h.peer.connections() == 2; });
    REQUIRE(up);
    // A third link whose open is still pending when stop returns, and a
    // timer due after it: neither may reach the machine.
    h.proto.hold_open = true;
    h.driver.apply({link::open_link{3}, link::wake_at{clock_now() + 500ms}});
    const bool opening = co_await eventually([&] { return h.proto.opens.size() == 3; });
    REQUIRE(opening);
    h.proto.script["stop"].push_back({link::close_link{1, 1000}, link::close_link{2, 4001},
                                      link::report_health{link::state::stopped, ""}});
    const auto drain = 300ms;
    co_await h.driver.stop(drain);
    CHECK(h.proto.count("stop") == 1);
    CHECK(h.driver.state() == link::state::stopped);
    // Links 1 and 2 closed with their codes during the drain.
    for (std::size_t n : {0u, 1u}) {
      const auto seen = h.peer.seen(n);
      CHECK(seen.ended);
      const std::uint16_t want = seen.target == "/link/1" ? 1000 : 4001;
      CHECK(seen.client_close_code == std::optional<std::uint16_t>(want));
    }
    const auto events_at_stop = h.proto.events.size();
    h.proto.hold_open = false;  // link 3 connects now, after stop
    const bool third = co_await eventually([&] { return h.peer.connections() == 3 && h.peer.seen(2).ended; });
    REQUIRE(third);
    CHECK(h.peer.seen(2).client_close_code == std::optional<std::uint16_t>(1000));
    co_await pause(600ms);  // past the wake_at
    CHECK(h.proto.events.size() == events_at_stop);
    CHECK(h.proto.count("connected") == 2);
    CHECK(h.proto.count("timer") == 0);
    CHECK(h.driver.open_links() == 0);
    CHECK_FALSE(h.driver.send(1, "stopped"));
  });
}

TEST_CASE("link driver: a link that does not close within the drain is aborted, silently", "[runtime][link][stop]") {
  // The peer never reads, so the close frame goes unanswered.
  test::ws_peer::options deaf;
  deaf.read = false;
  harness h({}, deaf);
  h.proto.script["stop"].push_back({link::close_link{1, 1000}});
  with_link(h, [&]() -> asio::awaitable<void> {
    const auto drain = 200ms;
    const auto before = steady::now();
    co_await h.driver.stop(drain);
    CHECK(steady::now() - before >= drain);  // it waited for the link
    CHECK(h.proto.count("stop") == 1);
    const auto events_at_stop = h.proto.events.size();
    // Aborted: gone at once, not after the 5 s close handshake timeout.
    const bool gone = co_await eventually([&] { return h.driver.open_links() == 0; }, 2000ms);
    CHECK(gone);
    co_await pause(100ms);
    CHECK(h.proto.events.size() == events_at_stop);
    CHECK(h.proto.count("closed") == 0);
  });
}

TEST_CASE("link driver: after stop, send is refused at once, before the reader sees the abort",
          "[runtime][link][stop]") {
  harness h;  // on_stop returns no action: link 1 stays open until the drain ends
  with_link(h, [&]() -> asio::awaitable<void> {
    REQUIRE(h.driver.send(1, "before stop"));
    co_await h.driver.stop(100ms);
    CHECK_FALSE(h.driver.send(1, "after stop"));
  });
}
