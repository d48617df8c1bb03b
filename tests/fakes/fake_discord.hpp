#pragma once
// A loopback fake of Discord for tests and benchmarks: the Gateway (v10,
// JSON encoding) and the REST API under /api/v10/ on one TLS port with the
// throw-away test CA (tests/support/test_pki.hpp), following Discord's
// documentation (docs.discord.com/developers): Gateway, Gateway Events,
// Opcodes and Status Codes, Interactions (Receiving and Responding), Message
// Components, Rate Limits, Channel Create/Edit Message, User Create DM,
// Application Commands Bulk Overwrite.
//
// It runs on tests/fakes/fake_server (its own io thread); every public method
// is thread-safe and may be called from the test thread. What the bot does
// wrong (a protocol rule broken, a bucket exceeded, a late or second
// interaction callback) is answered as Discord would and also recorded in
// protocol_errors(), which tests assert stays empty.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace signoff::test {

class fake_discord {
 public:
  struct options {
    std::string cert_pem, key_pem;                               // default test_pki()
    std::string token = "FAKE.discord-bot-token.0123456789";     // REST: "Authorization: Bot <token>"
    std::string application_id = "1100000000000000001", bot_user_id = "1100000000000000001";
    std::string guild_id = "1200000000000000001";
    std::chrono::milliseconds heartbeat_interval{41250};
    std::chrono::milliseconds interaction_deadline{3000};  // initial callback within 3 s, else 404 10062
    std::chrono::minutes token_lifetime{15};               // interaction webhooks valid 15 min
    int session_start_total = 1000, session_start_remaining = 1000, max_concurrency = 1;
    std::size_t max_frame = 4096;                          // larger client frames -> close 4002
    int bucket_limit = 5;                                  // per channel (and per other major parameter) ...
    std::chrono::milliseconds bucket_window{5000};         // ... per this window
  };

  fake_discord();  // default options
  explicit fake_discord(options o);
  ~fake_discord();  // closes every connection and stops the thread
  fake_discord(const fake_discord&) = delete;
  fake_discord& operator=(const fake_discord&) = delete;

  std::uint16_t port() const;
  // "https://localhost:PORT/api/v10/": what `[discord] api_base` is set to.
  std::string api_base() const;

  // ---- gateway ------------------------------------------------------------
  // GET gateway/bot answers {"url":"wss://localhost:PORT","shards":1,
  // "session_start_limit":{...}}; the bot connects to url + "/?v=10&encoding=json"
  // (another v: close 4012; another encoding or compression: HTTP 400). READY
  // carries resume_gateway_url "wss://localhost:PORT/resume", a distinct path
  // so tests see which URL a connection used.
  int connections() const;  // open gateway links (neither closed nor closing)
  int identifies() const;   // Identify payloads accepted (sessions started)
  int resumes() const;      // Resume payloads answered with a replay + RESUMED
  // True once READY + RESUMED dispatches sent total at least `sessions_ready_total`.
  bool wait_ready(int sessions_ready_total, std::chrono::milliseconds timeout) const;

  // ---- interactions -------------------------------------------------------
  // Each sends an INTERACTION_CREATE dispatch with a fresh snowflake ID and
  // token and returns the interaction ID. Dispatches go to the current
  // session (the last one identified); without one they wait for its READY.
  // A guild interaction carries guild_id and member.user, a DM one user.
  // Type 2: `opts` is data.options as Discord sends them (a subcommand is
  // an option of type 1 with its own options).
  std::string command(const std::string& user_id, const std::string& channel_id, const std::string& name,
                      boost::json::array opts, bool in_dm = false);
  // Type 3: a button click on message `message_id` (the message object is
  // included as Discord does, from messages() when it is one of ours).
  std::string button(const std::string& user_id, const std::string& channel_id,
                     const std::string& message_id, const std::string& custom_id, bool in_dm = false);
  // Type 5: a modal submitted with text inputs custom_id -> value.
  std::string modal_submit(const std::string& user_id, const std::string& channel_id,
                           const std::string& custom_id,
                           const std::vector<std::pair<std::string, std::string>>& values);

  struct response {
    std::string interaction_id;
    int type = 0;                  // the callback type: 4 message, 5 deferred, 6/7 component, 9 modal
    boost::json::object data;      // the callback's data
    std::string content;           // final content: type 4's (or 7's), or the PATCH @original after a 5/6
    bool ephemeral = false;        // flags & 64 of the callback data
    std::vector<boost::json::object> followups;  // POST webhooks/{app}/{token} bodies
    std::chrono::nanoseconds latency{};          // dispatch written -> callback read
    bool late = false;             // after interaction_deadline (refused with 404 10062)
    bool edited = false;           // PATCH @original applied
  };
  // Waits for a final answer: a callback of type 4, 7 or 9, or 5/6 followed
  // by PATCH @original.
  std::optional<response> wait_response(const std::string& interaction_id, std::chrono::milliseconds timeout) const;
  // Pops the oldest final answer not popped yet (benchmarks: windowed driving).
  std::optional<response> next_response(std::chrono::milliseconds timeout);
  // The interaction token of `interaction_id` ("" when unknown).
  std::string token_of(const std::string& interaction_id) const;
  std::vector<std::string> protocol_errors() const;

  // ---- faults -------------------------------------------------------------
  void drop_links();                            // abrupt TCP close, no close frame
  void close_links(std::uint16_t code);         // close frame with this code (sessions stay resumable)
  void send_reconnect();                        // op 7 on every identified link
  void invalid_session(bool resumable);         // op 9 d=resumable; false also forgets the sessions
  void zombie(bool on);                         // on: heartbeats are no longer acknowledged
  void send_raw(const std::string& frame);      // to every open link
  // On the next Resume, send the last n dispatches again even if the
  // client's seq says it has them (Discord's at-least-once delivery).
  void replay_on_next_resume(int n);
  // The next `count` requests whose path (relative to /api/v10, e.g.
  // "/channels/") starts with `route_prefix` get 429 with the rate-limit
  // headers, Retry-After and {"message":"You are being rate limited.",
  // "retry_after":R,"global":G}. A request in that bucket (or any, when
  // global) before retry_after has passed is a protocol error.
  void rate_limit_next(const std::string& route_prefix, double retry_after, bool global, int count = 1);
  // The next request on `route_prefix` fails with `status` and {"code":code,"message":message}.
  void fail_next(const std::string& route_prefix, unsigned status, int code, const std::string& msg);
  // GET gateway/bot waits `delay`, and answers `status` (not 200: an error body).
  void set_gateway_bot(std::chrono::milliseconds delay, unsigned status = 200);
  void set_session_start(int remaining, std::chrono::milliseconds reset_after);

  // ---- what the bot did over REST -------------------------------------------
  struct api_call {
    std::string method, path;        // path relative to /api/v10, e.g. "/channels/1/messages"
    boost::json::value body;         // the JSON body (null when none or not JSON)
    std::string authorization, user_agent;  // as sent (tests must not print authorization)
    unsigned status = 200;           // what the fake answered
    std::chrono::steady_clock::time_point at;
  };
  std::vector<api_call> calls(const std::string& path_prefix = "") const;
  bool wait_calls(const std::string& path_prefix, std::size_t n, std::chrono::milliseconds timeout) const;
  struct message {
    std::string channel_id, id, content;
    boost::json::value embeds, components;  // as last posted or edited
    int edits = 0;
  };
  // Messages created by POST channels/{id}/messages (and their edits:
  // PATCH, and component callbacks 6 + @original / 7 on them).
  std::vector<message> messages(const std::string& channel_id = "") const;
  // POST users/@me/channels {recipient_id} answers {"id": dm_channel_of(user), "type": 1, ...}.
  static std::string dm_channel_of(const std::string& user_id);
  // The commands of the last bulk overwrite ("" = global), with their IDs; null before any.
  boost::json::value registered_commands(const std::string& guild_id = "") const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace signoff::test
