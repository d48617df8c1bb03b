#pragma once
// A loopback fake of a Mattermost server for tests: the websocket API
// (/api/v4/websocket) and the REST API under /api/v4 on one TLS port with the
// throw-away test CA (tests/support/test_pki.hpp), built on
// tests/fakes/fake_server (its own io thread). Every public method is
// thread-safe and may be called from the test thread. What the bot does
// wrong is answered as Mattermost would and also recorded in
// protocol_errors(), which tests assert stays empty. Tokens never appear in
// protocol_errors().
//
// Sources (github.com/mattermost/mattermost, server/channels/…):
// - api4/websocket.go: the upgrade at /api/v4/websocket (trailing '/' too);
//   `connection_id` + `sequence_number` are honoured only when the upgrade
//   itself was authenticated (Authorization: Bearer); an invalid
//   connection_id or a missing/non-numeric sequence_number closes the socket
//   right after the 101. The route does not require a session
//   (APIHandlerTrustRequester): a wrong Bearer token on the upgrade is NOT
//   refused with 401 (web/handlers.go only refuses when RequireSession); the
//   link is simply unauthenticated and must send the challenge.
// - app/platform/websocket_router.go: empty action -> no_action (400);
//   seq <= 0 -> bad_seq (400, seq_reply omitted when 0); authentication_challenge
//   on an authenticated link: ignored; a missing or wrong token in it: the
//   socket is closed (no close frame); success: hello (seq 0) then
//   {"status":"OK","seq_reply":N}; other actions before authentication get
//   not_authenticated, which the hub cannot deliver to an unregistered link
//   (web_hub.go directMsg), so the fake sends nothing; unknown actions ->
//   bad_action (500).
// - app/platform/web_conn.go, web_hub.go (reliable websockets): a connection
//   ID outlives its socket (inactive) for `inactive_ttl`; events go on
//   queueing for it (send queue, 256: beyond that it is dropped for good);
//   the last 128 events written are kept (dead queue). Event seq numbers are
//   given when an event is written (responses have none). A reconnect with
//   sequence_number N to an INACTIVE connection ID: N in the dead queue ->
//   replay from N, then the send queue, no hello; N == the next seq
//   (lossless) -> the send queue, no hello; else (lossy) a new connection ID,
//   seq 0, hello, then the send queue. An unknown, expired or still-active ID
//   (the server has not noticed the old socket died): a fresh connection.
//   Pings: a ping frame every `server_ping` (pingInterval 60 s); no pong for
//   5/3 of that (pongWaitTime 100 s) closes the socket; a link still
//   unauthenticated after 5 s (authCheckInterval) is closed.
// - wsapi/system.go: the ping action's answer {"text":"pong","version",
//   "server_time","node_id":""}.
// - app/notification.go, app/post.go, model/post.go: "posted" (data.post is
//   the post serialised as a JSON string) to every member of the channel,
//   the author included; "post_edited" on a patch or an action's update;
//   messages over 16383 runes are refused (model.post.is_valid.message_length).
// - api4/post.go, api4/channel.go, api4/user.go, api4/team.go: the REST
//   routes below; errors are AppErrors {"id","message","detailed_error",
//   "request_id","status_code"}.
// - app/integration_action.go: button clicks (the server POSTs to the
//   action's integration URL and applies "update" by REPLACING the post's
//   message and props, from_bot kept: an update without "message" empties
//   it), trigger IDs (base64 of "clientTriggerId:userId:millis:base64(sig)",
//   valid 3 s; the fake signs with an HMAC of its own), dialogs/open and
//   dialog submissions. The action route accepts only [A-Za-z0-9] action IDs,
//   so a button with another ID cannot be clicked.
// - Rate limiting (app/ratelimit.go, throttled): 429 with X-Ratelimit-Limit,
//   X-Ratelimit-Remaining: 0, X-Ratelimit-Reset and Retry-After (seconds),
//   body "limit exceeded\n".
//
// REST routes (Bearer auth; missing/wrong token: 401 session_expired):
//   GET users/me, GET users/{id}, POST users/ids, GET users/me/teams,
//   GET users/me/teams/{team}/channels (DM channels included), GET channels/{id},
//   GET channels/{id}/posts (?since=MS, or ?page=&per_page=), POST channels/direct,
//   POST posts, GET posts/{id}, PUT posts/{id}/patch, POST actions/dialogs/open;
//   GET system/ping (no auth). Anything else: 404 api.context.404.app_error.
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace signoff::test {

class fake_mattermost {
 public:
  struct options {
    std::string cert_pem, key_pem;                               // default test_pki()
    std::string token = "fakemattermostbottoken00001";          // 26+ chars, the bot's Bearer token
    std::string bot_user_id = "bot0000000000000000000000a", bot_username = "signoff";
    std::string team_id = "team000000000000000000000a", team_name = "comms";
    std::chrono::milliseconds inactive_ttl{300'000};  // a connection ID kept this long after its socket went
    std::size_t dead_queue = 128, send_queue = 256;
    std::chrono::milliseconds server_ping{60'000};
    std::chrono::milliseconds trigger_lifetime{3'000};
    std::size_t message_max = 16383;
  };
  fake_mattermost();  // default options
  explicit fake_mattermost(options o);
  ~fake_mattermost();  // drops every link and stops the thread
  fake_mattermost(const fake_mattermost&) = delete;
  fake_mattermost& operator=(const fake_mattermost&) = delete;

  std::uint16_t port() const;
  std::string url() const;  // "https://localhost:PORT": what [mattermost] url is set to

  // ---- the world ------------------------------------------------------------
  // A user of the team (the bot is one from the start).
  void add_user(const std::string& id, const std::string& username, bool is_bot = false);
  // An open ("O") channel in the team; `bot_member`: the bot is in it (gets its events).
  void add_channel(const std::string& id, const std::string& name, bool bot_member = true);
  // A post by `user_id` (a normal post, or a bot's with from_bot when that user is a bot), as a
  // user's client would make it: stored, and broadcast as "posted" to every member connection
  // (queued for inactive connection IDs as described). Works while the bot is disconnected or
  // not running. Returns the post ID. `channel_id` may be a DM channel from dm_channel_of().
  // Throws std::invalid_argument for an unknown channel.
  std::string post_as(const std::string& user_id, const std::string& channel_id, const std::string& message,
                      const std::string& root_id = "");
  // The DM channel between the bot and `user_id` (created on first use, as channels/direct does).
  std::string dm_channel_of(const std::string& user_id);

  // ---- what the bot did ----------------------------------------------------------
  struct post_rec {
    std::string id, channel_id, user_id, root_id, message;
    boost::json::value props;  // as last posted/patched (attachments with actions)
    int patches = 0;           // PUT patch or click "update" applied
    std::int64_t create_at = 0;
  };
  std::vector<post_rec> posts(const std::string& channel_id = "") const;     // all, oldest first
  std::vector<post_rec> bot_posts(const std::string& channel_id = "") const; // by the bot
  // Waits until a bot post satisfying `pred` exists; returns it (the oldest such).
  std::optional<post_rec> wait_bot_post(const std::function<bool(const post_rec&)>& pred,
                                        std::chrono::milliseconds timeout) const;
  std::optional<post_rec> wait_reply(const std::string& root_id, std::chrono::milliseconds timeout) const; // bot post with that root_id
  std::optional<post_rec> wait_dm(const std::string& user_id, std::chrono::milliseconds timeout,
                                  std::size_t nth = 0) const;  // the nth bot DM to that user
  std::optional<post_rec> find_post(const std::string& id) const;

  // ---- timing (benchmarks) -------------------------------------------------------
  struct bot_post {
    post_rec post;                                   // as created (cards, threaded replies, DMs)
    std::chrono::steady_clock::time_point received;  // when the fake read the bot's POST posts
    // A threaded reply to a post_as post: `received` minus the first write of that post's
    // "posted" event (nullopt for a root post or a DM, or when the event was never written).
    std::optional<std::chrono::nanoseconds> latency;
  };
  // Pops the oldest post the bot created through POST posts and not popped yet, waiting up
  // to `timeout` (nullopt: none came). Every bot post is queued from the start; tests that
  // never pop only pay its memory.
  std::optional<bot_post> next_bot_post(std::chrono::milliseconds timeout);
  // When the "posted" event of post_as's post `post_id` was first written to a bot link (just
  // before the write began); nullopt while it is queued, or when the bot is not in the channel.
  std::optional<std::chrono::steady_clock::time_point> event_written_at(const std::string& post_id) const;

  // ---- interactive messages ------------------------------------------------------
  struct action_result {
    int status = 0;                 // the bot's HTTP status (0: no answer)
    std::string body;               // raw
    std::string ephemeral_text;     // shown to the clicker only
    bool updated = false;           // an "update" was applied to the post
    std::string error;              // what the user would see when it failed
  };
  // A click by `user_id` on button `action_id` of post `post_id` (as the server does it;
  // synchronous, from the calling thread: do not call it from the bot's own thread).
  // Error in .error when there is no such post/button.
  action_result click(const std::string& user_id, const std::string& post_id, const std::string& action_id);
  struct dialog {
    std::string user_id, url, callback_id, state, title, trigger_id;
    boost::json::value elements;
    std::string channel_id;         // where the click that made the trigger happened
    std::string submit_label;
  };
  // Pops the oldest dialog opened for `user_id` (dialogs/open accepted), waiting for one.
  std::optional<dialog> wait_dialog(const std::string& user_id, std::chrono::milliseconds timeout);
  // Submits `d` as the server does (POST to d.url). An answer with "errors" or "error"
  // keeps the dialog open: it is queued again for wait_dialog, and .error says why.
  action_result submit_dialog(const dialog& d, const std::vector<std::pair<std::string, std::string>>& values,
                              bool cancelled = false);
  // The body of the last request the fake itself sent to an integration URL (a click or a
  // dialog submission), "" before any: what a replay attack would resend.
  std::string last_action_request() const;
  // Any body to any URL (http://127.0.0.1 or localhost only), as an attacker on the bot's
  // HTTP listener would send it.
  static action_result raw_post(const std::string& url, const std::string& body);

  // ---- links and faults -------------------------------------------------------------
  int connections() const;          // open authenticated websocket links
  int hellos() const;               // hellos sent (fresh connection IDs)
  int resumes() const;              // reconnects served from the kept connection (no hello)
  bool wait_connected(int hellos_plus_resumes_total, std::chrono::milliseconds timeout) const;
  void drop_links();                // abrupt TCP close; the connection IDs stay (inactive)
  void close_links(std::uint16_t code);  // close frames; the connection IDs stay (inactive)
  void forget_connections();        // a server restart: every link dropped, every connection ID and queue gone
  void zombie(bool on);             // on: no reply to pings (frames or actions), no events written, no
                                    // server pings (socket stays open); off: what queued is written
  void refuse_connections(bool on); // on: upgrades get 503 (server down); REST still works
  void send_raw(const std::string& frame);  // to every open link
  // The next `count` REST requests whose path (relative to /api/v4, e.g. "/posts") starts
  // with prefix get 429 with the headers above and reset `seconds`. Any request before the
  // reset has passed gets 429 again and is a protocol error (unless it arrives within 100 ms of
  // the 429: then it was on its way on another connection before the client could read it).
  void rate_limit_next(const std::string& prefix, int seconds, int count = 1);
  void fail_next(const std::string& prefix, unsigned status, int count = 1);  // an error body
  // The only token accepted from now on (REST, upgrades, challenges); links already
  // authenticated stay up.
  void set_token(const std::string& token);

  struct api_call {
    std::string method, path, query;  // path relative to /api/v4
    boost::json::value body;          // null when none or not JSON
    std::string authorization;        // tests must never print it
    unsigned status = 0;
    std::chrono::steady_clock::time_point at;
  };
  std::vector<api_call> calls(const std::string& path_prefix = "") const;
  bool wait_calls(const std::string& path_prefix, std::size_t n, std::chrono::milliseconds timeout) const;
  std::vector<std::string> protocol_errors() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace signoff::test
