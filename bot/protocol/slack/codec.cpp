// Socket Mode frames, envelope interpretation and Web API responses
// (https://api.slack.com/apis/socket-mode, .../interactivity/handling).
// Every read of untrusted JSON goes through the guarded accessors below:
// a wrong type reads as absent, never as an exception.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <limits>

#include "bot/protocol/slack/codec.hpp"
#include "bot/protocol/slack/internal.hpp"

namespace signoff::slack {
namespace json = boost::json;

namespace {

const json::value* member(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it == o.end() ? nullptr : &it->value();
}

const json::object* object_at(const json::object& o, std::string_view key) {
  const auto* v = member(o, key);
  return v && v->is_object() ? &v->get_object() : nullptr;
}

std::string string_at(const json::object* o, std::string_view key) {
  if (!o) return {};
  const auto* v = member(*o, key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// An integral JSON number that fits in int; nullopt for anything else
// (strings, fractions, 1e300, 2^64).
std::optional<int> int_at(const json::object* o, std::string_view key) {
  if (!o) return std::nullopt;
  const auto* v = member(*o, key);
  if (!v) return std::nullopt;
  constexpr auto lo = std::numeric_limits<int>::min(), hi = std::numeric_limits<int>::max();
  if (v->is_int64() && v->get_int64() >= lo && v->get_int64() <= hi) return static_cast<int>(v->get_int64());
  if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(hi)) return static_cast<int>(v->get_uint64());
  if (v->is_double()) {
    double d = v->get_double();
    if (d >= lo && d <= hi && d == static_cast<double>(static_cast<int>(d))) return static_cast<int>(d);
  }
  return std::nullopt;
}

// At most 40 bytes of untrusted input for an error message, printable ASCII
// only (a log line never carries control bytes or half a UTF-8 sequence).
std::string excerpt(std::string_view s) {
  constexpr std::size_t max = 40;
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < max; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    out.push_back(c >= 0x20 && c < 0x7F ? static_cast<char>(c) : '?');
  }
  if (s.size() > max) out += "...";
  return out;
}

disconnect_reason reason_of(std::string_view r) {
  if (r == "warning") return disconnect_reason::warning;
  if (r == "refresh_requested") return disconnect_reason::refresh_requested;
  if (r == "link_disabled") return disconnect_reason::link_disabled;
  if (r == "too_many_websockets") return disconnect_reason::too_many_websockets;
  return disconnect_reason::other;
}

bool is_envelope_type(std::string_view t) {
  return t == "slash_commands" || t == "interactive" || t == "events_api";
}

hello decode_hello(const json::object& o) {
  hello h;
  h.num_connections = int_at(&o, "num_connections").value_or(0);
  if (const auto* d = member(o, "debug_info")) h.debug_info = json::serialize(*d);
  // Slack documents it under connection_info; older frames had it in debug_info.
  h.approximate_connection_time = int_at(object_at(o, "connection_info"), "approximate_connection_time");
  if (!h.approximate_connection_time)
    h.approximate_connection_time = int_at(object_at(o, "debug_info"), "approximate_connection_time");
  return h;
}

std::variant<frame, decode_error> decode_envelope(json::object& o, const std::string& type) {
  auto id = string_at(&o, "envelope_id");
  if (id.empty())
    return decode_error{"envelope of type '" + excerpt(type) + "' has no envelope_id string"};
  auto* p = o.if_contains("payload");
  if (!p || !p->is_object())
    return decode_error{"envelope " + excerpt(id) + " has no payload object"};
  envelope e;
  e.envelope_id = std::move(id);
  e.type = type;
  e.payload = std::move(p->get_object());
  const auto* accepts = member(o, "accepts_response_payload");
  e.accepts_response_payload = accepts && accepts->is_bool() && accepts->get_bool();
  e.retry_attempt = int_at(&o, "retry_attempt").value_or(0);
  e.retry_reason = string_at(&o, "retry_reason");
  return frame{std::move(e)};
}

// Spaces, tabs and line breaks: what a multiline input may pad a reason with.
std::string_view trim_ws(std::string_view s) {
  constexpr std::string_view ws = " \t\r\n";
  auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

// Who and where, for interactive payloads: user.id, team.id (user.team_id
// when the team object is absent, as in some Enterprise Grid payloads),
// channel.id (container.channel_id as a fallback).
origin interactive_origin(const json::object& p) {
  origin o;
  const auto* user = object_at(p, "user");
  o.user_id = string_at(user, "id");
  o.team_id = string_at(object_at(p, "team"), "id");
  if (o.team_id.empty()) o.team_id = string_at(user, "team_id");
  o.channel_id = string_at(object_at(p, "channel"), "id");
  if (o.channel_id.empty()) o.channel_id = string_at(object_at(p, "container"), "channel_id");
  return o;
}

intent slash_command(const json::object& p) {
  auto command = string_at(&p, "command");
  if (command.empty()) return ignore_envelope{"slash_commands payload without a command"};
  auto text = unescape_mrkdwn(string_at(&p, "text"));
  run_command r;
  r.from = {string_at(&p, "team_id"), string_at(&p, "channel_id"), string_at(&p, "user_id")};
  r.line = text.empty() ? command : command + " " + text;
  r.response_url = string_at(&p, "response_url");
  r.ephemeral_ack = true;
  return r;
}

// A button click run as a command line by the clicker, answered through
// the response_url (clicks get no response payload in their ack).
run_command click_command(const json::object& p, std::string line) {
  run_command r;
  r.from = interactive_origin(p);
  r.line = std::move(line);
  r.response_url = string_at(&p, "response_url");
  r.ephemeral_ack = false;
  return r;
}

intent block_actions(const json::object& p) {
  const auto* actions = member(p, "actions");
  if (!actions || !actions->is_array() || actions->get_array().empty() ||
      !actions->get_array().front().is_object())
    return ignore_envelope{"block_actions without an action"};
  const auto& a = actions->get_array().front().get_object();
  auto action_id = string_at(&a, "action_id");
  auto value = string_at(&a, "value");
  if (action_id == ack_action) {
    // The Ack button of a page's direct message: /ack E-n by the clicker,
    // who the executor then checks was paged, like a typed /ack.
    // A value that is not E-n (a tampered or mangled click) still goes to
    // the grammar as typed, so it is recorded `invalid` like a mistyped /ack.
    auto esc = detail::parse_escalation_id(value);
    return click_command(p, "/ack " + (esc ? detail::escalation_value(*esc) : value));
  }
  if (action_id != approve_action && action_id != reject_action)
    return ignore_envelope{"block_actions action_id '" + excerpt(action_id) + "' is not ours"};
  auto dr = detail::parse_draft_rev(value);
  // Not D-n@R: run as the typed command with that value, which the grammar
  // records `invalid` (a click never ends without an audit record).
  if (!dr) return click_command(p, (action_id == approve_action ? "/approve " : "/reject ") + value);
  if (action_id == approve_action) return click_command(p, "/approve " + dr->value());
  auto trigger = string_at(&p, "trigger_id");
  if (trigger.empty()) return ignore_envelope{"reject click without a trigger_id"};
  return open_reject_modal{interactive_origin(p), std::move(trigger), dr->id(), dr->rev};
}

intent view_submission(const json::object& p) {
  const auto* view = object_at(p, "view");
  auto callback = string_at(view, "callback_id");
  if (callback != reject_callback)
    return ignore_envelope{"view_submission callback_id '" + excerpt(callback) + "' is not ours"};
  auto meta = string_at(view, "private_metadata");
  auto target = detail::parse_reject_metadata(meta);
  if (!target) return ignore_envelope{"reject modal private_metadata '" + excerpt(meta) + "' is malformed"};
  const json::object* values = view ? object_at(*view, "state") : nullptr;
  values = values ? object_at(*values, "values") : nullptr;
  const json::object* block = values ? object_at(*values, reason_block) : nullptr;
  // An empty input comes back as "value": null; string_at reads it as "".
  auto value = unescape_mrkdwn(string_at(block ? object_at(*block, reason_input) : nullptr, "value"));
  auto reason = std::string(trim_ws(value));
  if (reason.empty()) return modal_error{std::string(reason_block), "A reason is required."};
  run_command r;
  r.from = interactive_origin(p);
  r.from.channel_id = target->channel_id;
  // The grammar reads a leading lone "--" as the end of options and drops
  // it; an explicit "--" keeps a reason that starts with "--" verbatim.
  r.line = "/reject " + target->dr.value() + (reason.starts_with("--") ? " -- " : " ") + reason;
  r.ephemeral_ack = false;
  r.from_modal = true;
  return r;
}

}  // namespace

namespace detail {

std::string reject_metadata(std::string_view draft_id, std::int64_t rev, std::string_view channel_id) {
  return std::string(draft_id) + "@" + std::to_string(rev) + "|" + std::string(channel_id);
}

std::optional<reject_target> parse_reject_metadata(std::string_view s) {
  auto bar = s.find('|');
  if (bar == std::string_view::npos) return std::nullopt;
  auto dr = parse_draft_rev(s.substr(0, bar));
  if (!dr) return std::nullopt;
  return reject_target{*dr, std::string(s.substr(bar + 1))};
}

}  // namespace detail

std::string unescape_mrkdwn(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '&') {
      auto rest = text.substr(i);
      if (rest.starts_with("&amp;")) {
        out.push_back('&');
        i += 4;
        continue;
      }
      if (rest.starts_with("&lt;") || rest.starts_with("&gt;")) {
        out.push_back(rest[1] == 'l' ? '<' : '>');
        i += 3;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

std::variant<frame, decode_error> decode_frame(std::string_view text) {
  boost::system::error_code ec;
  json::parse_options opt;
  opt.max_depth = 64;  // rich_text blocks in block_actions nest deeper than the default 32
  json::value v = json::parse(text, ec, {}, opt);
  if (ec) return decode_error{"frame is not JSON (" + ec.message() + "): '" + excerpt(text) + "'"};
  if (!v.is_object()) return decode_error{"frame is not a JSON object: '" + excerpt(text) + "'"};
  auto& o = v.get_object();
  const auto* t = member(o, "type");
  if (t && !t->is_string()) return decode_error{"frame 'type' is not a string"};
  std::string type = t ? std::string(t->get_string()) : std::string();
  // Any frame with an envelope_id expects an ack, whatever its type.
  if (is_envelope_type(type) || o.contains("envelope_id")) return decode_envelope(o, type);
  if (type == "hello") return frame{decode_hello(o)};
  if (type == "disconnect") {
    disconnect d;
    d.reason_text = string_at(&o, "reason");
    d.reason = reason_of(d.reason_text);
    return frame{std::move(d)};
  }
  return frame{unknown_frame{std::move(type)}};
}

std::string encode_ack(std::string_view envelope_id, const json::object* payload) {
  json::object o;
  o["envelope_id"] = envelope_id;
  if (payload) o["payload"] = *payload;
  return json::serialize(o);
}

intent interpret(const envelope& e) {
  if (e.type == "slash_commands") return slash_command(e.payload);
  if (e.type == "interactive") {
    auto type = string_at(&e.payload, "type");
    if (type == "block_actions") return block_actions(e.payload);
    if (type == "view_submission") return view_submission(e.payload);
    return ignore_envelope{"interactive payload type '" + excerpt(type) + "' is not handled"};
  }
  return ignore_envelope{"envelope type '" + excerpt(e.type) + "' is not handled"};
}

json::object ephemeral_reply(std::string_view text) {
  // Escaped and cut like any post: a reply may quote user text such as "<!channel>".
  json::object o = plain_message(text);
  o["response_type"] = "ephemeral";
  return o;
}

json::object response_url_reply(std::string_view text) {
  json::object o = ephemeral_reply(text);
  o["replace_original"] = false;
  return o;
}

json::object modal_errors(const modal_error& e) {
  return json::object{{"response_action", "errors"}, {"errors", json::object{{e.block_id, e.message}}}};
}

api_result decode_api_response(std::string_view body) {
  api_result r;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) {
    r.error = "invalid_response";
    return r;
  }
  r.body = std::move(v.get_object());
  const auto* ok = member(r.body, "ok");
  r.ok = ok && ok->is_bool() && ok->get_bool();
  if (!r.ok) {
    r.error = string_at(&r.body, "error");
    if (r.error.empty()) r.error = "unknown_error";
  }
  return r;
}

std::optional<std::string> connection_url(const api_result& r) {
  if (!r.ok) return std::nullopt;
  auto url = string_at(&r.body, "url");
  if (url.empty()) return std::nullopt;
  return url;
}

bool fatal_auth_error(std::string_view error) {
  // The token is wrong, revoked, of the wrong kind or lacks a scope, or the
  // app is gone: only an operator can fix these (Slack's common errors).
  static constexpr std::string_view fatal[] = {
      "invalid_auth",     "not_authed",          "account_inactive",       "token_revoked",
      "token_expired",    "not_allowed_token_type", "missing_scope",       "no_permission",
      "app_uninstalled",  "invalid_token",       "team_access_not_granted", "ekm_access_denied",
      "two_factor_setup_required", "org_login_required",
  };
  for (auto f : fatal)
    if (error == f) return true;
  return false;
}

}  // namespace signoff::slack
