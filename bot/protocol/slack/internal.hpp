#pragma once
// Shared by codec.cpp and blocks.cpp only: the modal metadata format (and
// the button values of bot/core/ids.hpp), written in one place so the writer
// and the reader cannot drift.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bot/core/ids.hpp"

namespace signoff::slack::detail {

// The button values: one format for every platform (bot/core/ids.hpp).
using signoff::draft_rev;
using signoff::parse_draft_rev;
using signoff::parse_escalation_id;
using signoff::escalation_value;

// The Reject modal's private_metadata: "D-n@R|CHANNEL" (the channel the
// outcome is posted to as an ephemeral reply; '' when the card had none).
// Slack returns it unchanged in view_submission; max 3000 characters.
std::string reject_metadata(std::string_view draft_id, std::int64_t rev, std::string_view channel_id);
struct reject_target {
  draft_rev dr;
  std::string channel_id;
};
std::optional<reject_target> parse_reject_metadata(std::string_view s);

}  // namespace signoff::slack::detail
