// Block Kit: approval cards, plain posts and the Reject modal
// (https://api.slack.com/reference/block-kit). Limits counted in code points
// on the text as sent (escaped), so a cut never exceeds what Slack accepts.
#include <algorithm>

#include "bot/core/text.hpp"
#include "bot/protocol/slack/codec.hpp"
#include "bot/protocol/slack/internal.hpp"

namespace signoff::slack {
namespace json = boost::json;

namespace {

constexpr std::size_t modal_title_max = 24;
constexpr std::size_t input_max_length = 3000;

json::object plain_text(std::string_view text) { return {{"type", "plain_text"}, {"text", text}}; }

// verbatim: Slack leaves URLs and names as written (no auto-linking), which
// is what an approver must see of a draft.
json::object mrkdwn_section(std::string_view escaped) {
  return {{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", escaped}, {"verbatim", true}}}};
}

json::object button(std::string_view label, std::string_view style, std::string_view action_id,
                    std::string_view value) {
  return {{"type", "button"}, {"text", plain_text(label)}, {"style", style},
          {"action_id", action_id}, {"value", value}};
}

}  // namespace

// Every '&', '<' and '>': mentions are put in afterwards, where signoff means
// them (render_mentions), never read back out of text.
std::string escape_mrkdwn(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string cut_text(std::string_view text, std::size_t max_chars, std::string_view draft_id) {
  return cut_with_pointer(text, max_chars, draft_id, false);
}

json::object card_message(const approval_card& card) {
  const std::string_view draft_id = card.draft;
  std::string head = card.headline + "\n" + card.status;
  auto join = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& x : v) out += (out.empty() ? "" : ", ") + x;
    return out;
  };
  if (!card.targets.empty()) head += "\nTargets: " + join(card.targets);
  head += "\nAuthors: " + join(card.authors);
  const auto escaped_head = cut_with_pointer(escape_mrkdwn(head), section_text_max, draft_id, true);
  json::array blocks;
  blocks.push_back(mrkdwn_section(escaped_head));
  if (!card.body.empty()) {
    blocks.push_back(json::object{{"type", "divider"}});
    blocks.push_back(mrkdwn_section(cut_with_pointer(escape_mrkdwn(card.body), section_text_max, draft_id, true)));
  }
  if (card.approve_rev) {
    const auto value = card.draft + "@" + std::to_string(*card.approve_rev);
    const auto hint = "/approve " + value + " [NOTE]  |  /reject " + value + " REASON";
    blocks.push_back(json::object{
        {"type", "context"},
        {"elements", json::array{{{"type", "mrkdwn"}, {"text", cut_with_pointer(escape_mrkdwn(hint), section_text_max, draft_id, true)}}}}});
    blocks.push_back(json::object{
        {"type", "actions"},
        {"block_id", "signoff_decide"},
        {"elements", json::array{button("Approve", "primary", approve_action, value),
                                 button("Reject", "danger", reject_action, value)}}});
  }
  // The fallback shows in notifications and in clients without blocks.
  return {{"text", escaped_head}, {"blocks", std::move(blocks)}};
}

json::object page_dm_message(std::string_view text, std::string_view escalation) {
  const auto escaped = cut_with_pointer(escape_mrkdwn(text), section_text_max, {}, true);
  json::array blocks;
  blocks.push_back(mrkdwn_section(escaped));
  // The button is built from the post's subject (a value), and only for a
  // well-formed escalation ID, which interpret() reads back the same way.
  if (auto n = detail::parse_escalation_id(escalation))
    blocks.push_back(json::object{
        {"type", "actions"},
        {"block_id", "signoff_ack"},
        {"elements", json::array{button("Ack", "primary", ack_action, detail::escalation_value(*n))}}});
  return {{"text", escaped}, {"blocks", std::move(blocks)}};
}

json::object plain_message(std::string_view text) { return mrkdwn_message(escape_mrkdwn(text)); }

json::object mrkdwn_message(std::string_view mrkdwn) {
  return {{"text", cut_with_pointer(mrkdwn, message_text_max, {}, true)}};
}

json::object reject_modal(std::string_view trigger_id, std::string_view draft_id, std::int64_t rev,
                          std::string_view channel_id, std::size_t max_reason) {
  auto title = "Reject " + std::string(draft_id);
  title.resize(prefix_bytes(title, modal_title_max));
  auto max_length = static_cast<std::int64_t>(std::clamp<std::size_t>(max_reason, 1, input_max_length));
  json::object input{
      {"type", "input"},
      {"block_id", reason_block},
      {"label", plain_text("Reason (required, recorded in the audit log)")},
      {"element", {{"type", "plain_text_input"}, {"action_id", reason_input}, {"multiline", true},
                   {"max_length", max_length}}}};
  json::object intro =
      mrkdwn_section("Rejecting *" + escape_mrkdwn(draft_id) + "* revision " + std::to_string(rev) + ".");
  json::object view{
      {"type", "modal"},
      {"callback_id", reject_callback},
      {"private_metadata", detail::reject_metadata(draft_id, rev, channel_id)},
      {"title", plain_text(title)},
      {"submit", plain_text("Reject")},
      {"close", plain_text("Cancel")},
      {"blocks", json::array{std::move(intro), std::move(input)}}};
  return {{"trigger_id", trigger_id}, {"view", std::move(view)}};
}

}  // namespace signoff::slack
