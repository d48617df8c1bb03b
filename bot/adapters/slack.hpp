#pragma once
// The Slack adapter: Socket Mode links driven by slack::session, commands
// executed in grouped durable commits and acked only after the commit, the
// outbox delivered with chat.postMessage / chat.update paced per channel,
// and late confirmations of commands whose ack a crash lost.
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

struct slack_secrets {
  std::string app_token;  // xapp-…: apps.connections.open only
  std::string bot_token;  // xoxb-…: every other Web API call
};

struct slack_counters {
  std::uint64_t envelopes = 0, acks = 0, malformed_frames = 0;
  std::uint64_t disconnects = 0;  // links opened and failed: runtime::link_driver counts them
  std::uint64_t api_calls = 0, api_errors = 0, rate_limited = 0;
  std::uint64_t late_confirmations = 0;
};

class slack_adapter final : public runtime::adapter {
 public:
  // `pipe` outlives the adapter. Every database operation goes through
  // `pipe`: the adapter sees neither the executor nor the store.
  slack_adapter(boost::asio::any_io_executor ex, std::shared_ptr<const conf::config> cfg,
                signoff::runtime::command_pipeline& pipe, slack_secrets secrets);
  ~slack_adapter() override;
  slack_adapter(const slack_adapter&) = delete;
  slack_adapter& operator=(const slack_adapter&) = delete;

  std::string_view name() const override { return "slack"; }
  // Throws std::runtime_error when [slack] api_base / ca_file are unusable.
  void start() override;
  // SIGTERM: answer the commands already read, close the links with 1000,
  // stop delivering (queued posts stay in the outbox for the next start).
  // `done` is called once everything has ended.
  void stop(std::function<void()> done) override;
  // New posts may be in the outbox (after a timer action).
  void posts_enqueued() override;
  // state: "connecting", "connected", "degraded", "disabled", "stopped";
  // extra: links, detail.
  runtime::adapter_status status() const override;
  // signoff_slack_*.
  void metrics(runtime::metrics_text& out) const override;
  // Reloaded people and limits (the [slack] section stays as started).
  void reconfigure(std::shared_ptr<const conf::config> cfg) override;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace signoff::adapters
