// Fuzzes the Discord codecs: any frame must decode to a payload or a short
// named error; a payload drives the Gateway machine (brought up to a ready
// link first) and, as an INTERACTION_CREATE, interprets to an intent; every
// body built from what came in must be JSON that parses back and stays
// within Discord's limits. The same bytes also go through the REST decoders
// and the rate limiter. Never a crash, a hang, an exception or an
// out-of-bounds read.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "bot/core/text.hpp"
#include "bot/protocol/discord/codec.hpp"
#include "bot/protocol/discord/gateway.hpp"
#include "bot/protocol/discord/rate_limit.hpp"

namespace discord = signoff::discord;
namespace json = boost::json;

namespace {

void check_json(const json::object& o) {
  boost::system::error_code ec;
  json::parse(json::serialize(o), ec);
  if (ec) __builtin_trap();
}

// A message body: content within 2000 code points, valid UTF-8 when the
// input was, and no pings but the listed users.
void check_message(const json::object& o, bool utf8) {
  check_json(o);
  if (const auto* c = o.if_contains("content")) {
    if (signoff::code_points(c->as_string()) > discord::content_max) __builtin_trap();
    if (utf8 && !signoff::valid_utf8(c->as_string())) __builtin_trap();
  }
  const auto* am = o.if_contains("allowed_mentions");
  if (!am || !am->as_object().at("parse").as_array().empty()) __builtin_trap();
}

void check_actions(const std::vector<discord::action>& actions) {
  for (const auto& a : actions)
    if (const auto* f = std::get_if<discord::send_frame>(&a)) {
      boost::system::error_code ec;
      json::parse(f->text, ec);
      if (ec) __builtin_trap();
    }
}

const signoff::time_point t0 = signoff::time_point{} + std::chrono::hours(24 * 365 * 56);

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const bool utf8 = signoff::valid_utf8(text);

  // ---- the Gateway: a ready link, then this payload, then time passing ----
  discord::gateway g({}, "token", [] { return 0.5; });
  check_actions(g.start(t0));
  std::string why;
  g.on_gateway_bot(1, discord::gateway_bot{"wss://gateway.discord.gg", 1, 1000, 1000, std::chrono::hours(1), 1}, t0,
                   why);
  g.on_connected(1, t0);
  auto hello = std::get<discord::payload>(discord::decode_payload(R"({"op":10,"d":{"heartbeat_interval":41250}})"));
  check_actions(g.on_payload(1, hello, t0));
  auto ready = std::get<discord::payload>(
      discord::decode_payload(R"({"op":0,"s":1,"t":"READY","d":{"session_id":"s","resume_gateway_url":"wss://r"}})"));
  check_actions(g.on_payload(1, ready, t0));

  auto r = discord::decode_payload(text);
  if (auto* e = std::get_if<discord::decode_error>(&r)) {
    if (e->message.empty() || e->message.size() > 200) __builtin_trap();
  } else {
    const auto& p = std::get<discord::payload>(r);
    check_actions(g.on_payload(1, p, t0 + std::chrono::milliseconds(5)));
    check_actions(g.on_timer(t0 + std::chrono::seconds(50)));
    check_actions(g.on_timer(t0 + std::chrono::seconds(100)));
    if (g.live_links() > 1) __builtin_trap();
    check_actions(g.on_closed(g.live_links() ? 1 : 2, static_cast<std::uint16_t>(4000 + size % 20), "x",
                              t0 + std::chrono::seconds(101)));
    check_actions(g.on_timer(t0 + std::chrono::seconds(200)));
    if (g.live_links() > 1) __builtin_trap();

    // ---- the payload's d as an interaction ----
    auto in = discord::interpret_interaction(p.d);
    if (auto* i = std::get_if<discord::interaction>(&in)) {
      if (i->id.empty() || i->token.empty()) __builtin_trap();
      if (auto* c = std::get_if<discord::run_command>(&i->intent)) {
        check_message(discord::callback_reply(c->line).at("data").as_object(), utf8);
        check_message(discord::webhook_message(c->line, true), utf8);
      } else if (auto* m = std::get_if<discord::open_reject_modal>(&i->intent)) {
        auto modal = discord::callback_reject_modal(m->draft, m->rev, 4000);
        check_json(modal);
        if (modal.at("data").at("custom_id").as_string().size() > discord::custom_id_max) __builtin_trap();
      }
    }
    discord::command_line(p.d);
  }

  // ---- REST bodies ----
  discord::decode_gateway_bot(text);
  discord::decode_api_error(text);
  discord::object_id(text);
  auto limited = discord::decode_rate_limited(text);
  discord::rest_limiter limiter;
  const auto route = discord::route_key("POST", text);
  auto split = text.find(':');
  auto headers = discord::read_rate_headers(
      {{"x-ratelimit-bucket", std::string(text.substr(0, split == std::string_view::npos ? 0 : split))},
       {"x-ratelimit-remaining", std::string(text.substr(0, 4))},
       {"x-ratelimit-reset-after", std::string(text.substr(0, 12))},
       {"retry-after", std::string(text.substr(size / 2))}});
  const auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  limiter.on_response(route, size % 2 ? 429u : 200u, headers, limited, now);
  if (limiter.ready_at(route, now) < now) __builtin_trap();
  limiter.sent(route, now);

  // ---- the same bytes as text in every body ----
  if (utf8) {
    const std::string t(text);
    check_message(discord::plain_message(t), true);
    check_message(discord::page_dm_message(t, t), true);
    check_message(discord::mention_message(t, {{"bob", "111"}, {t, "222"}}), true);
    auto card = discord::card_message(signoff::approval_card{"D-1", t, t, {t}, {t}, t, 1});
    check_json(card);
    const auto& embed = card.at("embeds").as_array()[0].as_object();
    std::size_t total = signoff::code_points(embed.at("title").as_string()) +
                        signoff::code_points(embed.at("description").as_string());
    if (const auto* f = embed.if_contains("footer")) total += signoff::code_points(f->at("text").as_string());
    if (total > discord::embed_total_max) __builtin_trap();
    check_json(discord::callback_reject_modal(t, static_cast<std::int64_t>(size), size));
  }
  return 0;
}
