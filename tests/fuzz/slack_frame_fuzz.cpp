// Fuzzes the Slack Socket Mode codec: any frame must decode to a frame or a
// short named error, interpret to an intent, and every ack or Block Kit
// object built from it must serialise to JSON that parses back. Never a
// crash, a hang, an exception or an out-of-bounds read.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "bot/core/text.hpp"
#include "bot/protocol/slack/codec.hpp"

namespace slack = signoff::slack;
namespace json = boost::json;

namespace {

void check_json(const std::string& text) {
  boost::system::error_code ec;
  json::parse(text, ec);
  if (ec) __builtin_trap();
}

void check_cut(std::string_view s, std::size_t max) {
  auto out = slack::cut_text(s, max, "D-1");
  if (signoff::code_points(out) > max) __builtin_trap();
  if (!signoff::valid_utf8(out)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  auto r = slack::decode_frame(text);
  if (auto* e = std::get_if<slack::decode_error>(&r)) {
    // Named, and short: at most 40 bytes of the input are quoted.
    if (e->message.empty() || e->message.size() > 200) __builtin_trap();
  } else if (auto* env = std::get_if<slack::envelope>(&std::get<slack::frame>(r))) {
    if (env->envelope_id.empty()) __builtin_trap();
    auto in = slack::interpret(*env);
    json::object payload;
    if (auto* c = std::get_if<slack::run_command>(&in)) {
      if (c->line.empty()) __builtin_trap();
      // Clicks and modals only ever produce our own three verbs (a value that
      // does not parse still goes to the grammar, to be recorded invalid).
      if (env->type == "interactive" && !c->line.starts_with("/approve ") && !c->line.starts_with("/reject ") &&
          !c->line.starts_with("/ack "))
        __builtin_trap();
      payload = slack::ephemeral_reply(c->line);
    } else if (auto* m = std::get_if<slack::modal_error>(&in)) {
      payload = slack::modal_errors(*m);
    } else if (auto* o = std::get_if<slack::open_reject_modal>(&in)) {
      check_json(json::serialize(slack::reject_modal(o->trigger_id, o->draft, o->rev, o->from.channel_id, 4000)));
    }
    auto ack = slack::encode_ack(env->envelope_id, payload.empty() ? nullptr : &payload);
    check_json(ack);
  }

  // The same bytes as post text and as a Web API response.
  slack::decode_api_response(text);
  // Decoding what Slack escaped gives back what was typed, whatever it was.
  if (slack::unescape_mrkdwn(slack::escape_mrkdwn(text)) != text) __builtin_trap();
  if (signoff::valid_utf8(text)) {
    check_cut(text, 0);
    check_cut(text, 45);
    check_cut(text, size / 2);
    check_json(json::serialize(slack::plain_message(text)));
    const std::string t(text);
    auto card = slack::card_message(signoff::approval_card{"D-1", t, t, {t}, {t}, t, 1});
    for (const auto& b : card.at("blocks").as_array())
      if (const auto* t = b.as_object().if_contains("text"))
        if (signoff::code_points(t->at("text").as_string()) > slack::section_text_max) __builtin_trap();
    check_json(json::serialize(card));
  }
  return 0;
}
