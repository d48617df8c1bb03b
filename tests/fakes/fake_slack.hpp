#pragma once
// A loopback fake of Slack for tests and benchmarks: the Web API methods
// signoff uses and the Socket Mode link, over TLS with the throw-away test
// CA (tests/support/test_pki.hpp), following Slack's documentation:
//   https://api.slack.com/apis/socket-mode, .../methods/apps.connections.open,
//   chat.postMessage, chat.update, chat.postEphemeral, views.open.
// It runs its own io_context on its own thread; every public method is
// thread-safe and may be called from the test thread.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace signoff::test {

class fake_slack {
 public:
  struct options {
    std::string cert_pem, key_pem;           // server certificate (default: test_pki())
    std::string app_token = "xapp-1-A0TEST-1-fakeapptoken";
    std::string bot_token = "xoxb-1-fakebottoken";
    std::string team_id = "T0TEAM";
    std::chrono::milliseconds connections_open_delay{0};  // a slow apps.connections.open
    std::chrono::milliseconds ack_deadline{3000};          // Slack's 3 s
    std::size_t max_connections = 10;                     // per app, as Slack allows
  };

  fake_slack();  // default options
  explicit fake_slack(options o);
  ~fake_slack();  // closes every connection and stops the thread
  fake_slack(const fake_slack&) = delete;
  fake_slack& operator=(const fake_slack&) = delete;

  std::uint16_t port() const;
  // "https://localhost:PORT/api/": what `[slack] api_base` is set to.
  std::string api_base() const;

  // ---- Socket Mode link -------------------------------------------------
  // Open websocket links that were sent hello and are neither closed nor
  // closing (a link told warning / refresh_requested counts until closed).
  int connections() const;
  // Total websocket links ever opened / apps.connections.open calls answered ok.
  int connections_opened() const;
  // True once connections() == n (also for n smaller than now: waiting for links to go).
  bool wait_connections(int n, std::chrono::milliseconds timeout) const;

  struct ack {
    std::string envelope_id;
    std::optional<boost::json::value> payload;  // the ack's "payload", when present
    std::chrono::nanoseconds latency{};         // envelope written -> ack read
    bool late = false;                          // after ack_deadline
  };
  // Sends a slash_commands envelope on one open link (round robin); returns
  // its envelope_id. `command` is e.g. "/approve", `text` what follows it as
  // the person typed it: the envelope carries it escaped as Slack does
  // ('&', '<', '>' as "&amp;", "&lt;", "&gt;").
  std::string slash_command(const std::string& user_id, const std::string& channel_id,
                            const std::string& command, const std::string& text);
  // Envelopes go round robin to usable links (links told warning /
  // refresh_requested only when nothing else is up) and wait, in order, while
  // no link is up. Each carries a trigger_id (views.open: valid 3 s, once;
  // reuse -> exchanged_trigger_id) and a response_url (5 posts; the 6th gets
  // 404 used_url). These calls never wait for the write.
  // A block_actions click on a button (action_id, value) of message `message_ts`.
  std::string block_action(const std::string& user_id, const std::string& channel_id,
                           const std::string& action_id, const std::string& value,
                           const std::string& message_ts);
  // A view_submission of a modal opened earlier by views.open (`view_id` from
  // opened_views()), with the plain_text_input values: block_id -> value, as
  // typed (escaped in the envelope like slash-command text).
  std::string view_submission(const std::string& user_id, const std::string& view_id,
                              const std::vector<std::pair<std::string, std::string>>& values);
  // Resends an envelope already sent (same envelope_id and payload) with
  // retry_attempt = n and retry_reason = reason, as Slack does when no ack came.
  void redeliver(const std::string& envelope_id, int retry_attempt,
                 const std::string& reason = "timeout");
  std::optional<ack> wait_ack(const std::string& envelope_id, std::chrono::milliseconds timeout) const;
  std::vector<ack> acks() const;  // every ack received, in order
  // Pops the oldest ack not popped yet (for benchmarks: windowed driving).
  std::optional<ack> next_ack(std::chrono::milliseconds timeout);
  // The response_url carried by envelope `envelope_id` (computed, so it works
  // for any envelope this fake made); "" when the ID is not one of ours.
  std::string response_url_of(const std::string& envelope_id) const;
  // What the client did wrong on the link: acks for unknown or already acked
  // envelope IDs, an ack payload where the envelope said
  // accepts_response_payload: false, frames that are not acks. Tests assert
  // it stays empty.
  std::vector<std::string> protocol_errors() const;

  // ---- faults -----------------------------------------------------------
  void drop_links();                            // abrupt TCP close, no close frame
  void close_links(std::uint16_t code = 1011);  // close frame with this code
  // {"type":"disconnect","reason":R,"debug_info":{...}}: warning,
  // refresh_requested, link_disabled, too_many_websockets. For warning and
  // refresh_requested the fake closes the old link 10 s later (as Slack does),
  // or at once when `close_after` is set.
  void send_disconnect(const std::string& reason,
                       std::optional<std::chrono::milliseconds> close_after = std::nullopt);
  void send_raw(const std::string& frame);      // a garbage / oversized / unknown frame
  // The next call to `method` fails: {"ok":false,"error":error}.
  void fail_next(const std::string& method, const std::string& error);
  // The next `count` calls to `method` get HTTP 429 with Retry-After.
  void rate_limit_next(const std::string& method, int retry_after_seconds, int count = 1);
  void set_connections_open_delay(std::chrono::milliseconds d);
  // Refuse apps.connections.open with this error until cleared ("" clears).
  void refuse_connections(const std::string& error);

  // ---- what the bot did -------------------------------------------------
  struct api_call {
    std::string method;           // "chat.postMessage", or "response_url" for response URL posts
    boost::json::object args;     // JSON body (form bodies are decoded into strings)
    std::string token;            // the bearer token used ("" for response_url)
    std::chrono::steady_clock::time_point at;
    unsigned status = 200;        // HTTP status the fake answered
    std::string error;            // the ok:false error answered, if any
    std::string target;           // the URL posted to (response_url calls: which envelope's)
  };
  std::vector<api_call> calls(const std::string& method = "") const;
  bool wait_calls(const std::string& method, std::size_t n, std::chrono::milliseconds timeout) const;
  // The app's DM channel with `user_id` ("D…"): where chat.postMessage with
  // the user ID as channel posts, and the channel its answer names.
  static std::string dm_channel_of(const std::string& user_id);
  struct message {
    std::string channel, ts, text;
    boost::json::value blocks;     // as last posted or updated
    int updates = 0;               // chat.update calls applied
  };
  std::vector<message> messages(const std::string& channel = "") const;
  struct view {
    std::string view_id, trigger_id, user_id, callback_id, private_metadata;
    boost::json::object spec;      // the view object passed to views.open
  };
  std::vector<view> opened_views() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace signoff::test
