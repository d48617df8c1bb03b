#pragma once
// Slack identities: the actor of a command, and mentions in posts. Pure, and
// free of the config: the executor resolves people, and mentions arrive
// resolved to Slack user IDs in the outbox post.
#include <string>
#include <string_view>
#include <vector>

#include "bot/core/types.hpp"
#include "bot/protocol/slack/codec.hpp"
#include "bot/core/records.hpp"

namespace signoff::slack {

// The actor of a command from Slack (person left for the executor to
// resolve from the Slack user ID; audited as `unknown:<user_id>` when no
// person has it, SPEC "Audit store").
actor actor_for(const origin& from, std::string_view envelope_id);

// Slack mrkdwn for a post that pages people: the text escaped
// (escape_mrkdwn), with each "@id" of a listed person who has a Slack ID
// replaced by a mention "<@U…>", so the paged people are notified. Only
// whole tokens are replaced ("@bob" but not "@bobby"); people without a Slack
// ID keep "@id". These are the only mentions: a "<@U…>" in the text itself
// is escaped like any other text. Send it with mrkdwn_message.
std::string render_mentions(std::string_view text, const std::vector<mention>& people);

}  // namespace signoff::slack
