// Interaction callbacks, webhook and channel message bodies, REST paths and
// error bodies (Discord "Receiving and Responding", "Channel", "Message
// Components"). Limits and the no-ping rule are in codec.hpp's comment.
#include <boost/json/parse.hpp>

#include <algorithm>
#include <limits>

#include "bot/core/ids.hpp"
#include "bot/core/mentions.hpp"
#include "bot/core/text.hpp"
#include "bot/protocol/discord/codec.hpp"
#include "bot/protocol/json_read.hpp"

namespace signoff::discord {
namespace json = boost::json;
using json_read::field;
using json_read::text_of;
using json_read::whole_of;

namespace {

constexpr int ephemeral_flag = 64;  // EPHEMERAL: only the user who invoked sees it
constexpr std::size_t footer_max = 2048;
constexpr std::size_t max_mentioned_users = 100;

json::object no_pings() { return json::object{{"parse", json::array{}}}; }

json::object content(std::string_view text) {
  return json::object{{"content", cut_with_pointer(text, content_max, {})}, {"allowed_mentions", no_pings()}};
}

// A button (type 2). style 1 primary, 3 success, 4 danger.
json::object button(int style, std::string_view label, std::string_view custom_id) {
  return json::object{{"type", 2}, {"style", style}, {"label", label}, {"custom_id", custom_id}};
}
json::array action_row(json::array buttons) {
  return json::array{json::object{{"type", 1}, {"components", std::move(buttons)}}};
}

bool snowflake(std::string_view id) {
  return !id.empty() && id.size() <= 20 && std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

json::object callback_reply(std::string_view text) {
  json::object data = content(text);
  data["flags"] = ephemeral_flag;
  return json::object{{"type", 4}, {"data", std::move(data)}};
}

json::object callback_deferred() {
  return json::object{{"type", 5}, {"data", json::object{{"flags", ephemeral_flag}}}};
}

json::object callback_reject_modal(std::string_view draft, std::int64_t rev, std::size_t max_reason) {
  std::string custom_id = std::string(reject_prefix) + std::string(draft) + "@" + std::to_string(rev);
  custom_id.resize(prefix_bytes(custom_id, custom_id_max));
  const auto title = cut_with_pointer("Reject " + std::string(draft) + " revision " + std::to_string(rev),
                                      modal_title_max, {});
  json::object input{{"type", 4},
                     {"custom_id", reason_input},
                     {"style", 2},  // paragraph
                     {"label", "Reason (recorded in the audit log)"},
                     {"min_length", 1},
                     {"max_length", static_cast<std::int64_t>(std::clamp<std::size_t>(max_reason, 1, text_input_max))},
                     {"required", true}};
  json::object data{{"custom_id", custom_id},
                    {"title", title},
                    {"components", action_row(json::array{std::move(input)})}};
  return json::object{{"type", 9}, {"data", std::move(data)}};
}

json::object webhook_message(std::string_view text, bool ephemeral) {
  json::object o = content(text);
  if (ephemeral) o["flags"] = ephemeral_flag;
  return o;
}

std::string callback_path(std::string_view interaction_id, std::string_view token) {
  return "interactions/" + std::string(interaction_id) + "/" + std::string(token) + "/callback";
}
std::string followup_path(std::string_view application_id, std::string_view token) {
  return "webhooks/" + std::string(application_id) + "/" + std::string(token);
}
std::string original_path(std::string_view application_id, std::string_view token) {
  return followup_path(application_id, token) + "/messages/@original";
}

json::object card_message(const approval_card& card) {
  std::string head = card.status;
  if (!card.targets.empty()) head += "\nTargets: " + join(card.targets);
  head += "\nAuthors: " + join(card.authors);
  if (!card.body.empty()) head += "\n\n" + card.body;
  const auto title = cut_with_pointer(card.headline, embed_title_max, card.draft);
  json::object embed{{"title", title}};
  json::array components;
  std::size_t footer_chars = 0;
  const auto dr = card.approve_rev ? parse_draft_rev(card.draft + "@" + std::to_string(*card.approve_rev))
                                   : std::nullopt;
  if (dr) {
    const auto value = dr->value();
    auto hint = cut_with_pointer("/approve " + value + " [NOTE]  |  /reject " + value + " REASON", footer_max, {});
    footer_chars = code_points(hint);
    embed["footer"] = json::object{{"text", std::move(hint)}};
    components = action_row(json::array{button(3, "Approve", std::string(approve_prefix) + value),
                                        button(4, "Reject", std::string(reject_prefix) + value)});
  }
  // The description takes what the 6000 of the whole embed leaves.
  const std::size_t room = embed_total_max - code_points(title) - footer_chars;
  embed["description"] = cut_with_pointer(head, std::min(embed_description_max, room), card.draft);
  return json::object{{"embeds", json::array{std::move(embed)}},
                      {"components", std::move(components)},
                      {"allowed_mentions", no_pings()}};
}

json::object page_dm_message(std::string_view text, std::string_view escalation) {
  json::object o = content(text);
  json::array components;
  if (auto n = parse_escalation_id(escalation))
    components = action_row(json::array{button(1, "Ack", std::string(ack_prefix) + escalation_value(*n))});
  o["components"] = std::move(components);
  return o;
}

json::object plain_message(std::string_view text) { return content(text); }

json::object mention_message(std::string_view text, const std::vector<mention>& people) {
  json::array users;
  auto rendered = signoff::render_mentions(
      text, people, [](std::string_view plain) { return std::string(plain); },
      [&](const mention& m) {
        if (!snowflake(m.platform_id)) return "@" + m.person;  // not a Discord user ID: no tag
        if (std::find(users.begin(), users.end(), json::value(m.platform_id)) == users.end() &&
            users.size() < max_mentioned_users)
          users.push_back(json::value(m.platform_id));
        return "<@" + m.platform_id + ">";
      });
  // keep_markup: a cut never leaves half a "<@ID>".
  return json::object{{"content", cut_with_pointer(rendered, content_max, {}, true)},
                      {"allowed_mentions", json::object{{"parse", json::array{}}, {"users", std::move(users)}}}};
}

json::object dm_channel_request(std::string_view user_id) { return json::object{{"recipient_id", user_id}}; }

std::optional<api_error> decode_api_error(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  auto code = whole_of(field(v, "code"), std::numeric_limits<int>::min(), std::numeric_limits<int>::max());
  auto message = text_of(field(v, "message"));
  if (!code && message.empty()) return std::nullopt;
  return api_error{static_cast<int>(code.value_or(0)), std::move(message)};
}

std::optional<std::string> object_id(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return std::nullopt;
  auto id = text_of(field(v, "id"));
  if (id.empty()) return std::nullopt;
  return id;
}

}  // namespace signoff::discord
