#pragma once
// The Mattermost adapter: one websocket link to {url}/api/v4/websocket
// driven by mattermost::session (authentication, seq/seq_reply, pings,
// resume by connection_id and sequence_number), `posted` events whose
// message starts with the trigger executed through the command pipeline and
// answered once durable (threaded under the command, or by direct message
// for read-only commands), a catch-up on the posts made while the event
// stream was lost, the outbox delivered by REST (posts, patches in place,
// DMs) within Mattermost's rate limits, and, when [mattermost] actions_url
// is set, Approve/Reject/Ack buttons whose clicks arrive on
// POST /mattermost/actions with an HMAC tag that is checked.
// Everything runs on one executor (one io_context thread); not thread-safe.
#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "bot/runtime/adapter.hpp"
#include "config/config.hpp"

namespace signoff::runtime {
class command_pipeline;
}

namespace signoff::adapters {

struct mattermost_secrets {
  std::string token;           // the bot account's access token: "Authorization: Bearer <token>"
  std::string actions_secret;  // HMAC key of the buttons ('' when actions_url is not set)
};

struct mattermost_counters {
  std::uint64_t events = 0, malformed_frames = 0, malformed_posts = 0;
  std::uint64_t commands = 0, ignored_posts = 0;
  std::uint64_t replays = 0;  // a post executed before (a resume replay, a catch-up overlap)
  std::uint64_t replies = 0, reply_failures = 0;
  std::uint64_t catch_ups = 0, caught_up = 0;  // catch-up runs, commands found by them
  std::uint64_t clicks = 0, clicks_refused = 0, dialogs = 0, dialog_submissions = 0;
  std::uint64_t api_calls = 0, api_errors = 0, rate_limited = 0;
  std::uint64_t late_confirmations = 0;
};

class mattermost_adapter final : public runtime::adapter {
 public:
  // `pipe` outlives the adapter; every database operation goes through it.
  mattermost_adapter(boost::asio::any_io_executor ex, std::shared_ptr<const conf::config> cfg,
                     signoff::runtime::command_pipeline& pipe, mattermost_secrets secrets);
  ~mattermost_adapter() override;
  mattermost_adapter(const mattermost_adapter&) = delete;
  mattermost_adapter& operator=(const mattermost_adapter&) = delete;

  std::string_view name() const override { return "mattermost"; }
  // Throws std::runtime_error when [mattermost] url / ca_file are unusable.
  void start() override;
  void stop(std::function<void()> done) override;
  void posts_enqueued() override;
  // state: "connecting", "connected", "degraded", "disabled" (the token is
  // refused), "stopped"; extra: links, connection (resumable or not), detail.
  runtime::adapter_status status() const override;
  // signoff_mattermost_*.
  void metrics(runtime::metrics_text& out) const override;
  void reconfigure(std::shared_ptr<const conf::config> cfg) override;
  // POST /mattermost/actions, when actions_url is set.
  void serve_http(net::http_server& http) override;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace signoff::adapters
