#pragma once
// Slack Socket Mode and Web API codecs: pure functions over JSON text, no
// sockets (tested in tests/unit/slack_codec_test.cpp, fuzzed by
// tests/fuzz/slack_frame_fuzz.cpp). Protocol reference:
// https://api.slack.com/apis/socket-mode and the Web API method pages.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "bot/core/records.hpp"

namespace signoff::slack {

// ---- Socket Mode frames (server -> client) --------------------------------
struct hello {
  int num_connections = 0;
  std::string debug_info;               // debug_info serialised, for the log
  std::optional<int> approximate_connection_time;  // seconds, when Slack sends it
};
enum class disconnect_reason { warning, refresh_requested, link_disabled, too_many_websockets, other };
struct disconnect {
  disconnect_reason reason = disconnect_reason::other;
  std::string reason_text;              // as received
};
struct envelope {
  std::string envelope_id;
  std::string type;                     // slash_commands | interactive | events_api | ...
  boost::json::object payload;
  bool accepts_response_payload = false;
  int retry_attempt = 0;
  std::string retry_reason;
};
struct unknown_frame {
  std::string type;                     // "" when the frame has no type
};
using frame = std::variant<hello, disconnect, envelope, unknown_frame>;

// Decodes one text frame. Error (a message naming what is wrong, never the
// frame's content beyond 80 bytes) when it is not a JSON object, or an
// envelope lacks envelope_id / payload.
struct decode_error { std::string message; };
std::variant<frame, decode_error> decode_frame(std::string_view text);

// The ack: {"envelope_id": id} or {"envelope_id": id, "payload": payload}.
std::string encode_ack(std::string_view envelope_id, const boost::json::object* payload = nullptr);

// ---- what an envelope asks of signoff ------------------------------------
// Who and where, from any payload shape.
struct origin {
  std::string team_id, channel_id, user_id;
  friend bool operator==(const origin&, const origin&) = default;
};
// Run a command line (a slash command, an Approve button, a Reject modal).
struct run_command {
  origin from;
  std::string line;          // e.g. "/approve D-1@2 looks good"
  std::string response_url;  // for late replies ('' when none)
  bool ephemeral_ack = true; // reply in the ack payload (slash commands)
  bool from_modal = false;   // view_submission: reply by chat.postEphemeral to from.channel_id
};
// Open the Reject modal for draft `draft` at revision `rev` (views.open).
struct open_reject_modal {
  origin from;
  std::string trigger_id;
  std::string draft;         // "D-1"
  std::int64_t rev = 0;
};
// A modal submitted without a reason: ack with response_action=errors.
struct modal_error {
  std::string block_id, message;
};
// Anything else: ack and ignore (the reason goes to the debug log).
struct ignore_envelope {
  std::string why;
};
using intent = std::variant<run_command, open_reject_modal, modal_error, ignore_envelope>;
// slash_commands -> run_command (command + " " + text, ephemeral ack);
// the text and the modal's reason are decoded (unescape_mrkdwn) first, so
// the line holds what the person typed;
// block_actions on our Approve button -> run_command "/approve D-n@R"
// (answered through response_url), on Reject -> open_reject_modal;
// block_actions on the Ack button of a page's direct message (value "E-n")
// -> run_command "/ack E-n" by the clicker (answered through response_url);
// view_submission of our modal -> run_command "/reject D-n@R REASON" for the
// channel in its private_metadata, or modal_error when the reason is blank;
// a click on our buttons whose value is not D-n@R / E-n -> run_command with
// that value as typed ("/approve VALUE", "/reject VALUE", "/ack VALUE"), so
// the grammar records it `invalid`: no click ends without an audit record;
// anything else (events_api, foreign buttons) -> ignore.
intent interpret(const envelope& e);

// Replies to one person, escaped once (plain_message): the slash command
// ack payload, and the body POSTed to a response_url (also ephemeral, and
// never replacing the message that carried the button).
boost::json::object ephemeral_reply(std::string_view text);
boost::json::object response_url_reply(std::string_view text);
boost::json::object modal_errors(const modal_error& e);            // view_submission errors

// ---- Block Kit -------------------------------------------------------------
// action_id / callback_id values on our buttons and modal.
inline constexpr std::string_view approve_action = "signoff_approve";
inline constexpr std::string_view reject_action = "signoff_reject";
inline constexpr std::string_view ack_action = "signoff_ack";
inline constexpr std::string_view reject_callback = "signoff_reject_modal";
inline constexpr std::string_view reason_block = "reason";
inline constexpr std::string_view reason_input = "reason_input";

// Slack's limits (text of a section block 3000, message text 40000, button value 2000).
inline constexpr std::size_t section_text_max = 3000;
inline constexpr std::size_t message_text_max = 40000;

// Escapes &, < and > as Slack's mrkdwn requires (every one of them: text
// escaped this way holds no markup at all).
std::string escape_mrkdwn(std::string_view text);
// What the person typed, from text Slack sends escaped (slash-command text,
// input values: api.slack.com/reference/surfaces/formatting#escaping):
// "&amp;", "&lt;" and "&gt;" become '&', '<' and '>' in one left-to-right
// pass (so "&amp;lt;" is "&lt;"); every other entity ("&quot;", "&#60;") and
// any other '&' stay as they are. The inverse of escape_mrkdwn.
std::string unescape_mrkdwn(std::string_view text);
// signoff::cut_with_pointer (bot/core/text.hpp) without markup: `text` cut to at most `max_chars` code points (never inside a UTF-8
// sequence), with "… (cut: /draft show D-n for the full text)" when cut.
std::string cut_text(std::string_view text, std::size_t max_chars, std::string_view draft_id);

// An approval card, rendered from the value (never parsed out of text):
// headline/status/targets/authors in one section, a divider, the draft text
// in another section, and, when `approve_rev` is set, the command hint in a
// context block and Approve (value "D-n@R") and Reject buttons; each escaped
// and cut to section_text_max with the /draft show pointer.
// Returns {"text": fallback, "blocks": [...]} to merge into chat.postMessage
// / chat.update arguments.
boost::json::object card_message(const approval_card& card);
// A page's direct message to one paged person: the text (escaped, cut) in a
// section and, when `escalation` is an escalation ID ("E-n"), an actions
// block with an Ack button (action_id ack_action, value "E-n"), which acts
// as /ack E-n by whoever clicks it. Returns {"text", "blocks"} as
// card_message does.
boost::json::object page_dm_message(std::string_view text, std::string_view escalation);
// A plain post or reply: {"text": escaped, cut to Slack's limit}. All of
// the text is escaped, a "<@U…>" in it too: text from people is shown as
// typed and never turns into a mention.
boost::json::object plain_message(std::string_view text);
// The same for text that is mrkdwn already (render_mentions' output: escaped
// text with the mentions signoff put in): only cut, never splitting an
// entity or a mention.
boost::json::object mrkdwn_message(std::string_view mrkdwn);
// The Reject modal for views.open: {"trigger_id":…, "view":{…}}. Its
// private_metadata is "D-n@R|CHANNEL" (read back by interpret); the reason
// input's max_length is min(max_reason, 3000), Slack's ceiling.
boost::json::object reject_modal(std::string_view trigger_id, std::string_view draft_id,
                                 std::int64_t rev, std::string_view channel_id, std::size_t max_reason);

// ---- Web API responses -----------------------------------------------------
struct api_result {
  bool ok = false;
  std::string error;                 // Slack's error code, or a decode problem
  boost::json::object body;          // the whole response when it parsed
};
api_result decode_api_response(std::string_view body);
// apps.connections.open: the wss URL.
std::optional<std::string> connection_url(const api_result& r);
// Errors after which retrying the same token is pointless.
bool fatal_auth_error(std::string_view error);

}  // namespace signoff::slack
