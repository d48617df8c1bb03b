#include "bot/protocol/slack/identity.hpp"

#include "bot/core/mentions.hpp"

namespace signoff::slack {

actor actor_for(const origin& from, std::string_view envelope_id) {
  actor a;
  a.platform = platform::slack;
  a.workspace = from.team_id;
  a.channel = from.channel_id;
  a.platform_user = from.user_id;
  a.envelope = std::string(envelope_id);
  return a;
}

std::string render_mentions(std::string_view text, const std::vector<mention>& people) {
  return signoff::render_mentions(
      text, people, [](std::string_view plain) { return escape_mrkdwn(plain); },
      [](const mention& m) { return "<@" + m.platform_id + ">"; });
}

}  // namespace signoff::slack
