#include "bot/app/platforms.hpp"

#include <spdlog/spdlog.h>

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

}  // namespace

std::optional<std::vector<platform_plan>> plan_platforms(std::shared_ptr<const conf::config> shared,
                                                         spdlog::logger& log) {
  const conf::config& cfg = *shared;
  if (!cfg.slack) {
    log.error("no network platform is configured (add a [slack] section); use `signoff shell` for the terminal");
    return std::nullopt;
  }
  if (cfg.discord) log.warn("[discord] is configured but this build has no Discord adapter yet; ignoring it");
  if (cfg.mattermost)
    log.warn("[mattermost] is configured but this build has no Mattermost adapter yet; ignoring it");

  std::vector<platform_plan> plans;
  auto secrets = slack_secrets(*cfg.slack, log);
  if (!secrets) return std::nullopt;
  plans.push_back({platform::slack, [shared, s = std::move(*secrets)](boost::asio::any_io_executor io,
                                                             runtime::command_pipeline& pipe) {
                     return std::unique_ptr<runtime::adapter>(
                         std::make_unique<adapters::slack_adapter>(io, shared, pipe, s));
                   }});
  return plans;
}

}  // namespace signoff::app
