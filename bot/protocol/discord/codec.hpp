#pragma once
// Discord application commands, interactions and REST bodies as pure code:
// JSON values in and out, no sockets (tests: tests/unit/discord_codec_test.cpp,
// fuzz: tests/fuzz/discord_frame_fuzz.cpp). Protocol: Discord's
// "Application Commands", "Receiving and Responding" (interactions),
// "Message Components", "Channel" (messages) and "Webhook" pages.
//
// Choices:
// - The commands are one table (commands.cpp): the registered definitions
//   and the line joined back from an interaction both derive from it, so a
//   renamed option cannot leave the joiner behind.
// - Joining follows handlers/grammar.cpp: the verb (and its subcommand), the
//   positional (`id`, `key`, `route`, `sev` of /crisis start, `status` of
//   /draft list, `subject` of /audit), then `--name value` options in the
//   usage's order, then NAME=VALUE `values`, then the free text verbatim.
//   A positional or option value with white space, quotes or a leading "--"
//   is double-quoted (\" and \\ escaped) so it stays one token; free text
//   starting with "--" gets a lone "--" before it, so it is never read as
//   an option.
// - Nothing a person can send is silently dropped: an unknown command,
//   subcommand or option, a malformed custom ID of ours, a foreign custom
//   ID, all become a line the grammar records as invalid.
// - Limits (Discord's): content 2000, embed title 256, description 4096, an
//   embed's text 6000 in all, footer 2048, button label 80, custom_id 100,
//   modal title 45, text input max_length 4000, string option max_length
//   6000; counted in code points. Every cut carries the pointer to
//   /draft show (bot/core/text.hpp cut_with_pointer).
// - Text never pings: every message body carries allowed_mentions with
//   parse [] (no @everyone, roles or users from text); mention_message
//   lists exactly the users it put in.
// - Paths hold interaction and webhook tokens: never log them.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "bot/core/records.hpp"
#include "bot/protocol/discord/gateway.hpp"

namespace signoff::discord {

// custom_id prefixes on our components: "signoff:approve:D-n@R",
// "signoff:reject:D-n@R" (button and modal), "signoff:ack:E-n"; the modal's
// one text input is custom_id "reason".
inline constexpr std::string_view approve_prefix = "signoff:approve:";
inline constexpr std::string_view reject_prefix = "signoff:reject:";
inline constexpr std::string_view ack_prefix = "signoff:ack:";
inline constexpr std::string_view reason_input = "reason";

inline constexpr std::size_t content_max = 2000;
inline constexpr std::size_t embed_title_max = 256;
inline constexpr std::size_t embed_description_max = 4096;
inline constexpr std::size_t embed_total_max = 6000;
inline constexpr std::size_t custom_id_max = 100;
inline constexpr std::size_t modal_title_max = 45;
inline constexpr std::size_t text_input_max = 4000;
inline constexpr std::size_t option_text_max = 6000;

// The PUT body for bulk overwrite (SPEC "Discord specifics"): one command
// per verb, subcommands for draft/crisis/hold, options named after SPEC's
// placeholders; required options before optional ones; free-text strings
// carry max_length min(max_text, 6000), names 64; sev and status carry
// choices; /signoff has one required string `line`.
boost::json::array application_commands(std::size_t max_text);
// "applications/A/guilds/G/commands", or "applications/A/commands" when
// guild_id is empty.
std::string commands_path(std::string_view application_id, std::string_view guild_id);

// An APPLICATION_COMMAND interaction's `data` joined back into the command
// line in the grammar's order ("/draft new --to x,y TEXT"); `signoff` gives
// "/signoff " + line. Unknown names still give a line (see Choices).
std::string command_line(const boost::json::value& data);

struct origin {
  std::string guild_id, channel_id, user_id;  // member.user.id in a guild, user.id in a DM
  friend bool operator==(const origin&, const origin&) = default;
};
struct run_command { std::string line; };  // e.g. "/draft new --to x,y TEXT"
struct open_reject_modal { std::string draft; std::int64_t rev = 0; };
struct ignore_interaction { std::string why; };  // ping, autocomplete
struct interaction {
  std::string id, token, application_id;
  int type = 0;
  origin from;
  std::variant<run_command, open_reject_modal, ignore_interaction> intent;
};
// INTERACTION_CREATE's `d`. decode_error when id, token or type is missing,
// or the user (member.user.id / user.id) is, except for a PING (type 1).
// Type 2 -> command_line; type 3: approve -> "/approve D-n@R", reject ->
// open_reject_modal, ack -> "/ack E-n"; type 5 -> "/reject D-n@R REASON";
// a custom ID of ours whose value does not parse -> "/approve VALUE" (etc.);
// a foreign custom ID -> the line as-is. Types 1 and 4 (and unknown ones)
// -> ignore_interaction.
std::variant<interaction, decode_error> interpret_interaction(const boost::json::value& d);

// Interaction callbacks (POST callback_path).
// {type:4, data:{content (cut), flags:64, allowed_mentions:{parse:[]}}}
boost::json::object callback_reply(std::string_view text);
// {type:5, data:{flags:64}}: deferred, ephemeral; edit @original later.
boost::json::object callback_deferred();
// {type:9, data:{custom_id "signoff:reject:D-n@R", title, components:[row:[text
// input "reason", paragraph, required, max_length min(max_reason, 4000)]]}}
boost::json::object callback_reject_modal(std::string_view draft, std::int64_t rev, std::size_t max_reason);
// PATCH original_path (pass ephemeral = false: the deferred answer already
// is) or POST followup_path (ephemeral = true adds flags 64).
boost::json::object webhook_message(std::string_view text, bool ephemeral);
std::string callback_path(std::string_view interaction_id, std::string_view token);   // "interactions/ID/TOKEN/callback"
std::string original_path(std::string_view application_id, std::string_view token);   // "webhooks/A/T/messages/@original"
std::string followup_path(std::string_view application_id, std::string_view token);   // "webhooks/A/T"

// Channel messages (POST channels/{id}/messages, PATCH .../messages/{mid}).
// An embed (title: headline; description: status, targets, authors and the
// draft text; footer: the commands to type) and, when approve_rev is set,
// Approve and Reject buttons; "components": [] otherwise, so an update
// removes them.
boost::json::object card_message(const approval_card& card);
// A page's direct message: the text and, when `escalation` is "E-n", an Ack
// button acting as /ack E-n by whoever clicks it.
boost::json::object page_dm_message(std::string_view text, std::string_view escalation);
// {content, allowed_mentions:{parse:[]}}: no pings at all.
boost::json::object plain_message(std::string_view text);
// Each "@id" of a listed person with a Discord ID (a snowflake: digits)
// becomes "<@ID>"; allowed_mentions.users lists exactly those IDs (at most
// 100, Discord's limit), so nobody else is pinged.
boost::json::object mention_message(std::string_view text, const std::vector<mention>& people);
// POST users/@me/channels: {recipient_id}.
boost::json::object dm_channel_request(std::string_view user_id);

// A REST error body {"code": 50035, "message": "Invalid Form Body", ...};
// nullopt when the body has neither.
struct api_error { int code = 0; std::string message; };
std::optional<api_error> decode_api_error(std::string_view body);
// "id" of a created message or DM channel; nullopt when absent.
std::optional<std::string> object_id(std::string_view body);

}  // namespace signoff::discord
