#pragma once
// The Discord adapter: one Gateway v10 link driven by discord::gateway
// (heartbeats, identify, resume), application commands registered at start
// by bulk overwrite, INTERACTION_CREATE executed through the command pipeline
// and answered by the interaction callback once durable (deferred when the
// commit takes too long, then the original response is edited), the outbox
// delivered by REST within Discord's per-bucket rate limits, and late
// confirmations through the follow-up webhook.
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

struct discord_secrets {
  std::string token;  // the bot token: "Authorization: Bot <token>" and Identify
};

struct discord_counters {
  std::uint64_t interactions = 0, malformed_frames = 0, malformed_interactions = 0;
  std::uint64_t replays = 0;  // interactions this process had taken already (replayed after a resume)
  std::uint64_t callbacks = 0, deferred = 0, callback_failures = 0;
  std::uint64_t api_calls = 0, api_errors = 0, rate_limited = 0;
  std::uint64_t late_confirmations = 0;
  std::uint64_t commands_registered = 0;  // successful bulk overwrites
};

class discord_adapter final : public runtime::adapter {
 public:
  // `pipe` outlives the adapter; every database operation goes through it.
  discord_adapter(boost::asio::any_io_executor ex, std::shared_ptr<const conf::config> cfg,
                  signoff::runtime::command_pipeline& pipe, discord_secrets secrets);
  ~discord_adapter() override;
  discord_adapter(const discord_adapter&) = delete;
  discord_adapter& operator=(const discord_adapter&) = delete;

  std::string_view name() const override { return "discord"; }
  // Throws std::runtime_error when [discord] api_base / ca_file are unusable.
  void start() override;
  // SIGTERM: answer the interactions already read, close the link with
  // 1000, stop delivering; `done` once everything has ended.
  void stop(std::function<void()> done) override;
  void posts_enqueued() override;
  // state: "connecting", "connected", "degraded", "disabled" (a close code
  // that must not be retried, or a refused token), "stopped"; extra: links,
  // session (resumable or not), detail.
  runtime::adapter_status status() const override;
  // signoff_discord_*.
  void metrics(runtime::metrics_text& out) const override;
  void reconfigure(std::shared_ptr<const conf::config> cfg) override;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace signoff::adapters
