// Fuzzes the Mattermost codecs: any frame must decode to an event, a reply
// or a short named error; a frame drives the session machine (brought up to
// a connected link first) without ever holding two links; a `posted` event's
// data decodes to a post or an error and a post gives a command or a reason;
// the same bytes go through the actions-URL decoder, the dialog state and
// trigger ID parsers and the REST decoders; every body built from them is
// JSON within Mattermost's limits that pings nobody. Never a crash, a hang,
// an exception or an out-of-bounds read.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "bot/core/text.hpp"
#include "bot/protocol/mattermost/codec.hpp"
#include "bot/protocol/mattermost/session.hpp"

namespace mm = signoff::mattermost;
namespace json = boost::json;

namespace {

void check_json(const json::object& o) {
  boost::system::error_code ec;
  json::parse(json::serialize(o), ec);
  if (ec) __builtin_trap();
}

void check_actions(const std::vector<mm::action>& actions) {
  for (const auto& a : actions)
    if (const auto* f = std::get_if<mm::send_frame>(&a)) {
      boost::system::error_code ec;
      json::parse(f->text, ec);
      if (ec) __builtin_trap();
    }
}

// A message within 16383 code points, valid UTF-8 when the input was.
void check_message(const json::object& o, bool utf8) {
  check_json(o);
  const auto& m = o.at("message").as_string();
  if (signoff::code_points(m) > mm::message_max) __builtin_trap();
  if (utf8 && !signoff::valid_utf8(m)) __builtin_trap();
}

bool word_char(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

// No '@' that starts a word directly before a name character: nothing
// pings. ("D-1@2" in our own subjects is inside a word: no mention.)
void check_no_pings(std::string_view s) {
  for (std::size_t i = 0; i + 1 < s.size(); ++i) {
    const char c = s[i + 1];
    if (s[i] == '@' && (i == 0 || !word_char(s[i - 1])) && (word_char(c) || c == '.' || c == '-')) __builtin_trap();
  }
}

const signoff::time_point t0 = signoff::time_point{} + std::chrono::hours(24 * 365 * 56);

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const bool utf8 = signoff::valid_utf8(text);

  // ---- the session: a connected link, then this frame, then time passing ----
  mm::session s({}, "token", [] { return 0.5; });
  check_actions(s.start(t0));
  check_actions(s.on_connected(1, t0));
  auto hello = std::get<mm::event>(mm::decode_frame(R"({"event":"hello","data":{"connection_id":"c1"},"seq":0})"));
  check_actions(s.on_frame(1, hello, t0).actions);

  auto r = mm::decode_frame(text);
  if (auto* e = std::get_if<mm::decode_error>(&r)) {
    if (e->message.empty() || e->message.size() > 200) __builtin_trap();
  } else {
    mm::frame f = std::holds_alternative<mm::event>(r) ? mm::frame(std::get<mm::event>(r))
                                                       : mm::frame(std::get<mm::reply>(r));
    auto fx = s.on_frame(1, f, t0 + std::chrono::milliseconds(5));
    check_actions(fx.actions);
    if (fx.deliver && !std::holds_alternative<mm::event>(f)) __builtin_trap();
    check_actions(s.on_timer(t0 + std::chrono::seconds(50)));
    check_actions(s.on_timer(t0 + std::chrono::seconds(100)));
    if (s.live_links() > 1) __builtin_trap();
    check_actions(s.on_closed(2, "x", static_cast<std::uint16_t>(1000 + size % 20), t0 + std::chrono::seconds(101)));
    check_actions(s.on_timer(t0 + std::chrono::seconds(200)));
    if (s.live_links() > 1) __builtin_trap();
    if (s.target().find(' ') != std::string::npos) __builtin_trap();

    // ---- a posted event's data ----
    if (const auto* ev = std::get_if<mm::event>(&f)) {
      auto p = mm::decode_posted(ev->data);
      if (auto* ok = std::get_if<mm::posted>(&p)) {
        if (ok->p.id.empty() || ok->p.user_id.empty() || ok->p.channel_id.empty()) __builtin_trap();
        auto c = mm::command_of(ok->p, "!signoff", "u_bot");
        if (auto* cmd = std::get_if<mm::as_command>(&c)) {
          if (cmd->line.empty() || cmd->line.front() != '/') __builtin_trap();
          check_message(mm::post_body(ok->p.channel_id, cmd->line, ok->p.id), signoff::valid_utf8(cmd->line));
        } else if (std::get<mm::not_command>(c).why.empty()) {
          __builtin_trap();
        }
      }
    }
  }

  // ---- the actions URL ----
  auto req = mm::decode_action_request(text);
  if (auto* k = std::get_if<mm::click>(&req)) {
    if (k->user_id.empty()) __builtin_trap();
    mm::decode_trigger_id(k->trigger_id);
    if (mm::tags_equal(k->tag, mm::action_tag("secret", k->action, k->subject)) &&
        k->tag != mm::action_tag("secret", k->action, k->subject))
      __builtin_trap();
  } else if (auto* d = std::get_if<mm::dialog_submission>(&req)) {
    if (d->user_id.empty()) __builtin_trap();
    if (auto st = mm::parse_dialog_state(d->state)) {
      if (mm::dialog_state_text(st->subject, st->post_id, st->tag) != d->state) __builtin_trap();
      check_json(mm::dialog_open_body("t", "u", st->subject, d->state, size));
    }
  }
  mm::decode_trigger_id(text);
  if (auto st = mm::parse_dialog_state(text))
    if (mm::dialog_state_text(st->subject, st->post_id, st->tag) != text) __builtin_trap();

  // ---- REST answers ----
  for (const auto& p : mm::decode_post_list(text))
    if (p.id.empty() || p.user_id.empty() || p.channel_id.empty()) __builtin_trap();
  mm::decode_user(text);
  mm::decode_users(text);
  mm::decode_channels(text);
  mm::decode_team_ids(text);
  mm::object_id(text);
  mm::decode_api_error(text);
  const auto wait = mm::retry_after({{"x-ratelimit-reset", std::string(text.substr(0, size / 2))},
                                     {"retry-after", std::string(text.substr(size / 2))}});
  if (wait < std::chrono::milliseconds(1) || wait > std::chrono::hours(1)) __builtin_trap();

  // ---- the same bytes as text in every body ----
  if (utf8) {
    const std::string t(text);
    const mm::button_style buttons{"!signoff", "https://x/actions", "secret"};
    const signoff::approval_card card{"D-1", t, t, {t}, {t}, t, 1};
    for (const auto& style : {buttons, mm::button_style{}}) {
      auto c = mm::card_post("c", card, style);
      check_message(c, true);
      check_no_pings(json::serialize(c));
      check_message(mm::card_patch(card, style), true);
      check_message(mm::page_post("c", t, t, style), true);
      check_message(mm::page_post("c", t, "E-1", style), true);
    }
    const auto rendered = mm::render_mentions(t, {{"bob", "u1"}, {t, "u2"}}, {{"u1", "bob"}});
    if (!signoff::valid_utf8(rendered)) __builtin_trap();
    check_no_pings(mm::render_mentions(t, {}, {}));
    check_message(mm::post_body("c", t, t), true);
    json::parse(mm::action_response(t));
    json::parse(mm::dialog_field_error(t, t));
  }
  return 0;
}
