// Post bodies: plain posts, approval cards, pages, mentions (Mattermost
// "Message attachments" and "Interactive messages"). The no-ping rule and
// the cuts are in codec.hpp's comment.
#include <algorithm>

#include "bot/core/ids.hpp"
#include "bot/core/mentions.hpp"
#include "bot/core/text.hpp"
#include "bot/protocol/mattermost/codec.hpp"

namespace signoff::mattermost {
namespace json = boost::json;

namespace {

constexpr std::string_view zero_width_space = "\xE2\x80\x8B";
constexpr std::string_view cut_mark = "\xE2\x80\xA6 (cut";  // how cut_with_pointer's pointer begins

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '-';
}

// cut_with_pointer, and a cut that split a "@name" drops the name's head: a
// shorter name could be somebody else's.
std::string cut_message(std::string_view text, std::size_t max_chars, std::string_view draft) {
  std::string out = cut_with_pointer(text, max_chars, draft);
  if (out == text) return out;
  const auto mark = out.rfind(cut_mark);
  if (mark == std::string::npos || mark >= text.size()) return out;
  if (!name_char(text[mark])) return out;  // the cut fell between words
  std::size_t start = mark;
  while (start > 0 && name_char(out[start - 1])) --start;
  if (start > 0 && out[start - 1] == '@') out.erase(start - 1, mark - start + 1);
  return out;
}

// Mattermost usernames: lower-case letters, digits, '.', '_', '-'.
bool username_ok(std::string_view u) {
  return !u.empty() && u.size() <= 64 && std::all_of(u.begin(), u.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

// A button (Mattermost PostAction). The server keeps `integration` from
// clients; a click POSTs the context back to url.
json::object button(std::string_view id, std::string_view name, std::string_view style, std::string_view subject,
                    const button_style& s) {
  json::object context{{"action", id}, {"subject", subject}, {"tag", action_tag(s.secret, id, subject)}};
  return json::object{{"id", id},
                      {"type", "button"},
                      {"name", name},
                      {"style", style},
                      {"integration", json::object{{"url", s.actions_url}, {"context", std::move(context)}}}};
}

json::object field(std::string_view title, std::string_view value) {
  return json::object{{"short", true}, {"title", title}, {"value", value}};
}

std::string joined(const std::vector<std::string>& items) {
  std::vector<std::string> safe;
  safe.reserve(items.size());
  for (const auto& i : items) safe.push_back(neutralise_mentions(i));
  return join(safe);
}

// message + props of a card, for card_post and card_patch alike.
json::object card_body(const approval_card& c, const button_style& s) {
  const auto dr = c.approve_rev ? parse_draft_rev(c.draft + "@" + std::to_string(*c.approve_rev)) : std::nullopt;
  const bool buttons = dr && !s.actions_url.empty();
  std::string hint;
  if (dr && !buttons) {
    const auto value = dr->value();
    hint = "\nTo decide: `" + s.trigger + " approve " + value + "` or `" + s.trigger + " reject " + value +
           " REASON`";
  }
  std::string head = "**" + neutralise_mentions(c.headline) + "**\n" + neutralise_mentions(c.status);
  const std::size_t hint_chars = code_points(hint);
  std::string message = cut_message(head, message_max > hint_chars ? message_max - hint_chars : 0, c.draft) + hint;

  json::array fields;
  if (!c.targets.empty()) fields.push_back(field("Targets", joined(c.targets)));
  fields.push_back(field("Authors", joined(c.authors)));
  json::object attachment{{"fallback", cut_message(neutralise_mentions(c.headline + ": " + c.status), 300, c.draft)},
                          {"color", dr ? "#1C58D9" : "#8A8A8A"},
                          {"title", neutralise_mentions(c.draft)},
                          {"text", cut_message(neutralise_mentions(c.body), message_max, c.draft)},
                          {"fields", std::move(fields)}};
  json::array actions;
  if (buttons) {
    const auto value = dr->value();
    actions.push_back(button("approve", "Approve", "primary", value, s));
    actions.push_back(button("reject", "Reject", "danger", value, s));
  }
  attachment["actions"] = std::move(actions);  // [] on a decided card: a patch removes the buttons
  json::object props{{"attachments", json::array{std::move(attachment)}}};
  return json::object{{"message", std::move(message)}, {"props", std::move(props)}};
}

}  // namespace

std::string neutralise_mentions(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    out.push_back(text[i]);
    if (text[i] == '@' && i + 1 < text.size() && name_char(text[i + 1])) out += zero_width_space;
  }
  return out;
}

json::object post_body(std::string_view channel_id, std::string_view message, std::string_view root_id) {
  json::object o{{"channel_id", channel_id}, {"message", cut_message(message, message_max, {})}};
  if (!root_id.empty()) o["root_id"] = root_id;
  return o;
}

json::array direct_channel_body(std::string_view bot_user_id, std::string_view user_id) {
  return json::array{json::value(bot_user_id), json::value(user_id)};
}

json::object card_post(std::string_view channel_id, const approval_card& c, const button_style& s) {
  json::object o = card_body(c, s);
  o["channel_id"] = channel_id;
  return o;
}

json::object card_patch(const approval_card& c, const button_style& s) { return card_body(c, s); }

json::object page_post(std::string_view channel_id, std::string_view text, std::string_view escalation,
                       const button_style& s) {
  const auto n = parse_escalation_id(escalation);
  const bool buttons = n && !s.actions_url.empty();
  std::string hint;
  if (n && !buttons) hint = "\nTo acknowledge: `" + s.trigger + " ack " + escalation_value(*n) + "`";
  const std::size_t hint_chars = code_points(hint);
  json::object o{{"channel_id", channel_id},
                 {"message", cut_message(text, message_max > hint_chars ? message_max - hint_chars : 0, {}) + hint}};
  if (buttons) {
    const auto value = escalation_value(*n);
    json::object attachment{{"fallback", "Acknowledge " + value},
                            {"text", ""},
                            {"actions", json::array{button("ack", "Ack", "primary", value, s)}}};
    o["props"] = json::object{{"attachments", json::array{std::move(attachment)}}};
  }
  return o;
}

std::string render_mentions(std::string_view text, const std::vector<mention>& people,
                            const std::map<std::string, std::string>& usernames) {
  return signoff::render_mentions(
      text, people, [](std::string_view plain) { return neutralise_mentions(plain); },
      [&](const mention& m) {
        const auto it = usernames.find(m.platform_id);
        if (it != usernames.end() && username_ok(it->second)) return "@" + it->second;
        return neutralise_mentions("@" + m.person);  // no known username: shown, pinging nobody
      });
}

}  // namespace signoff::mattermost
