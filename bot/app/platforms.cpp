#include "bot/app/platforms.hpp"

#include <spdlog/spdlog.h>

#include "bot/adapters/discord.hpp"
#include "bot/adapters/mattermost.hpp"
#include "bot/adapters/slack.hpp"

namespace signoff::app {
namespace {

std::optional<adapters::slack_secrets> slack_secrets(const conf::slack_section& sc, spdlog::logger& log) {
  std::string problem;
  auto app = conf::read_secret_value(sc.app_token, "slack.app_token", problem);
  if (!app) return log.error("{}", problem), std::nullopt;
  auto bot = conf::read_secret_value(sc.bot_token, "slack.bot_token", problem);
  if (!bot) return log.error("{}", problem), std::nullopt;
  if (app->rfind("xapp-", 0) != 0)
    return log.error("slack.app_token: not an app-level token (Slack app tokens start with xapp-)"), std::nullopt;
  if (bot->rfind("xoxb-", 0) != 0)
    return log.error("slack.bot_token: not a bot token (Slack bot tokens start with xoxb-)"), std::nullopt;
  return adapters::slack_secrets{*app, *bot};
}

std::optional<adapters::discord_secrets> discord_secrets(const conf::discord_section& dc, spdlog::logger& log) {
  std::string problem;
  auto token = conf::read_secret_value(dc.token, "discord.token", problem);
  if (!token) return log.error("{}", problem), std::nullopt;
  // The Developer Portal shows the bare token; "Bot " belongs to the HTTP
  // header, which the adapter adds.
  if (token->rfind("Bot ", 0) == 0 || token->rfind("Bearer ", 0) == 0)
    return log.error("discord.token: give the bare bot token, without the \"Bot \" prefix"), std::nullopt;
  if (token->find_first_of(" \t\r\n") != std::string::npos)
    return log.error("discord.token: a bot token holds no spaces or line breaks"), std::nullopt;
  return adapters::discord_secrets{*token};
}

std::optional<adapters::mattermost_secrets> mattermost_secrets(const conf::mattermost_section& mc,
                                                               spdlog::logger& log) {
  std::string problem;
  auto token = conf::read_secret_value(mc.token, "mattermost.token", problem);
  if (!token) return log.error("{}", problem), std::nullopt;
  if (token->rfind("Bearer ", 0) == 0)
    return log.error("mattermost.token: give the bare access token, without \"Bearer \""), std::nullopt;
  if (token->find_first_of(" \t\r\n") != std::string::npos)
    return log.error("mattermost.token: an access token holds no spaces or line breaks"), std::nullopt;
  adapters::mattermost_secrets out{*token, {}};
  if (!mc.actions_url.empty()) {
    auto secret = conf::read_secret_value(conf::secret_ref{mc.actions_secret_file, {}}, "mattermost.actions_secret",
                                          problem);
    if (!secret) return log.error("{}", problem), std::nullopt;
    // The key of the buttons' HMAC: guessable means forgeable.
    if (secret->size() < 16)
      return log.error("mattermost.actions_secret_file: the secret is too short (at least 16 characters; "
                       "`openssl rand -hex 32` makes a good one)"),
             std::nullopt;
    out.actions_secret = *secret;
  }
  return out;
}

template <class Adapter, class Secrets>
platform_plan plan_for(platform on, std::shared_ptr<const conf::config> shared, Secrets s) {
  return {on, [shared, s = std::move(s)](boost::asio::any_io_executor io, runtime::command_pipeline& pipe) {
            return std::unique_ptr<runtime::adapter>(std::make_unique<Adapter>(io, shared, pipe, s));
          }};
}

}  // namespace

std::optional<std::vector<platform_plan>> plan_platforms(std::shared_ptr<const conf::config> shared,
                                                         spdlog::logger& log) {
  const conf::config& cfg = *shared;
  if (!cfg.slack && !cfg.discord && !cfg.mattermost) {
    log.error("no network platform is configured (add a [slack], [discord] or [mattermost] section); use "
              "`signoff shell` for the terminal");
    return std::nullopt;
  }

  // Every secret is read before any adapter starts: one bad token refuses
  // the start, naming its key, rather than leaving a platform half up.
  std::vector<platform_plan> plans;
  if (cfg.slack) {
    auto secrets = slack_secrets(*cfg.slack, log);
    if (!secrets) return std::nullopt;
    plans.push_back(plan_for<adapters::slack_adapter>(platform::slack, shared, std::move(*secrets)));
  }
  if (cfg.discord) {
    auto secrets = discord_secrets(*cfg.discord, log);
    if (!secrets) return std::nullopt;
    plans.push_back(plan_for<adapters::discord_adapter>(platform::discord, shared, std::move(*secrets)));
  }
  if (cfg.mattermost) {
    auto secrets = mattermost_secrets(*cfg.mattermost, log);
    if (!secrets) return std::nullopt;
    plans.push_back(plan_for<adapters::mattermost_adapter>(platform::mattermost, shared, std::move(*secrets)));
  }
  return plans;
}

}  // namespace signoff::app
