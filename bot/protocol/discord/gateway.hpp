#pragma once
// The Discord Gateway (v10, JSON encoding) as pure code: payload frames and
// a socket-free session machine returning link actions (bot/core/link.hpp),
// in the shape of slack/session.hpp. No sockets, no clock, no randomness of
// its own. Protocol: https://discord.com/developers/docs/events/gateway and
// .../topics/opcodes-and-status-codes. Tests: tests/unit/discord_gateway_test.cpp.
//
// Rules implemented:
// - one link at a time. A fresh link's URL comes from GET gateway/bot
//   (on_gateway_bot); a link that will resume uses READY's
//   resume_gateway_url (resume_url()).
// - Hello(10) gives heartbeat_interval: the first heartbeat goes after
//   interval x uniform01(), then one every interval; a Heartbeat(1) from the
//   server is answered at once. A heartbeat falling due while the previous
//   one has no ACK(11) means a zombied link: close_link(4000) (never
//   1000/1001, which end the session) and resume on a new link.
// - After Hello: Resume(6) (session_id + last seq) when a session exists,
//   else Identify(2).
// - Identify limits: at most max_concurrency identifies per identify_window,
//   none while gateway/bot's session_start_limit is spent (remaining == 0,
//   counted down locally per Identify) before its reset_after has passed.
// - Dispatch(0): `s` is remembered; READY gives session_id,
//   resume_gateway_url and user.id; READY and RESUMED make the link ready.
// - Reconnect(7): close 4000, resume on a new link at once.
// - Invalid Session(9): d=true: close 4000 and resume; d=false: forget the
//   session, close 1000, wait uniform(invalid_session_min, _max) and
//   identify afresh on a new link.
// - Close codes 4004, 4010, 4011, 4012, 4013, 4014: never retried: disabled,
//   detail naming the code and its meaning. 4007 and 4009: the session is
//   gone, identify afresh. Any other code (0 = no close frame): resume when
//   a session exists, else identify.
//
// Choices (gateway.cpp):
// - A failure is a link that ended before READY/RESUMED (gateway/bot or the
//   connect failed, no Hello or no READY in time, closed before ready, an
//   Invalid Session answering our Identify/Resume). The k-th consecutive
//   failure waits link::full_jitter (shared with Slack): uniform(0,
//   min(cap, base * 2^(k-1))). READY/RESUMED (not Hello: Hello proves
//   nothing about the token or the session) resets the count, so a link
//   that had been ready reconnects at once the first time it is lost.
// - Reconnect(7) and Invalid Session(9, true) on a ready link are Discord's
//   own requests: a new link at once, not a failure.
// - The hello timeout runs from on_connected; the ready timeout from the
//   Identify/Resume. Either expired: the link is aborted (close_link 0; a
//   peer that does not talk is not worth a close handshake; an abort keeps
//   the session resumable) and counts as a failure.
// - Identify waiting for the identify window: the link stays up (heartbeats
//   run) and the Identify goes when the window has room. Identify with the
//   budget spent at Hello (a resume fell back to identify): close 1000 and
//   no link before the reset. A Hello without a usable heartbeat_interval:
//   close 4000 and a failure.
// - close_link code 0 for a link not yet connected, 1000 on stop() (the
//   session ends with us), 4000 where the session must survive.
// - wake_at carries the earliest deadline (heartbeat, hello/ready timeout,
//   pending Identify, retry) and is emitted when it changes.
// - report_health on transitions only: "connecting" (start), "connected"
//   (READY/RESUMED), "degraded" (the ready link is lost, or a failure while
//   connecting; detail: why), "disabled", "stopped". After stop() or
//   disabled every event returns no action.
// - Frames, payloads and events for a link that is not the current one
//   (one we closed already) are ignored.
// - The driver enforces 120 frames per 60 s per link (link::send_budget):
//   this machine sends at most one heartbeat per interval plus one
//   Identify/Resume, far below it.
// The token only ever appears inside the Identify/Resume frames: never in
// a health detail, a `why` or an error.
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "bot/core/link.hpp"
#include "bot/core/types.hpp"

namespace signoff::discord {

using link::link_id;
using link::open_link;
using link::close_link;
using link::send_frame;
using link::wake_at;
using link::report_health;
using action = link::action;
using health_state = link::state;

// Gateway opcodes (Discord "Opcodes and Status Codes").
namespace op {
inline constexpr int dispatch = 0, heartbeat = 1, identify = 2, resume = 6, reconnect = 7,
                     invalid_session = 9, hello = 10, heartbeat_ack = 11;
}

// One Gateway payload {op, d, s, t}. `s` and `t` are set on dispatches only.
struct payload {
  int op = -1;
  std::optional<std::int64_t> s;
  std::string t;
  boost::json::value d;
};
// Short, names what is wrong, quotes at most 40 bytes of the input
// (printable ASCII only).
struct decode_error { std::string message; };

// A text frame -> payload; decode_error when it is not a JSON object or
// `op` is missing or not an integer. Never throws.
std::variant<payload, decode_error> decode_payload(std::string_view text);

// {"op":1,"d":seq} ("d":null before any dispatch).
std::string encode_heartbeat(std::optional<std::int64_t> seq);
// {"op":2,"d":{"token","intents","properties":{"os","browser","device"}}}.
std::string encode_identify(std::string_view token, int intents);
// {"op":6,"d":{"token","session_id","seq"}}.
std::string encode_resume(std::string_view token, std::string_view session_id, std::int64_t seq);

// GET {api_base}gateway/bot:
// {"url","shards","session_start_limit":{"total","remaining","reset_after" (ms),"max_concurrency"}}.
struct gateway_bot {
  std::string url;
  int shards = 1;
  int total = 0, remaining = 0;
  std::chrono::milliseconds reset_after{0};
  int max_concurrency = 1;
};
// nullopt when the body is not such an object or has no url string;
// missing numbers keep the defaults above (max_concurrency at least 1).
std::optional<gateway_bot> decode_gateway_bot(std::string_view body);

// Discord's name for a Gateway close code ("authentication failed" for
// 4004), "" for a code it does not list.
std::string_view close_code_meaning(std::uint16_t code);

// The URL to dial from a gateway base: "wss://gateway.discord.gg" ->
// "wss://gateway.discord.gg/?v=10&encoding=json". Keeps a path, adds no
// second '/', replaces a query the base already had.
std::string connect_url(std::string_view base);

struct gateway_options {
  std::chrono::milliseconds backoff_base{1000}, backoff_cap{60'000};
  std::chrono::milliseconds hello_timeout{20'000};   // connected, no Hello -> abort, retry
  std::chrono::milliseconds ready_timeout{30'000};   // Identify/Resume sent, no READY/RESUMED
  std::chrono::milliseconds invalid_session_min{1000}, invalid_session_max{5000};
  std::chrono::milliseconds identify_window{5000};   // max_concurrency identifies per window
  int intents = 0;                                   // signoff needs none for interactions
};

class gateway {
 public:
  // `token`: the bot token (sent only in Identify/Resume). `uniform01`
  // returns a number in [0, 1): injected for tests.
  gateway(gateway_options o, std::string token, std::function<double()> uniform01);

  std::vector<action> start(time_point now);  // open_link for the first link
  // Asked by the adapter when it opens link `id` (after open_link): the URL
  // to dial when that link will resume (resume_gateway_url through
  // connect_url); nullopt: GET gateway/bot and call on_gateway_bot.
  std::optional<std::string> resume_url() const;
  // gateway/bot answered for link `id`: the URL to dial; or nullopt with
  // `why` set when the identify budget is spent (or `id` is not the link
  // being opened): the adapter then reports on_open_failed(id, why, false),
  // and no link opens before reset_after has passed.
  std::optional<std::string> on_gateway_bot(link_id id, const gateway_bot& g, time_point now, std::string& why);
  // gateway/bot or the connect failed. `fatal` (401 from gateway/bot): disabled.
  std::vector<action> on_open_failed(link_id id, const std::string& why, bool fatal, time_point now);
  std::vector<action> on_connected(link_id id, time_point now);  // websocket up, awaiting Hello
  std::vector<action> on_payload(link_id id, const payload& p, time_point now);
  // The link ended. close_code: the code the server sent (0 when none: a
  // drop, a timeout, our own abort).
  std::vector<action> on_closed(link_id id, std::uint16_t close_code, const std::string& why, time_point now);
  std::vector<action> on_timer(time_point now);
  std::vector<action> stop();  // close with 1000 (ends the session); nothing after

  bool ready() const;        // the live link saw READY or RESUMED
  int live_links() const;    // 0 or 1: a link that is open, opening or connected
  const std::string& session_id() const { return session_id_; }
  std::optional<std::int64_t> seq() const { return seq_; }
  const std::string& bot_user_id() const { return bot_user_id_; }  // READY d.user.id
  int identifies() const { return identifies_; }
  int resumes() const { return resumes_; }
  int consecutive_failures() const { return failures_; }

 private:
  enum class stage { opening, awaiting_hello, identify_pending, authenticating, ready };
  struct link_state {
    link_id id = 0;
    stage st = stage::opening;
    time_point since{};                       // opening / connected / Identify-Resume sent
    std::chrono::milliseconds interval{0};    // heartbeat interval, from Hello
    std::optional<time_point> next_heartbeat;
    bool ack_pending = false;
    std::optional<time_point> identify_at;    // identify_pending: when the window has room
  };

  bool has_session() const { return !session_id_.empty() && seq_.has_value(); }
  bool budget_spent(time_point now);
  std::optional<time_point> identify_slot(time_point now) const;  // when the window allows one
  void authenticate(std::vector<action>& out, time_point now);
  void send_identify(std::vector<action>& out, time_point now);
  void heartbeat(std::vector<action>& out);
  void forget_session();
  void note_failure();
  // Ends the current link with `code`: a failure unless it had been ready
  // (or `requested`: Discord asked for the reconnect); then schedules the next link.
  void drop_link(std::vector<action>& out, std::uint16_t code, bool requested, const std::string& why,
                 time_point now, std::optional<time_point> not_before = std::nullopt);
  void schedule(std::vector<action>& out, time_point now, std::optional<time_point> not_before);
  void open_new(std::vector<action>& out, time_point now);
  std::vector<action> shut_down(health_state st, const std::string& detail);
  void set_health(std::vector<action>& out, health_state st, const std::string& detail);
  void finish(std::vector<action>& out);
  void on_dispatch(std::vector<action>& out, const payload& p, time_point now);
  bool current(link_id id) const { return link_ && link_->id == id; }

  gateway_options opt_;
  std::string token_;
  std::function<double()> rnd_;
  std::optional<link_state> link_;
  link_id next_id_ = 1;
  std::string session_id_, resume_base_, bot_user_id_;
  std::optional<std::int64_t> seq_;
  int failures_ = 0;
  std::optional<time_point> retry_at_;
  std::optional<time_point> hold_until_;   // no link before this (budget reset, invalid session wait)
  std::optional<int> remaining_;           // identifies left in the budget, when known
  std::optional<time_point> budget_reset_at_;
  int max_concurrency_ = 1;
  std::deque<time_point> identify_times_;  // the last max_concurrency identifies
  int identifies_ = 0, resumes_ = 0;
  std::optional<time_point> last_wake_;
  std::optional<health_state> health_;
  bool stopped_ = false, disabled_ = false;
};

}  // namespace signoff::discord
