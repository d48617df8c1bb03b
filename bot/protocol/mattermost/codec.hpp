#pragma once
// Mattermost posts, REST answers, message bodies, interactive buttons and
// dialogs as pure code: JSON in and out, no sockets (tests:
// tests/unit/mattermost_codec_test.cpp, fuzz: tests/fuzz/mattermost_event_fuzz.cpp).
// Protocol: Mattermost API v4 (posts, users, channels, teams), "Interactive
// messages" and "Interactive dialogs"; the server's model.Post,
// model.PostAction, model.OpenDialogRequest, model.SubmitDialogRequest and
// model.GenerateTriggerId.
//
// Choices:
// - Text from people passes through unchanged (Mattermost does not
//   entity-escape like Slack) with one exception: pings. Mattermost pings on
//   "@channel", "@all", "@here" and "@username". neutralise_mentions puts a
//   ZERO WIDTH SPACE (U+200B) right after every '@' that a name character
//   (ASCII letter, digit, '_', '.', '-') follows, wherever it stands (an
//   e-mail address too: the server's word splitting is not ours to guess), so
//   it reads the same and pings nobody. card_post / card_patch neutralise
//   every text they show; post_body and page_post take text as given, so
//   pass people's text through render_mentions first (it neutralises and
//   adds exactly the pings of the listed people).
// - Every message is cut to message_max code points with cut_with_pointer; a
//   cut that would leave the head of a "@name" (which could ping someone
//   else) drops that partial name.
// - Buttons carry context {action, subject, tag}: the tag is an HMAC over
//   action and subject keyed by the actions secret, so a forged or replayed-
//   onto-another-draft click fails. Action IDs are letters and digits only
//   ("approve", "reject", "ack"): Mattermost mishandles '_' and '-' there.
// - A dialog's callback_id, state and url come back from the user's client:
//   only user_id of a submission is trustworthy, so the state carries a tag
//   binding subject and the clicking user.
// - decode_* never throw: bad input -> decode_error / nullopt / skipped entries.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "bot/core/records.hpp"
#include "bot/protocol/mattermost/session.hpp"

namespace signoff::mattermost {

inline constexpr std::size_t message_max = 16383;  // code points in a post message (server default)

struct post {
  std::string id, user_id, channel_id, root_id, message, type;
  std::int64_t create_at = 0, delete_at = 0;
  bool from_bot = false, from_webhook = false;
};
// A post object (or a JSON string holding one). id, user_id and channel_id
// are required; props.from_bot / from_webhook are true for "true" or true.
std::variant<post, decode_error> decode_post(const boost::json::value& v);
struct posted {
  post p;
  std::string team_id, channel_type;
};
// A `posted` event's data: data.post is a JSON string parsed again.
std::variant<posted, decode_error> decode_posted(const boost::json::object& event_data);

// SPEC: a message that starts with the trigger followed by white space is a command: the rest,
// with leading white space removed and "/" put in front ("!signoff approve D-1 ok" ->
// "/approve D-1 ok"); the trigger alone (or followed only by white space) -> "/signoff help".
// Not commands (with why): the bot's own posts (user_id == bot_user_id), other bots'
// (from_bot) and webhooks' (from_webhook), system messages (type not ''), deleted posts, and
// messages without the trigger ("!signoffx" is not the trigger).
struct as_command { std::string line; };
struct not_command { std::string why; };
std::variant<as_command, not_command> command_of(const post& p, std::string_view trigger, std::string_view bot_user_id);

struct user {
  std::string id, username;
  bool is_bot = false;
};
std::optional<user> decode_user(std::string_view body);  // GET users/me; nullopt without id
std::vector<user> decode_users(std::string_view body);   // POST users/ids; entries without id skipped
struct channel {
  std::string id, team_id, type;
  std::int64_t last_post_at = 0;
};
std::vector<channel> decode_channels(std::string_view body);       // entries without id skipped
std::vector<std::string> decode_team_ids(std::string_view body);   // GET users/me/teams
// PostList -> posts oldest first (by create_at, then id); entries that do not decode are skipped.
std::vector<post> decode_post_list(std::string_view body);
std::optional<std::string> object_id(std::string_view body);  // "id" of a created post / channel
struct api_error {
  std::string id, message;
  int status_code = 0;
};
// {"id","message","status_code",...}; nullopt when the body has neither id nor message.
std::optional<api_error> decode_api_error(std::string_view body);
// A 429's wait: X-Ratelimit-Reset (seconds), else Retry-After (seconds), else 1 s; clamped to
// [1 ms, 1 h]; headers as net::http_response gives them (names lower case).
std::chrono::milliseconds retry_after(const std::vector<std::pair<std::string, std::string>>& headers);

// `text` with U+200B after each '@' a name character follows (see Choices).
std::string neutralise_mentions(std::string_view text);

// Bodies. Every message is cut with cut_with_pointer to message_max.
// {channel_id, message, root_id?}
boost::json::object post_body(std::string_view channel_id, std::string_view message, std::string_view root_id = {});
boost::json::array direct_channel_body(std::string_view bot_user_id, std::string_view user_id);
// How cards and pages look: with actions_url set, buttons; without, the commands to type
// ("!signoff approve D-1@2", "!signoff reject D-1@2 REASON", "!signoff ack E-3").
struct button_style {
  std::string trigger = "!signoff";
  std::string actions_url;
  std::string secret;
};
// A card: message = headline (bold) + status line; one attachment with title, the draft text,
// targets/authors fields; when c.approve_rev is set, Approve (primary) and Reject (danger)
// buttons (actions_url set) or the commands to type. props.attachments replaces the old ones
// on a patch, so a decided card loses its buttons.
boost::json::object card_post(std::string_view channel_id, const approval_card& c, const button_style& s);
boost::json::object card_patch(const approval_card& c, const button_style& s);  // {message, props}
// A page by DM: the text and, for "E-n", an Ack button (or the command to type).
boost::json::object page_post(std::string_view channel_id, std::string_view text, std::string_view escalation,
                              const button_style& s);
// "@id" of listed people with a Mattermost ID -> "@username" when `usernames` (user ID ->
// username) knows them, else left as "@id" (neutralised: it must not ping a namesake);
// every other stretch of text neutralised.
std::string render_mentions(std::string_view text, const std::vector<mention>& people,
                            const std::map<std::string, std::string>& usernames);

// Buttons (SPEC "Buttons"): context {"action":"approve"|"reject"|"ack","subject":"D-n@R"|"E-n","tag":HEX}.
// tag = hex HMAC-SHA256(secret, "signoff/mattermost/v1\x1F" action_name "\x1F" subject).
std::string action_tag(std::string_view secret, std::string_view action_name, std::string_view subject);
// The Reject dialog's state "D-n@R POST_ID TAG" binds the person who clicked:
// tag = hex HMAC-SHA256(secret, "signoff/mattermost/dialog/v1\x1F" subject "\x1F" user_id).
std::string dialog_tag(std::string_view secret, std::string_view subject, std::string_view user_id);
bool tags_equal(std::string_view a, std::string_view b);  // constant time, false on length mismatch
struct click {
  std::string user_id, user_name, channel_id, team_id, post_id, trigger_id, action, subject, tag;
};
struct dialog_submission {
  std::string user_id, channel_id, team_id, callback_id, state, reason;
  bool cancelled = false;
};
// Body of a POST to the actions URL: a click ("context" present) or a dialog submission
// ("type":"dialog_submission"); decode_error otherwise (user_id required in both).
std::variant<click, dialog_submission, decode_error> decode_action_request(std::string_view body);
struct dialog_state {
  std::string subject, post_id, tag;
};
// "D-n@R POST_ID TAG": a subject parse_draft_rev accepts, a post ID of
// letters and digits (at most 64), a tag of 64 lowercase hex digits.
std::optional<dialog_state> parse_dialog_state(std::string_view state);
std::string dialog_state_text(std::string_view subject, std::string_view post_id, std::string_view tag);
struct trigger {
  std::string user_id;
  std::int64_t millis = 0;
};
// base64std(clientTriggerId ":" userId ":" millis ":" signature) -> user and
// millis; nullopt when it is not that shape. The signature is not checked
// (only the server can).
std::optional<trigger> decode_trigger_id(std::string_view trigger_id);
// POST actions/dialogs/open: callback_id "signoff:reject", title "Reject D-n@R", one textarea
// "reason" (display "Reason", max_length min(max_text, 3000)), submit_label "Reject".
inline constexpr std::string_view reject_callback_id = "signoff:reject";
boost::json::object dialog_open_body(std::string_view trigger_id, std::string_view url, std::string_view subject,
                                     std::string_view state, std::size_t max_text);
std::string action_response(std::string_view ephemeral_text);  // {"ephemeral_text":...}, {} when empty
std::string dialog_field_error(std::string_view field, std::string_view message);  // {"errors":{field:message}}

}  // namespace signoff::mattermost
