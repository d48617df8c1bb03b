// The Mattermost codec: posts and `posted` events, commands in messages,
// REST answers, card / page / dialog bodies, button and dialog tags, and the
// requests the server POSTs to the actions URL.
#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "bot/core/text.hpp"
#include "bot/protocol/mattermost/codec.hpp"

using namespace signoff;
using namespace signoff::mattermost;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

const std::string zwsp = "\xE2\x80\x8B";
const std::string secret = "actions-SECRET";

post make_post(std::string message, std::string user = "u_alice") {
  post p;
  p.id = "p1";
  p.user_id = std::move(user);
  p.channel_id = "c1";
  p.message = std::move(message);
  return p;
}

std::string line_of(const post& p, std::string_view trigger = "!signoff") {
  auto r = command_of(p, trigger, "u_bot");
  if (auto* c = std::get_if<as_command>(&r)) return c->line;
  return "not: " + std::get<not_command>(r).why;
}

// The base64 the server's GenerateTriggerId makes (standard alphabet, padded).
std::string base64(std::string_view s) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(s[i]) << 16) | (static_cast<unsigned char>(s[i + 1]) << 8) |
                       static_cast<unsigned char>(s[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out.push_back(a[(v >> k) & 63]);
  }
  if (i + 1 == s.size()) {
    const unsigned v = static_cast<unsigned char>(s[i]) << 16;
    out += {a[(v >> 18) & 63], a[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == s.size()) {
    const unsigned v = (static_cast<unsigned char>(s[i]) << 16) | (static_cast<unsigned char>(s[i + 1]) << 8);
    out += {a[(v >> 18) & 63], a[(v >> 12) & 63], a[(v >> 6) & 63], '='};
  }
  return out;
}

approval_card pending_card() {
  return approval_card{"D-1", "New draft for approval", "D-1 r2 [pending] class standard, needs comms (0/1)",
                       {"linkedin", "x"}, {"alice"}, "Launch day! Ping @channel and @bob", 2};
}

const json::object& attachment_of(const json::object& body) {
  return body.at("props").at("attachments").as_array().at(0).as_object();
}

}  // namespace

TEST_CASE("a posted event's post string is parsed again", "[mattermost][codec]") {
  auto data = json::parse(R"({"channel_display_name":"Approvals","channel_name":"approvals","channel_type":"O",
    "post":"{\"id\":\"p9\",\"create_at\":1700000000123,\"update_at\":1700000000123,\"edit_at\":0,\"delete_at\":0,\"user_id\":\"u1\",\"channel_id\":\"c1\",\"root_id\":\"\",\"message\":\"!signoff draft show D-1\",\"type\":\"\",\"props\":{},\"metadata\":{}}",
    "sender_name":"@alice","team_id":"t1","set_online":true})")
                  .as_object();
  auto r = decode_posted(data);
  REQUIRE(std::holds_alternative<posted>(r));
  const auto& p = std::get<posted>(r);
  CHECK(p.p.id == "p9");
  CHECK(p.p.user_id == "u1");
  CHECK(p.p.channel_id == "c1");
  CHECK(p.p.message == "!signoff draft show D-1");
  CHECK(p.p.create_at == 1700000000123);
  CHECK(p.team_id == "t1");
  CHECK(p.channel_type == "O");
  CHECK(!p.p.from_bot);

  // Bots' and webhooks' props, as the string "true".
  auto bot = decode_post(json::parse(R"({"id":"p","user_id":"u","channel_id":"c","props":{"from_bot":"true"}})"));
  CHECK(std::get<post>(bot).from_bot);
  auto hook = decode_post(json::parse(R"({"id":"p","user_id":"u","channel_id":"c","props":{"from_webhook":"true"}})"));
  CHECK(std::get<post>(hook).from_webhook);

  for (const char* bad : {R"({})", R"({"post":5})", R"({"post":"not json"})", R"({"post":"{\"id\":\"p\"}"})",
                          R"({"post":"[1]"})", R"({"post":{"id":"p","user_id":"u"}})"}) {
    auto e = decode_posted(json::parse(bad).as_object());
    CHECK(std::holds_alternative<decode_error>(e));
  }
}

TEST_CASE("command_of: the trigger, then the command line with a slash", "[mattermost][codec]") {
  CHECK(line_of(make_post("!signoff approve D-1 fine by me")) == "/approve D-1 fine by me");
  CHECK(line_of(make_post("!signoff   \t draft new hello  world")) == "/draft new hello  world");
  CHECK(line_of(make_post("!signoff\napprove D-1")) == "/approve D-1");
  CHECK(line_of(make_post("!signoff")) == "/signoff help");
  CHECK(line_of(make_post("!signoff   ")) == "/signoff help");
  CHECK(line_of(make_post("!Signoff approve D-1")) == "/approve D-1");  // a phone's capital
  CHECK(line_of(make_post("!signoff /approve D-1")) == "/approve D-1");
  CHECK(line_of(make_post("?bot audit", "u_x"), "?bot") == "/audit");
  CHECK(line_of(make_post("!signoffx approve D-1")) == "not: no trigger (it is followed by more text)");
  CHECK(line_of(make_post("hello !signoff approve D-1")) == "not: no trigger");
  CHECK(line_of(make_post("!sign")) == "not: no trigger");
  CHECK(line_of(make_post("")) == "not: no trigger");
}

TEST_CASE("command_of refuses own, bots', webhooks', system and deleted posts", "[mattermost][codec]") {
  CHECK(line_of(make_post("!signoff approve D-1", "u_bot")) == "not: the bot's own post");
  auto b = make_post("!signoff approve D-1");
  b.from_bot = true;
  CHECK(line_of(b) == "not: a bot's post");
  auto w = make_post("!signoff approve D-1");
  w.from_webhook = true;
  CHECK(line_of(w) == "not: a webhook's post");
  auto s = make_post("!signoff approve D-1");
  s.type = "system_join_channel";
  CHECK(line_of(s) == "not: a system message");
  auto d = make_post("!signoff approve D-1");
  d.delete_at = 1700000000000;
  CHECK(line_of(d) == "not: a deleted post");
}

TEST_CASE("a post list comes out oldest first, bad entries are skipped", "[mattermost][codec]") {
  auto list = decode_post_list(R"({"order":["c","b","a"],"posts":{
      "c":{"id":"c","create_at":300,"user_id":"u","channel_id":"ch","message":"third"},
      "a":{"id":"a","create_at":100,"user_id":"u","channel_id":"ch","message":"first"},
      "b2":{"id":"b2","create_at":200,"user_id":"u","channel_id":"ch","message":"tie later id"},
      "b":{"id":"b","create_at":200,"user_id":"u","channel_id":"ch","message":"tie earlier id"},
      "x":{"id":"x","create_at":50},
      "y":"not a post"},
    "next_post_id":"","prev_post_id":""})");
  REQUIRE(list.size() == 4);
  CHECK(list[0].id == "a");
  CHECK(list[1].id == "b");
  CHECK(list[2].id == "b2");
  CHECK(list[3].id == "c");
  CHECK(decode_post_list("nope").empty());
  CHECK(decode_post_list(R"({"posts":[]})").empty());
}

TEST_CASE("REST answers: users, channels, teams, ids and errors", "[mattermost][codec]") {
  auto me = decode_user(R"({"id":"u_bot","username":"signoff","is_bot":true,"roles":"system_user"})");
  REQUIRE(me);
  CHECK(me->id == "u_bot");
  CHECK(me->username == "signoff");
  CHECK(me->is_bot);
  CHECK(!decode_user(R"({"username":"x"})"));
  CHECK(!decode_user("["));

  auto users = decode_users(R"([{"id":"u1","username":"alice"},{"username":"noid"},5,{"id":"u2","username":"bob"}])");
  REQUIRE(users.size() == 2);
  CHECK(users[1].username == "bob");

  auto chans = decode_channels(R"([{"id":"c1","team_id":"t1","type":"O","last_post_at":1700000000000},{"type":"P"}])");
  REQUIRE(chans.size() == 1);
  CHECK(chans[0].last_post_at == 1700000000000);
  CHECK(chans[0].type == "O");

  CHECK(decode_team_ids(R"([{"id":"t1","name":"a"},{"id":""},{"id":"t2"}])") == std::vector<std::string>{"t1", "t2"});
  CHECK(object_id(R"({"id":"p5","channel_id":"c"})") == std::optional<std::string>("p5"));
  CHECK(!object_id("{}"));

  auto err = decode_api_error(
      R"({"id":"api.context.session_expired.app_error","message":"Invalid or expired session","detailed_error":"","request_id":"r","status_code":401})");
  REQUIRE(err);
  CHECK(err->id == "api.context.session_expired.app_error");
  CHECK(err->status_code == 401);
  CHECK(!decode_api_error("limit exceeded"));
  CHECK(!decode_api_error("{}"));
}

TEST_CASE("retry_after reads X-Ratelimit-Reset, then Retry-After, clamped", "[mattermost][codec]") {
  using headers = std::vector<std::pair<std::string, std::string>>;
  CHECK(retry_after(headers{{"x-ratelimit-limit", "10"}, {"x-ratelimit-reset", "3"}, {"retry-after", "9"}}) == 3000ms);
  CHECK(retry_after(headers{{"retry-after", "7"}}) == 7000ms);
  CHECK(retry_after(headers{{"x-ratelimit-reset", "garbage"}, {"retry-after", "2"}}) == 2000ms);
  CHECK(retry_after(headers{{"retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"}}) == 1000ms);
  CHECK(retry_after(headers{}) == 1000ms);
  CHECK(retry_after(headers{{"x-ratelimit-reset", "0"}}) == 1ms);
  CHECK(retry_after(headers{{"x-ratelimit-reset", "99999999"}}) == 3'600'000ms);
  CHECK(retry_after(headers{{"retry-after", " 1.5 "}}) == 1500ms);
}

TEST_CASE("a card with actions_url carries tagged Approve and Reject buttons", "[mattermost][codec]") {
  button_style s{"!signoff", "https://signoff.example.com/mattermost/actions", secret};
  auto body = card_post("c_approvals", pending_card(), s);
  CHECK(body.at("channel_id").as_string() == "c_approvals");
  const std::string message(body.at("message").as_string());
  CHECK(message == "**New draft for approval**\nD-1 r2 [pending] class standard, needs comms (0/1)");
  const auto& att = attachment_of(body);
  CHECK(att.at("text").as_string() == "Launch day! Ping @" + zwsp + "channel and @" + zwsp + "bob");
  const auto& actions = att.at("actions").as_array();
  REQUIRE(actions.size() == 2);
  const auto& approve = actions[0].as_object();
  CHECK(approve.at("id").as_string() == "approve");
  CHECK(approve.at("style").as_string() == "primary");
  CHECK(approve.at("integration").at("url").as_string() == s.actions_url);
  const auto& ctx = approve.at("integration").at("context");
  CHECK(ctx.at("action").as_string() == "approve");
  CHECK(ctx.at("subject").as_string() == "D-1@2");
  CHECK(ctx.at("tag").as_string() == action_tag(secret, "approve", "D-1@2"));
  CHECK(actions[1].at("id").as_string() == "reject");
  CHECK(actions[1].at("style").as_string() == "danger");
  CHECK(actions[1].at("integration").at("context").at("tag").as_string() == action_tag(secret, "reject", "D-1@2"));
  // Action IDs: letters and digits only.
  for (const auto& a : actions)
    for (char c : a.at("id").as_string()) CHECK(std::isalnum(static_cast<unsigned char>(c)));
  const auto& fields = att.at("fields").as_array();
  REQUIRE(fields.size() == 2);
  CHECK(fields[0].at("value").as_string() == "linkedin, x");
  CHECK(fields[1].at("value").as_string() == "alice");
}

TEST_CASE("a card without actions_url shows the commands to type", "[mattermost][codec]") {
  button_style s;
  auto body = card_post("c", pending_card(), s);
  const std::string message(body.at("message").as_string());
  CHECK(message.find("`!signoff approve D-1@2`") != std::string::npos);
  CHECK(message.find("`!signoff reject D-1@2 REASON`") != std::string::npos);
  CHECK(attachment_of(body).at("actions").as_array().empty());
}

TEST_CASE("a decided card's patch has no buttons and no commands", "[mattermost][codec]") {
  auto c = pending_card();
  c.headline = "Draft approved";
  c.approve_rev.reset();
  auto patch = card_patch(c, button_style{"!signoff", "https://x/actions", secret});
  CHECK(!patch.contains("channel_id"));
  CHECK(patch.at("message").as_string().find("approve D-1") == json::string::npos);
  CHECK(attachment_of(patch).at("actions").as_array().empty());  // replaces the old attachment's buttons
}

TEST_CASE("text from people never pings, render_mentions adds only the listed people", "[mattermost][codec]") {
  CHECK(neutralise_mentions("hi @all, @here and @channel; mail a@b.com; @ alone; x@") ==
        "hi @" + zwsp + "all, @" + zwsp + "here and @" + zwsp + "channel; mail a@" + zwsp + "b.com; @ alone; x@");
  CHECK(neutralise_mentions("caf\xC3\xA9 \xE2\x80\x94 ok") == "caf\xC3\xA9 \xE2\x80\x94 ok");  // unchanged otherwise
  auto c = pending_card();
  c.headline = "@here new";
  c.status = "by @all";
  c.authors = {"@channel"};
  auto body = card_post("c", c, {});
  const std::string all = json::serialize(body);
  for (const char* ping : {"@here", "@all", "@channel", "@bob"}) CHECK(all.find(ping) == std::string::npos);

  std::vector<mention> people{{"bob", "u_bob"}, {"carol", "u_carol"}, {"dave", ""}};
  std::map<std::string, std::string> usernames{{"u_bob", "bob.smith"}};
  CHECK(render_mentions("Paging @bob, @carol and @dave. @channel look", people, usernames) ==
        "Paging @bob.smith, @" + zwsp + "carol and @" + zwsp + "dave. @" + zwsp + "channel look");
}

TEST_CASE("messages are cut to 16383 code points with a pointer, a cut never leaves half a name",
          "[mattermost][codec]") {
  const std::string long_text(20000, 'a');
  auto b = post_body("c", long_text, "root1");
  const std::string m(b.at("message").as_string());
  CHECK(code_points(m) == message_max);
  CHECK(m.find("(cut)") != std::string::npos);
  CHECK(b.at("root_id").as_string() == "root1");
  CHECK(!post_body("c", "x").contains("root_id"));

  // "@bobby" split by the cut: the head "@bo" could ping "@bo".
  const std::string pointer = "\xE2\x80\xA6 (cut)";
  std::string t(message_max - code_points(pointer) - 3, 'x');
  t += " @bobby and more";
  const std::string cut(post_body("c", t).at("message").as_string());
  CHECK(cut.find('@') == std::string::npos);
  CHECK(code_points(cut) <= message_max);

  auto c = pending_card();
  c.body = std::string(30000, 'b');
  const std::string text(attachment_of(card_post("c", c, {})).at("text").as_string());
  CHECK(code_points(text) == message_max);
  CHECK(text.find("/draft show D-1") != std::string::npos);
}

TEST_CASE("a page by DM carries an Ack button or the command to type", "[mattermost][codec]") {
  button_style s{"!signoff", "https://x/actions", secret};
  auto page = page_post("dm1", "E-3 legal: contract leak", "E-3", s);
  CHECK(page.at("message").as_string() == "E-3 legal: contract leak");
  const auto& ack = attachment_of(page).at("actions").as_array().at(0);
  CHECK(ack.at("id").as_string() == "ack");
  CHECK(ack.at("integration").at("context").at("subject").as_string() == "E-3");
  CHECK(ack.at("integration").at("context").at("tag").as_string() == action_tag(secret, "ack", "E-3"));

  auto typed = page_post("dm1", "E-3 legal", "E-3", {});
  CHECK(typed.at("message").as_string() == "E-3 legal\nTo acknowledge: `!signoff ack E-3`");
  CHECK(!typed.contains("props"));
  auto plain = page_post("dm1", "no escalation", "", s);
  CHECK(!plain.contains("props"));
  CHECK(direct_channel_body("u_bot", "u_bob") == json::array{"u_bot", "u_bob"});
}

TEST_CASE("tags: deterministic, bound to action, subject and key, tampering fails", "[mattermost][codec]") {
  const auto t = action_tag(secret, "approve", "D-1@2");
  CHECK(t.size() == 64);
  CHECK(t == action_tag(secret, "approve", "D-1@2"));
  CHECK(!tags_equal(t, action_tag(secret, "approve", "D-1@3")));
  CHECK(!tags_equal(t, action_tag(secret, "reject", "D-1@2")));
  CHECK(!tags_equal(t, action_tag("other", "approve", "D-1@2")));
  CHECK(tags_equal(t, t));
  std::string flipped = t;
  flipped[10] = flipped[10] == 'a' ? 'b' : 'a';
  CHECK(!tags_equal(t, flipped));
  CHECK(!tags_equal(t, t.substr(0, 63)));
  CHECK(!tags_equal("", ""));
  // The field separator keeps ("ab","c") and ("a","bc") apart.
  CHECK(action_tag(secret, "ab", "c") != action_tag(secret, "a", "bc"));
  // Known answers (openssl dgst -sha256 -hmac): the format is fixed, not just self-consistent.
  CHECK(t == "dc2a42ef92d3e9fc1592456c90ed2e7d614510c999742260ebb1199b8199969b");
  const auto d = dialog_tag(secret, "D-1@2", "u_bob");
  CHECK(d == "4b9654d399f486fc69c6a2de831553f605437bdf5481b47bce9a78efe8aac2d5");
  CHECK(d != dialog_tag(secret, "D-1@2", "u_eve"));
  CHECK(d != action_tag(secret, "D-1@2", "u_bob"));
}

TEST_CASE("action requests: a click, a dialog submission, anything else an error", "[mattermost][codec]") {
  auto k = decode_action_request(R"({"user_id":"u_bob","user_name":"bob","channel_id":"c1","channel_name":"approvals",
      "team_id":"t1","team_domain":"acme","post_id":"p1","trigger_id":"dHJpZw==","type":"button","data_source":"",
      "context":{"action":"approve","subject":"D-1@2","tag":"abc"}})");
  REQUIRE(std::holds_alternative<click>(k));
  const auto& c = std::get<click>(k);
  CHECK(c.user_id == "u_bob");
  CHECK(c.user_name == "bob");
  CHECK(c.post_id == "p1");
  CHECK(c.trigger_id == "dHJpZw==");
  CHECK(c.action == "approve");
  CHECK(c.subject == "D-1@2");
  CHECK(c.tag == "abc");

  auto d = decode_action_request(R"({"type":"dialog_submission","callback_id":"signoff:reject","state":"D-1@2 p1 t",
      "user_id":"u_bob","channel_id":"c1","team_id":"t1","submission":{"reason":"wrong tone"},"cancelled":false})");
  REQUIRE(std::holds_alternative<dialog_submission>(d));
  const auto& s = std::get<dialog_submission>(d);
  CHECK(s.user_id == "u_bob");
  CHECK(s.callback_id == "signoff:reject");
  CHECK(s.state == "D-1@2 p1 t");
  CHECK(s.reason == "wrong tone");
  CHECK(!s.cancelled);
  auto cancelled = decode_action_request(R"({"type":"dialog_submission","user_id":"u","cancelled":true})");
  CHECK(std::get<dialog_submission>(cancelled).cancelled);

  for (const char* bad : {"", "{", "[]", R"({"user_id":"u"})", R"({"context":{"action":"approve"}})",
                          R"({"type":"dialog_submission","submission":{"reason":"x"}})",
                          R"({"user_id":"u","context":"approve"})"})
    CHECK(std::holds_alternative<decode_error>(decode_action_request(bad)));
}

TEST_CASE("dialog state binds subject, post and tag, the open body follows Mattermost's limits",
          "[mattermost][codec]") {
  const auto tag = dialog_tag(secret, "D-12@3", "u_bob");
  const auto text = dialog_state_text("D-12@3", "p1abc", tag);
  auto st = parse_dialog_state(text);
  REQUIRE(st);
  CHECK(st->subject == "D-12@3");
  CHECK(st->post_id == "p1abc");
  CHECK(st->tag == tag);
  for (const std::string& bad :
       std::vector<std::string>{"", "D-12@3 p1abc", "D-12@3  p1abc " + tag, "D-12 p1abc " + tag, "D-12@3 p1-abc " + tag,
        "D-12@3 p1abc " + tag.substr(1), "D-12@3 p1abc " + tag + " x", "D-012@3 p1abc " + tag})
    CHECK(!parse_dialog_state(bad));

  auto open = dialog_open_body("trig", "https://x/actions", "D-12@3", text, 4000);
  CHECK(open.at("trigger_id").as_string() == "trig");
  CHECK(open.at("url").as_string() == "https://x/actions");
  const auto& dialog = open.at("dialog");
  CHECK(dialog.at("callback_id").as_string() == "signoff:reject");
  CHECK(dialog.at("title").as_string() == "Reject D-12@3");
  CHECK(dialog.at("submit_label").as_string() == "Reject");
  CHECK(dialog.at("state").as_string() == text);
  const auto& el = dialog.at("elements").as_array().at(0);
  CHECK(el.at("name").as_string() == "reason");
  CHECK(el.at("display_name").as_string() == "Reason");
  CHECK(el.at("type").as_string() == "textarea");
  CHECK(el.at("max_length").as_int64() == 3000);
  CHECK(!el.at("optional").as_bool());
  CHECK(dialog_open_body("t", "u", "D-1@1", "s", 500).at("dialog").at("elements").at(0).at("max_length").as_int64() ==
        500);
  const auto long_title = dialog_open_body("t", "u", "D-123456789012345678@123456789", "s", 10);
  CHECK(code_points(long_title.at("dialog").at("title").as_string()) <= 24);

  CHECK(action_response("") == "{}");
  CHECK(json::parse(action_response("Approved D-1")) == json::parse(R"({"ephemeral_text":"Approved D-1"})"));
  CHECK(json::parse(dialog_field_error("reason", "A reason is required")) ==
        json::parse(R"({"errors":{"reason":"A reason is required"}})"));
}

TEST_CASE("trigger IDs decode to user and time", "[mattermost][codec]") {
  auto t = decode_trigger_id(base64("k9x3clienttrigger:u_bob123:1700000000123:c2lnbmF0dXJl+/w=="));
  REQUIRE(t);
  CHECK(t->user_id == "u_bob123");
  CHECK(t->millis == 1700000000123);
  CHECK(!decode_trigger_id(""));
  CHECK(!decode_trigger_id("%%%not base64"));
  CHECK(!decode_trigger_id(base64("only:three:parts")));
  CHECK(!decode_trigger_id(base64("a:u:12x:sig")));
  CHECK(!decode_trigger_id(base64("a::12:sig")));
  CHECK(!decode_trigger_id(base64("a:u:1234567890123456789:sig")));
  CHECK(!decode_trigger_id(base64("a:u:1:s:extra")));
}
