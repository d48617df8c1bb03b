#pragma once
// The Socket Mode connection manager as a pure state machine (no sockets,
// no clock, no randomness of its own): the adapter feeds it events and
// carries out the actions it returns. Rules (https://api.slack.com/apis/socket-mode):
// - every (re)connect first calls apps.connections.open (URLs are single use);
// - a link is live once it sent `hello`; the backoff resets then, not on TCP connect;
// - `warning` / `refresh_requested`: open a new link first and close the old
//   one (code 1000) only when the new one said hello, so no command waits
//   on a gap; the old link keeps serving until then;
// - `too_many_websockets`: close that link and back off before reconnecting;
// - `link_disabled`: stop for good and report unhealthy;
// - a link that does not say hello within hello_timeout is closed and retried;
// - failures back off with full jitter: uniform(0, min(cap, base * 2^n)).
//
// Choices (session.cpp):
// - A failure is a link that ended before its hello: apps.connections.open
//   or connect failed, no hello in time, closed or told to go before hello,
//   too_many_websockets. n counts the failures before this one since the
//   last hello, so the k-th consecutive failure waits
//   uniform(0, min(cap, base * 2^(k-1))); hello resets n to 0.
// - A live link lost while no other link serves (failures = 0) reconnects at
//   once: it had worked, so the first retry does not wait; if that attempt
//   fails, the backoff starts. Flapping is bounded by that backoff and by
//   Slack's rate limit on apps.connections.open (a 429 is a failure).
// - warning / refresh_requested / an unknown reason on a live link: the link
//   becomes `draining` (still serving, still acked on) and a new link opens
//   at once when fewer than max_links are open; when the new one says hello
//   every draining link gets close_link(1000) after drain_grace (Slack may
//   still deliver on it meanwhile, and an envelope read after our close frame
//   could not be acked). A draining link that closes first (Slack closes it
//   itself about 10 s after `warning`) is normal: the new link is open. With no room for a new
//   link the old one serves until it closes, then a new one opens at once.
// - too_many_websockets: close_link(1000) on that link, then no open_link
//   before too_many_backoff has passed (a floor over the jittered delay).
// - link_disabled, or a fatal on_open_failed: close every link, report
//   "disabled" (detail: the reason), and never open a link again.
// - The hello timeout runs from on_connected; apps.connections.open and the
//   connect/TLS/websocket handshakes are bounded by the adapter's own
//   timeouts (net::timeouts), which end in on_open_failed. A timed-out link is
//   aborted (close_link code 0): a silent peer is not worth a close handshake.
// - close_link code 0 (abort) for a link still in apps.connections.open or
//   connecting, 1000 for links with a websocket.
// - wake_at carries the earliest pending deadline (hello timeout or retry)
//   and supersedes every earlier wake_at; it is emitted when that deadline
//   changes. on_timer at any other time is harmless.
// - report_health on transitions only: "connecting" (start, until the first
//   hello or failure), "connected" (some link serves), "degraded" (none
//   serves and a reconnect is under way or scheduled; detail: why),
//   "disabled", "stopped".
// - After stop() or disabled, every event returns no action.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "bot/core/link.hpp"
#include "bot/core/types.hpp"
#include "bot/protocol/slack/codec.hpp"

namespace signoff::slack {

// Actions for the link driver (runtime::link_driver): open_link means call
// apps.connections.open, then connect; close_link code 1000 or 0 (abort);
// Socket Mode sends no frame of its own accord, so there is no send_frame.
using link::link_id;
using link::open_link;
using link::close_link;
using link::wake_at;
using link::report_health;
using action = link::action;
using health_state = link::state;

struct session_options {
  std::chrono::milliseconds backoff_base{1000};
  std::chrono::milliseconds backoff_cap{60'000};
  std::chrono::milliseconds too_many_backoff{30'000};   // at least this long after too_many_websockets
  std::chrono::milliseconds hello_timeout{10'000};
  std::chrono::milliseconds drain_grace{5000};           // old link kept after the new one's hello
  std::size_t max_links = 3;                             // old (draining) + new, and one more refresh
};

class session {
 public:
  // `uniform01` returns a random number in [0, 1): injected for tests.
  session(session_options o, std::function<double()> uniform01);

  std::vector<action> start(time_point now);  // opens the first link
  // apps.connections.open or the websocket connect failed for link `id`.
  // `fatal` (an auth error such as invalid_auth): stop and report disabled.
  std::vector<action> on_open_failed(link_id id, const std::string& why, bool fatal, time_point now);
  std::vector<action> on_connected(link_id id, time_point now);       // websocket up, awaiting hello
  std::vector<action> on_hello(link_id id, const hello& h, time_point now);
  std::vector<action> on_disconnect(link_id id, const disconnect& d, time_point now);
  // The link ended (read error, close frame, idle timeout, abort).
  std::vector<action> on_closed(link_id id, const std::string& why, time_point now);
  std::vector<action> on_timer(time_point now);
  std::vector<action> stop();                       // SIGTERM: close every link with 1000

  // Which live link should carry writes nobody else claims (none today: acks
  // go on the link their envelope came from). True when some link is live.
  bool healthy() const;
  // Links that said hello and still serve (a draining link counts until the
  // session closes it or it closes).
  int live_links() const;
  int consecutive_failures() const { return failures_; }

 private:
  struct link {
    link_id id;
    enum class state { opening, awaiting_hello, live, draining } st;
    time_point since;
    std::optional<time_point> close_at;  // draining: when we close it ourselves
  };
  std::vector<action> open_new(time_point now);
  void close_drained(std::vector<action>& out, time_point now);  // draining links past close_at
  // Makes sure a fresh (non-draining) link is open, opening or scheduled;
  // `floor`: no open_link before now + floor (too_many_websockets).
  std::vector<action> schedule_retry(time_point now, std::chrono::milliseconds floor);
  std::chrono::milliseconds next_delay();
  link* find(link_id id);
  void erase(link_id id);
  void note_failure();
  bool has_fresh() const;
  std::vector<action> shut_down(health_state state, std::string detail);
  void set_health(std::vector<action>& out, health_state state, const std::string& detail);
  void update_health(std::vector<action>& out, const std::string& why);
  void finish(std::vector<action>& out);  // appends wake_at when the earliest deadline changed

  session_options opt_;
  std::function<double()> rnd_;
  std::vector<link> links_;
  link_id next_id_ = 1;
  int failures_ = 0;
  std::optional<time_point> retry_at_;
  std::optional<time_point> hold_until_;  // too_many_websockets floor
  std::optional<time_point> last_wake_;
  std::optional<health_state> health_;
  bool stopped_ = false, disabled_ = false;
};

}  // namespace signoff::slack
