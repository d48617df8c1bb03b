#pragma once
// The Mattermost websocket (/api/v4/websocket) as pure code: frames and a
// socket-free session machine returning link actions (bot/core/link.hpp),
// in the shape of discord/gateway.hpp. No sockets, no clock, no randomness
// of its own. Protocol: the Mattermost server's web_conn / websocket router
// and the webapp's websocket client. Tests: tests/unit/mattermost_session_test.cpp.
//
// Rules implemented:
// - one link at a time. Its path and query come from target():
//   "/api/v4/websocket" before any hello, then
//   "?connection_id=ID&sequence_number=N" with N the next event seq we
//   expect, so the server replays what we missed when it still holds it.
// - The adapter authenticates the upgrade with "Authorization: Bearer"
//   (resuming needs it: the server only looks up connection_id on an
//   authenticated upgrade) and, once up, this machine sends the
//   authentication_challenge (seq 1) and a ping (seq 2). An authenticated
//   server ignores the challenge (no reply), so the ping's reply is what
//   proves a resumed link alive. Client seqs count up per link from 1.
// - Events carry seq 0, 1, 2... per server connection. hello (seq 0) gives
//   the connection_id; the next expected seq is then 1. A link is
//   connected on hello, or on the first OK reply or in-order event (a
//   resumed link gets no hello).
// - An event whose seq differs from the one expected (hello aside) is not
//   delivered: close_link(1000) and a new link that resumes with the same
//   connection_id and expected seq (as the webapp does). The server then
//   replays from there, or says with a hello that it could not.
// - A hello on a link opened with a different connection_id (or none: the
//   process's first) means events may be lost: frame_effects.catch_up, so
//   the adapter fetches the posts created since the last one it saw.
// - Pings every ping_interval after the last one. A ping (or the first
//   frames after connect) with no frame at all back within reply_timeout
//   (any frame counts as life): a zombie: close_link(0), abort, and resume.
// - A FAIL reply to the challenge: close 1000 and retry with backoff; the
//   health detail names the server's error (never the token).
// - on_open_failed with fatal (the adapter's GET users/me answered 401):
//   disabled with that detail; nothing is retried.
//
// Choices (session.cpp):
// - A failure is a link that ended before it was connected (the connect
//   failed, no frame within reply_timeout, a refused challenge, closed or
//   out of order before any proof of life). The k-th consecutive failure
//   waits link::full_jitter (shared with Slack and Discord). Becoming
//   connected resets the count, so a link that had connected reconnects at
//   once the first time it is lost; a refused challenge always counts.
// - A seq gap on a connected link is a resume at once, not a failure; a gap
//   on a link that never connected is a failure (a server replaying from the
//   wrong place must not make us spin).
// - hello is not delivered (deliver = false): the adapter has nothing to do
//   with it beyond catch_up. An event without an integer seq is out of order.
// - resumes() counts links opened with a connection_id that became
//   connected without a hello; a hello arriving later on such a link (the
//   server's hello after our pong) still sets catch_up.
// - close_link code 0 for a link not yet up (and for zombies), 1000
//   otherwise. wake_at carries the earliest deadline (ping, reply timeout,
//   retry) and is emitted when it changes.
// - report_health on transitions only: "connecting" (start), "connected",
//   "degraded" (the connected link is lost, or a failure while connecting;
//   detail: why), "disabled", "stopped". After stop() or disabled every
//   event returns no action. Frames and events for a link that is not the
//   current one (one we closed already) are ignored.
// The token only ever appears inside the challenge frame: never in a health
// detail, a `why` or an error.
#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "bot/core/link.hpp"
#include "bot/core/types.hpp"

namespace signoff::mattermost {

using link::link_id;
using link::open_link;
using link::close_link;
using link::send_frame;
using link::wake_at;
using link::report_health;
using action = link::action;
using health_state = link::state;

// Short, names what is wrong, quotes at most 40 bytes of the input
// (printable ASCII only).
struct decode_error { std::string message; };

// A server event {"event","data","broadcast","seq"}. seq -1 when absent or
// not an integer; data and broadcast empty when absent or not objects.
struct event {
  std::string name;
  std::int64_t seq = -1;
  boost::json::object data, broadcast;
};
// A reply to one of our requests {"status","seq_reply","error"?}. `error`:
// error.id, else error.message ("" when none).
struct reply {
  std::string status;
  std::int64_t seq_reply = 0;
  std::string error;
};
using frame = std::variant<event, reply>;

// A text frame -> event (has "event") or reply (has "seq_reply");
// decode_error for anything else (not JSON, not an object, neither key).
// Never throws.
std::variant<event, reply, decode_error> decode_frame(std::string_view text);
// {"seq":N,"action":"authentication_challenge","data":{"token":T}}
std::string encode_authentication_challenge(std::int64_t seq, std::string_view token);
// {"seq":N,"action":"ping"}
std::string encode_ping(std::int64_t seq);

struct session_options {
  std::chrono::milliseconds ping_interval{30'000};  // an app-level ping this long after the last one
  std::chrono::milliseconds reply_timeout{30'000};  // a ping (or the first frame after connect) unanswered this long: zombie
  std::chrono::milliseconds backoff_base{1'000}, backoff_cap{60'000};
};

// What one frame means beyond link actions.
struct frame_effects {
  std::vector<link::action> actions;
  bool deliver = false;   // an event in order (seq == expected): the adapter processes it
  // Events may have been missed: the adapter fetches the posts created since the last one it
  // saw. Set on the hello of the first connection of the process (start-up catch-up) and on a
  // hello whose connection_id differs from the one we resumed with.
  bool catch_up = false;
  bool first_hello = false;  // that hello was the process's first (catch_up is set too)
};

class session {
 public:
  // `token`: the bot's access token (sent only in the challenge frame).
  // `uniform01` returns a number in [0, 1): injected for tests.
  session(session_options o, std::string token, std::function<double()> uniform01);

  std::vector<action> start(time_point now);  // report_health connecting + open_link
  // Path and query of the next link's websocket: "/api/v4/websocket" before any hello, then
  // "/api/v4/websocket?connection_id=ID&sequence_number=N" (N: next expected seq).
  std::string target() const;
  // Upgrade done: authentication_challenge (seq 1) then ping (seq 2), so a resumed link (no
  // hello) proves itself by the pong.
  std::vector<action> on_connected(link_id id, time_point now);
  // The upgrade (or what the adapter does before it) failed. `fatal`: disabled, `why` as detail.
  std::vector<action> on_open_failed(link_id id, const std::string& why, bool fatal, time_point now);
  frame_effects on_frame(link_id id, const frame& f, time_point now);
  // The link ended; `code`: the close code the server sent (0: none).
  std::vector<action> on_closed(link_id id, const std::string& why, std::uint16_t code, time_point now);
  std::vector<action> on_timer(time_point now);
  std::vector<action> stop();  // close 1000, stopped; nothing after

  bool connected() const;  // a link serves (hello, or a reply/in-order event after connect)
  int live_links() const;  // 0 or 1: a link that is open, opening or connected
  const std::string& connection_id() const { return connection_id_; }
  std::int64_t expected_seq() const { return expected_; }
  int fresh_hellos() const { return fresh_hellos_; }  // hellos received (new connection IDs)
  int resumes() const { return resumes_; }  // links opened with a connection_id that the server kept
  int consecutive_failures() const { return failures_; }

 private:
  enum class stage { opening, authenticating, serving };
  struct link_state {
    link_id id = 0;
    stage st = stage::opening;
    std::string resumed_from;                 // connection_id in its target ("" for a fresh one)
    std::int64_t next_request = 1;            // our next client seq on this link
    std::int64_t challenge_seq = 0;
    std::optional<time_point> next_ping;
    std::optional<time_point> awaiting_since; // a ping (or the first frames) not answered yet
  };

  void send_ping(std::vector<action>& out, time_point now);
  void become_connected(std::vector<action>& out, bool by_hello);
  void note_failure();
  // Ends the current link with `code`; a failure when it never connected
  // (or `failure` forces one); then schedules the next link.
  void drop_link(std::vector<action>& out, std::uint16_t code, bool failure, const std::string& why,
                 time_point now);
  void schedule(std::vector<action>& out, time_point now);
  void open_new(std::vector<action>& out, time_point now);
  std::vector<action> shut_down(health_state st, const std::string& detail);
  void set_health(std::vector<action>& out, health_state st, const std::string& detail);
  void finish(std::vector<action>& out);
  void on_event(frame_effects& fx, const event& e, time_point now);
  void on_reply(frame_effects& fx, const reply& r, time_point now);
  bool current(link_id id) const { return link_ && link_->id == id; }
  bool live() const { return !stopped_ && !disabled_; }

  session_options opt_;
  std::string token_;
  std::function<double()> rnd_;
  std::optional<link_state> link_;
  link_id next_id_ = 1;
  std::string connection_id_;
  std::int64_t expected_ = 0;
  int failures_ = 0;
  std::optional<time_point> retry_at_;
  int fresh_hellos_ = 0, resumes_ = 0;
  std::optional<time_point> last_wake_;
  std::optional<health_state> health_;
  bool stopped_ = false, disabled_ = false;
};

}  // namespace signoff::mattermost
