#pragma once
// Shared by codec.cpp and blocks.cpp only: the button value / modal metadata
// formats, written in one place so the writer and the reader cannot drift.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace signoff::slack::detail {

struct draft_rev {
  std::int64_t draft = 0, rev = 0;
  std::string id() const { return "D-" + std::to_string(draft); }               // "D-12"
  std::string value() const { return id() + "@" + std::to_string(rev); }         // "D-12@3"
};

// "D-<digits>@<digits>" with both numbers >= 1 (at most 18 digits each, so
// they fit in int64). Anything else: nullopt.
std::optional<draft_rev> parse_draft_rev(std::string_view s);

// The Ack button's value on a page's direct message: "E-<digits>", n >= 1
// (at most 18 digits). Anything else: nullopt.
std::optional<std::int64_t> parse_escalation_id(std::string_view s);
std::string escalation_value(std::int64_t n);  // "E-4"

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
