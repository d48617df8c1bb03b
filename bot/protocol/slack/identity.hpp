#pragma once
// Slack identities <-> signoff people. Pure (config lookups only).
#include <string>
#include <string_view>
#include <vector>

#include "bot/core/types.hpp"
#include "bot/protocol/slack/codec.hpp"
#include "config/config.hpp"

namespace signoff::slack {

// The actor for a command from Slack: the config person whose `slack` ID is
// the user, or none (audited as `unknown:<user_id>`, SPEC "Audit store").
actor actor_for(const origin& from, const conf::config& cfg, std::string_view envelope_id);

// Slack mrkdwn for a post that pages people: the text escaped
// (escape_mrkdwn), with each "@id" of a listed person who has a Slack ID
// replaced by a mention "<@U…>", so the paged people are notified. Only
// whole tokens are replaced ("@bob" but not "@bobby"); people without a Slack
// ID keep "@id". These are the only mentions: a "<@U…>" in the text itself
// is escaped like any other text. Send it with mrkdwn_message.
std::string render_mentions(std::string_view text, const std::vector<std::string>& people,
                            const conf::config& cfg);

}  // namespace signoff::slack
