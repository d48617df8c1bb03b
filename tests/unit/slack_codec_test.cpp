// Slack Socket Mode frames, envelope interpretation, Block Kit and Web API
// responses. Payloads follow the shapes in Slack's documentation
// (api.slack.com/apis/socket-mode, /interactivity/slash-commands,
// /reference/interaction-payloads/block-actions and /views).
#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "bot/core/text.hpp"
#include "bot/protocol/slack/codec.hpp"
#include "bot/protocol/slack/identity.hpp"
#include "config/config.hpp"

using namespace signoff;
using namespace signoff::slack;
namespace json = boost::json;

namespace {

frame decode(std::string_view text) {
  auto r = decode_frame(text);
  if (auto* e = std::get_if<decode_error>(&r)) FAIL("decode error: " << e->message);
  return std::get<frame>(r);
}

std::string decode_fails(std::string_view text) {
  auto r = decode_frame(text);
  if (std::holds_alternative<frame>(r)) FAIL("decoded but should not: " << text.substr(0, 200));
  auto msg = std::get<decode_error>(r).message;
  CHECK_FALSE(msg.empty());
  return msg;
}

template <class T>
T as(const intent& i) {
  if (!std::holds_alternative<T>(i)) FAIL("unexpected intent (index " << i.index() << ")");
  return std::get<T>(i);
}

envelope envelope_of(std::string_view text) {
  auto f = decode(text);
  REQUIRE(std::holds_alternative<envelope>(f));
  return std::get<envelope>(f);
}

json::value js(std::string_view text) { return json::parse(text); }

// A slash command as Socket Mode delivers it.
std::string slash_envelope(std::string_view command, std::string_view text) {
  json::object payload{
      {"token", "bHKJ2n9AW6Ju3MjciOHfbA1b"}, {"team_id", "T0TEAM"}, {"team_domain", "acme"},
      {"channel_id", "C0APPROVALS"}, {"channel_name", "approvals"}, {"user_id", "U01ALICE"},
      {"user_name", "alice"}, {"command", command}, {"text", text}, {"api_app_id", "A0SIGNOFF"},
      {"is_enterprise_install", "false"},
      {"response_url", "https://hooks.slack.com/commands/T0TEAM/1234567890/abcdEFGH"},
      {"trigger_id", "2136887495697.1234567890.abcdef"}};
  return json::serialize(json::object{{"envelope_id", "dbdd0ef3-1543-4f94-bfb4-133d0e6c1545"},
                                      {"payload", payload},
                                      {"type", "slash_commands"},
                                      {"accepts_response_payload", true}});
}

// A click on one of our buttons (block_actions), as in Slack's reference.
std::string block_actions_envelope(std::string_view action_id, std::string_view value) {
  auto payload = js(R"({
    "type": "block_actions",
    "user": {"id": "U02BOB", "username": "bob", "name": "bob", "team_id": "T0TEAM"},
    "api_app_id": "A0SIGNOFF",
    "token": "9s8d9as89d8as9d8as989",
    "container": {"type": "message", "message_ts": "1548261231.000200", "channel_id": "C0APPROVALS",
                  "is_ephemeral": false},
    "trigger_id": "12321423423.333649436676.d8c1bb837935619ccad0f624c448ffb3",
    "team": {"id": "T0TEAM", "domain": "acme"},
    "enterprise": null,
    "is_enterprise_install": false,
    "channel": {"id": "C0APPROVALS", "name": "approvals"},
    "message": {"type": "message", "ts": "1548261231.000200", "text": "New draft for approval",
                "blocks": [{"type": "section", "block_id": "a1",
                            "text": {"type": "mrkdwn", "text": "New draft", "verbatim": true}}]},
    "state": {"values": {}},
    "response_url": "https://hooks.slack.com/actions/T0TEAM/1234/abcd",
    "actions": [{"action_id": "X", "block_id": "signoff_decide",
                 "text": {"type": "plain_text", "text": "Approve", "emoji": true},
                 "value": "X", "style": "primary", "type": "button", "action_ts": "1548426417.840180"}]
  })").as_object();
  auto& a = payload["actions"].as_array()[0].as_object();
  a["action_id"] = action_id;
  a["value"] = value;
  return json::serialize(json::object{{"envelope_id", "57d6a792-4d35-4d0b-b6aa-3361493e1caf"},
                                      {"payload", payload},
                                      {"type", "interactive"},
                                      {"accepts_response_payload", false}});
}

// A submitted Reject modal (view_submission), as in Slack's reference.
std::string view_submission_envelope(std::string_view metadata, const json::value& reason_value,
                                     std::string_view callback = reject_callback) {
  auto payload = js(R"({
    "type": "view_submission",
    "team": {"id": "T0TEAM", "domain": "acme"},
    "user": {"id": "U03CAROL", "username": "carol", "name": "carol", "team_id": "T0TEAM"},
    "api_app_id": "A0SIGNOFF",
    "token": "W3VDvuzi2nRLsiaDOsmJranO",
    "trigger_id": "12466734323.1395872398",
    "view": {
      "id": "VNHU13V36", "team_id": "T0TEAM", "type": "modal",
      "blocks": [{"type": "input", "block_id": "reason",
                  "label": {"type": "plain_text", "text": "Reason"},
                  "element": {"type": "plain_text_input", "action_id": "reason_input", "multiline": true}}],
      "private_metadata": "", "callback_id": "",
      "state": {"values": {"reason": {"reason_input": {"type": "plain_text_input", "value": null}}}},
      "hash": "156663117.cd33ad1f", "title": {"type": "plain_text", "text": "Reject D-12"},
      "clear_on_close": false, "notify_on_close": false,
      "close": {"type": "plain_text", "text": "Cancel"}, "submit": {"type": "plain_text", "text": "Reject"},
      "previous_view_id": null, "root_view_id": "VNHU13V36", "app_id": "A0SIGNOFF",
      "external_id": "", "app_installed_team_id": "T0TEAM", "bot_id": "B0SIGNOFF"
    },
    "response_urls": [],
    "is_enterprise_install": false,
    "enterprise": null
  })").as_object();
  auto& view = payload["view"].as_object();
  view["private_metadata"] = metadata;
  view["callback_id"] = callback;
  view["state"].as_object()["values"].as_object()["reason"].as_object()["reason_input"].as_object()["value"] =
      reason_value;
  return json::serialize(json::object{{"envelope_id", "c6b0e9f1-7d1e-4b4e-9c3a-5f2e9a1d0b7c"},
                                      {"payload", payload},
                                      {"type", "interactive"},
                                      {"accepts_response_payload", true}});
}

}  // namespace

// ---- frames ----------------------------------------------------------------

TEST_CASE("hello carries the connection count, debug_info and the connection time", "[slack][codec]") {
  auto f = decode(R"({"type":"hello","num_connections":2,
    "debug_info":{"host":"applink-7fc4fdbb64-4x5xq","build_number":10,"approximate_connection_time":18060},
    "connection_info":{"app_id":"A0SIGNOFF","approximate_connection_time":3600}})");
  auto h = std::get<hello>(f);
  CHECK(h.num_connections == 2);
  CHECK(js(h.debug_info) == js(R"({"host":"applink-7fc4fdbb64-4x5xq","build_number":10,"approximate_connection_time":18060})"));
  CHECK(h.approximate_connection_time == 3600);

  // Without connection_info the time is taken from debug_info; absent, it is empty.
  CHECK(std::get<hello>(decode(R"({"type":"hello","num_connections":1,"debug_info":{"approximate_connection_time":18060}})"))
            .approximate_connection_time == 18060);
  auto bare = std::get<hello>(decode(R"({"type":"hello"})"));
  CHECK(bare.num_connections == 0);
  CHECK(bare.debug_info.empty());
  CHECK_FALSE(bare.approximate_connection_time);
}

TEST_CASE("disconnect maps each documented reason, anything else is other", "[slack][codec]") {
  auto reason = [](std::string_view r) {
    auto d = std::get<disconnect>(decode(R"({"type":"disconnect","reason":")" + std::string(r) +
                                         R"(","debug_info":{"host":"applink-3"}})"));
    CHECK(d.reason_text == r);
    return d.reason;
  };
  CHECK(reason("warning") == disconnect_reason::warning);
  CHECK(reason("refresh_requested") == disconnect_reason::refresh_requested);
  CHECK(reason("link_disabled") == disconnect_reason::link_disabled);
  CHECK(reason("too_many_websockets") == disconnect_reason::too_many_websockets);
  CHECK(reason("maintenance") == disconnect_reason::other);
  CHECK(std::get<disconnect>(decode(R"({"type":"disconnect"})")).reason == disconnect_reason::other);
}

TEST_CASE("an envelope keeps its id, type, payload and retry fields", "[slack][codec]") {
  auto e = envelope_of(R"({"envelope_id":"dbdd0ef3-1543-4f94-bfb4-133d0e6c1545",
    "payload":{"token":"XXYYZZ","team_id":"T0TEAM","api_app_id":"A0SIGNOFF",
      "event":{"type":"app_mention","user":"U01ALICE","text":"<@U0BOT> hi","ts":"1515449522.000016",
               "channel":"C0APPROVALS","event_ts":"1515449522000016"},
      "type":"event_callback","event_id":"Ev0PV52K25","event_time":1515449522000016},
    "type":"events_api","accepts_response_payload":false,"retry_attempt":2,"retry_reason":"timeout"})");
  CHECK(e.envelope_id == "dbdd0ef3-1543-4f94-bfb4-133d0e6c1545");
  CHECK(e.type == "events_api");
  CHECK(e.payload.at("event_id") == "Ev0PV52K25");
  CHECK_FALSE(e.accepts_response_payload);
  CHECK(e.retry_attempt == 2);
  CHECK(e.retry_reason == "timeout");

  auto s = envelope_of(slash_envelope("/approve", "D-1"));
  CHECK(s.accepts_response_payload);
  CHECK(s.retry_attempt == 0);
  CHECK(s.retry_reason.empty());
}

TEST_CASE("frames of other types are unknown, not errors", "[slack][codec]") {
  CHECK(std::get<unknown_frame>(decode(R"({"type":"pong"})")).type == "pong");
  CHECK(std::get<unknown_frame>(decode(R"({"hello":"world"})")).type.empty());
  // An unknown type with an envelope_id still needs its ack: it is an envelope.
  CHECK(envelope_of(R"({"type":"future_thing","envelope_id":"e1","payload":{}})").type == "future_thing");
}

TEST_CASE("garbage and wrong shapes are clear errors that quote at most 80 bytes", "[slack][codec]") {
  CHECK_THAT(decode_fails(""), Catch::Contains("not JSON"));
  CHECK_THAT(decode_fails("{\"type\":\"hello\""), Catch::Contains("not JSON"));
  CHECK_THAT(decode_fails("\xff\xfe garbage"), Catch::Contains("not JSON"));
  CHECK_THAT(decode_fails(R"({"type":"hello","x":"\xc3"})"), Catch::Contains("not JSON"));  // bad UTF-8
  CHECK_THAT(decode_fails("[1,2,3]"), Catch::Contains("not a JSON object"));
  CHECK_THAT(decode_fails("\"hello\""), Catch::Contains("not a JSON object"));
  CHECK_THAT(decode_fails(R"({"type":7})"), Catch::Contains("'type' is not a string"));
  CHECK_THAT(decode_fails(R"({"type":"slash_commands","payload":{}})"), Catch::Contains("no envelope_id"));
  CHECK_THAT(decode_fails(R"({"type":"interactive","envelope_id":42,"payload":{}})"), Catch::Contains("no envelope_id"));
  CHECK_THAT(decode_fails(R"({"type":"interactive","envelope_id":"e1"})"), Catch::Contains("no payload object"));
  CHECK_THAT(decode_fails(R"({"type":"interactive","envelope_id":"e1","payload":"{}"})"), Catch::Contains("no payload object"));

  // Long input: the message holds no run of more than 80 input bytes.
  std::string secret(5000, 'S');
  for (const auto& text : {"not json " + secret, "[\"" + secret + "\"]",
                           R"({"type":"interactive","envelope_id":")" + secret + R"("})",
                           R"({"type":")" + secret + R"(","envelope_id":7})"}) {
    auto msg = decode_fails(text);
    CHECK(msg.find(std::string(81, 'S')) == std::string::npos);
    CHECK(msg.size() < 200);
  }
  // Control bytes are not copied into the message.
  CHECK(decode_fails("\x01\x02{oops").find('\x01') == std::string::npos);
}

TEST_CASE("huge numbers, wrong types and deep nesting do not crash", "[slack][codec]") {
  auto h = std::get<hello>(decode(R"({"type":"hello","num_connections":99999999999999999999999,
    "connection_info":{"approximate_connection_time":1e300}})"));
  CHECK(h.num_connections == 0);
  CHECK_FALSE(h.approximate_connection_time);
  CHECK(std::get<hello>(decode(R"({"type":"hello","num_connections":"3"})")).num_connections == 0);
  CHECK(std::get<hello>(decode(R"({"type":"hello","num_connections":-2.5})")).num_connections == 0);
  CHECK(std::get<hello>(decode(R"({"type":"hello","num_connections":18446744073709551615})")).num_connections == 0);
  CHECK(std::get<hello>(decode(R"({"type":"hello","num_connections":3.0})")).num_connections == 3);
  CHECK(std::get<disconnect>(decode(R"({"type":"disconnect","reason":["warning"]})")).reason == disconnect_reason::other);

  auto e = envelope_of(R"({"type":"slash_commands","envelope_id":"e1","payload":{"command":5,"text":{}},
    "accepts_response_payload":"true","retry_attempt":1e999,"retry_reason":3})");
  CHECK_FALSE(e.accepts_response_payload);
  CHECK(e.retry_attempt == 0);
  CHECK(e.retry_reason.empty());
  CHECK(as<ignore_envelope>(interpret(e)).why == "slash_commands payload without a command");

  std::string deep(100000, '[');
  decode_fails(deep);
  std::string nested = R"({"type":"hello","debug_info":)" + std::string(60, '[') + std::string(60, ']') + "}";
  CHECK(std::get<hello>(decode(nested)).debug_info.size() == 120);
}

// ---- interpret ----------------------------------------------------------------

TEST_CASE("a slash command becomes its command line with an ephemeral ack", "[slack][codec]") {
  auto r = as<run_command>(interpret(envelope_of(slash_envelope("/approve", "D-1@2 looks good"))));
  CHECK(r.line == "/approve D-1@2 looks good");
  CHECK(r.from == origin{"T0TEAM", "C0APPROVALS", "U01ALICE"});
  CHECK(r.response_url == "https://hooks.slack.com/commands/T0TEAM/1234567890/abcdEFGH");
  CHECK(r.ephemeral_ack);
  CHECK_FALSE(r.from_modal);

  CHECK(as<run_command>(interpret(envelope_of(slash_envelope("/escalations", "")))).line == "/escalations");
  CHECK(as<run_command>(interpret(envelope_of(slash_envelope("/signoff", "approve D-1")))).line ==
        "/signoff approve D-1");
}

TEST_CASE("unescape_mrkdwn decodes exactly Slack's three entities, in one pass", "[slack][codec]") {
  CHECK(unescape_mrkdwn("margins &lt; 5% &amp; rising") == "margins < 5% & rising");
  CHECK(unescape_mrkdwn("&lt;&gt;&amp;") == "<>&");
  CHECK(unescape_mrkdwn("x &gt; y") == "x > y");
  // One left-to-right pass: what "&amp;" decodes to is not read again.
  CHECK(unescape_mrkdwn("&amp;lt;") == "&lt;");
  CHECK(unescape_mrkdwn("&amp;amp;") == "&amp;");
  CHECK(unescape_mrkdwn("&amp;gt;&amp;") == "&gt;&");
  // Every other entity, and anything that is not quite one of the three, stays as it came.
  for (std::string_view kept : {"&quot;", "&#39;", "&apos;", "&nbsp;", "&#60;", "&#x3C;", "&LT;", "&Amp;", "&amp",
                                "&lt", "&gt", "&", "&&", "a & b", "&am;", "&ltx;", "; &", "", "no entities"})
    CHECK(unescape_mrkdwn(kept) == kept);
  CHECK(unescape_mrkdwn("&&lt;;") == "&<;");
  CHECK(unescape_mrkdwn("&amp&lt;") == "&amp<");
  CHECK(unescape_mrkdwn("é&lt;😀&gt;\n&amp;") == "é<😀>\n&");
  // Slack's own markup is not escaped and passes through: <@U…|name>, <#C…>, links.
  CHECK(unescape_mrkdwn("<@U01BOB|bob> <https://x.example/?a=1&amp;b=2|x>") ==
        "<@U01BOB|bob> <https://x.example/?a=1&b=2|x>");
  // It undoes escape_mrkdwn, whatever was typed.
  for (std::string_view typed : {"a < b & c > d", "&amp;lt;", "&&&", "<<>>", "&quot;<@U1>&#39;", "é & 😀"})
    CHECK(unescape_mrkdwn(escape_mrkdwn(typed)) == typed);
}

TEST_CASE("slash command text is decoded before it becomes the command line", "[slack][codec]") {
  auto line = [](std::string_view command, std::string_view text) {
    return as<run_command>(interpret(envelope_of(slash_envelope(command, text)))).line;
  };
  CHECK(line("/draft", "new margins &lt; 5% &amp; rising") == "/draft new margins < 5% & rising");
  CHECK(line("/draft", "new --to x Tom &amp; Jerry &gt; Itchy") == "/draft new --to x Tom & Jerry > Itchy");
  CHECK(line("/signoff", "draft new a &lt;b&gt;") == "/signoff draft new a <b>");
  CHECK(line("/draft", "new typed &amp;lt; literally") == "/draft new typed &lt; literally");
  CHECK(line("/draft", "new &quot;as typed&quot; \"quotes\"") == "/draft new &quot;as typed&quot; \"quotes\"");
}

TEST_CASE("an Approve click is /approve D-n@R, answered through response_url", "[slack][codec]") {
  auto r = as<run_command>(interpret(envelope_of(block_actions_envelope(approve_action, "D-12@3"))));
  CHECK(r.line == "/approve D-12@3");
  CHECK(r.from == origin{"T0TEAM", "C0APPROVALS", "U02BOB"});
  CHECK(r.response_url == "https://hooks.slack.com/actions/T0TEAM/1234/abcd");
  CHECK_FALSE(r.ephemeral_ack);
  CHECK_FALSE(r.from_modal);
}

TEST_CASE("a Reject click opens the modal for that draft and revision", "[slack][codec]") {
  auto m = as<open_reject_modal>(interpret(envelope_of(block_actions_envelope(reject_action, "D-12@3"))));
  CHECK(m.trigger_id == "12321423423.333649436676.d8c1bb837935619ccad0f624c448ffb3");
  CHECK(m.draft == "D-12");
  CHECK(m.rev == 3);
  CHECK(m.from == origin{"T0TEAM", "C0APPROVALS", "U02BOB"});
}

TEST_CASE("clicks with malformed values run as the typed command, so they are recorded invalid", "[slack][codec]") {
  // Before: these were acked and ignored, leaving no audit record of the click.
  for (auto v : {"", "D-12", "D-12@", "D-@3", "E-1@2", "D-1@2 ", "D-0@1", "D-1@0", "D-1@2@3", "D--1@2",
                 "D-1234567890123456789@1", "d-1@2"}) {
    auto r = as<run_command>(interpret(envelope_of(block_actions_envelope(approve_action, v))));
    CHECK(r.line == "/approve " + std::string(v));
    CHECK(r.from == origin{"T0TEAM", "C0APPROVALS", "U02BOB"});
    CHECK_FALSE(r.ephemeral_ack);
    CHECK(as<run_command>(interpret(envelope_of(block_actions_envelope(reject_action, v)))).line ==
          "/reject " + std::string(v));
  }
}

TEST_CASE("clicks with foreign action ids or no action are ignored", "[slack][codec]") {
  CHECK_THAT(as<ignore_envelope>(interpret(envelope_of(block_actions_envelope("other_app_button", "D-1@2")))).why,
             Catch::Contains("is not ours"));

  auto e = envelope_of(block_actions_envelope(approve_action, "D-1@2"));
  e.payload["actions"] = json::array{};
  CHECK(as<ignore_envelope>(interpret(e)).why == "block_actions without an action");
  e.payload["actions"] = "nope";
  CHECK(as<ignore_envelope>(interpret(e)).why == "block_actions without an action");
}

TEST_CASE("an Ack click on a page's direct message is /ack E-n by the clicker", "[slack][codec][dm]") {
  auto e = envelope_of(block_actions_envelope(ack_action, "E-7"));
  // In a DM the channel is the app's direct message channel with the clicker.
  e.payload["channel"] = json::object{{"id", "D02BOB"}, {"name", "directmessage"}};
  auto r = as<run_command>(interpret(e));
  CHECK(r.line == "/ack E-7");
  CHECK(r.from == origin{"T0TEAM", "D02BOB", "U02BOB"});
  CHECK(r.response_url == "https://hooks.slack.com/actions/T0TEAM/1234/abcd");
  CHECK_FALSE(r.ephemeral_ack);  // answered through response_url
  CHECK_FALSE(r.from_modal);
}

TEST_CASE("Ack clicks with malformed values run as the typed /ack, so they are recorded invalid", "[slack][codec][dm]") {
  for (auto v : {"", "E-", "E-0", "E--1", "E-1 ", " E-1", "e-1", "D-1", "D-1@2", "E-1@2", "E-1x",
                 "E-1234567890123456789", "E-1; /crisis start sev1 x"}) {
    auto r = as<run_command>(interpret(envelope_of(block_actions_envelope(ack_action, v))));
    CHECK(r.line == "/ack " + std::string(v));
    CHECK(r.response_url == "https://hooks.slack.com/actions/T0TEAM/1234/abcd");
  }
  // The Ack value is never taken by the Approve button and vice versa.
  CHECK(as<run_command>(interpret(envelope_of(block_actions_envelope(approve_action, "E-1")))).line == "/approve E-1");
}

TEST_CASE("a page's direct message carries an Ack button rendered from its escalation ID", "[slack][codec][dm]") {
  auto m = page_dm_message("You are paged on E-3 [sev2] legal: <!channel> & co\n/ack E-3", "E-3");
  CHECK(m.at("text").as_string() == "You are paged on E-3 [sev2] legal: &lt;!channel&gt; &amp; co\n/ack E-3");
  const auto& blocks = m.at("blocks").as_array();
  REQUIRE(blocks.size() == 2);
  CHECK(blocks[0].at("type").as_string() == "section");
  CHECK(blocks[0].at("text").at("text").as_string() == m.at("text").as_string());
  const auto& actions = blocks[1].as_object();
  CHECK(actions.at("type").as_string() == "actions");
  const auto& elements = actions.at("elements").as_array();
  REQUIRE(elements.size() == 1);
  CHECK(elements[0].at("action_id").as_string() == ack_action);
  CHECK(elements[0].at("value").as_string() == "E-3");
  CHECK(elements[0].at("text").at("text").as_string() == "Ack");
  // What the button renders, interpret reads back as /ack of the same escalation.
  auto r = as<run_command>(interpret(envelope_of(
      block_actions_envelope(ack_action, std::string(elements[0].at("value").as_string())))));
  CHECK(r.line == "/ack E-3");

  // A DM that is not an escalation's page has no button.
  auto plain = page_dm_message("hello", "D-1");
  CHECK(plain.at("blocks").as_array().size() == 1);
}

TEST_CASE("origin falls back to user.team_id and container.channel_id", "[slack][codec]") {
  auto e = envelope_of(block_actions_envelope(approve_action, "D-1@2"));
  e.payload.erase("team");
  e.payload.erase("channel");
  CHECK(as<run_command>(interpret(e)).from == origin{"T0TEAM", "C0APPROVALS", "U02BOB"});
}

TEST_CASE("the Reject modal's submission is /reject D-n@R REASON for the card's channel", "[slack][codec]") {
  auto r = as<run_command>(interpret(envelope_of(view_submission_envelope("D-12@3|C0APPROVALS",
                                                                          "  Claims need legal review.\n"))));
  CHECK(r.line == "/reject D-12@3 Claims need legal review.");
  CHECK(r.from == origin{"T0TEAM", "C0APPROVALS", "U03CAROL"});
  CHECK(r.from_modal);
  CHECK_FALSE(r.ephemeral_ack);

  // Multi-line reasons are kept; one starting with "--" survives the grammar's "--".
  CHECK(as<run_command>(interpret(envelope_of(view_submission_envelope("D-1@1|C1", "line 1\nline 2"))))
            .line == "/reject D-1@1 line 1\nline 2");
  CHECK(as<run_command>(interpret(envelope_of(view_submission_envelope("D-1@1|C1", "-- typo in hashtag"))))
            .line == "/reject D-1@1 -- -- typo in hashtag");

  // The reason comes escaped like slash-command text and is decoded the same way.
  CHECK(as<run_command>(interpret(envelope_of(view_submission_envelope(
                            "D-1@1|C1", " claims &lt;unproven&gt; &amp; &quot;rushed&quot;\n"))))
            .line == "/reject D-1@1 claims <unproven> & &quot;rushed&quot;");
  CHECK(as<run_command>(interpret(envelope_of(view_submission_envelope("D-1@1|C1", "&amp;lt;"))))
            .line == "/reject D-1@1 &lt;");
}

TEST_CASE("a modal without a reason is answered with a field error", "[slack][codec]") {
  for (const json::value& v : {json::value(nullptr), json::value(""), json::value(" \n\t "), json::value(5)}) {
    auto err = as<modal_error>(interpret(envelope_of(view_submission_envelope("D-12@3|C0APPROVALS", v))));
    CHECK(err.block_id == reason_block);
    CHECK(err.message == "A reason is required.");
  }
  auto e = envelope_of(view_submission_envelope("D-12@3|C0APPROVALS", "x"));
  e.payload["view"].as_object().erase("state");
  CHECK(as<modal_error>(interpret(e)).block_id == reason_block);
}

TEST_CASE("foreign modals and malformed metadata are ignored", "[slack][codec]") {
  CHECK_THAT(as<ignore_envelope>(interpret(envelope_of(view_submission_envelope("D-1@1|C1", "x", "other_modal")))).why,
             Catch::Contains("is not ours"));
  for (auto meta : {"", "D-1@1", "D-1|C1", "garbage|C1"})
    CHECK_THAT(as<ignore_envelope>(interpret(envelope_of(view_submission_envelope(meta, "x")))).why,
               Catch::Contains("malformed"));
}

TEST_CASE("events and other interactive types are ignored", "[slack][codec]") {
  CHECK_THAT(as<ignore_envelope>(interpret(envelope_of(R"({"envelope_id":"e","type":"events_api","payload":{}})"))).why,
             Catch::Contains("events_api"));
  CHECK_THAT(as<ignore_envelope>(interpret(envelope_of(
                 R"({"envelope_id":"e","type":"interactive","payload":{"type":"shortcut","callback_id":"x"}})"))).why,
             Catch::Contains("shortcut"));
  CHECK(std::holds_alternative<ignore_envelope>(interpret(envelope_of(
      R"({"envelope_id":"e","type":"interactive","payload":{"type":"view_closed"}})"))));
}

// ---- acks -------------------------------------------------------------------

TEST_CASE("acks and ack payloads have Slack's shape", "[slack][codec]") {
  CHECK(js(encode_ack("e-1")) == js(R"({"envelope_id":"e-1"})"));
  auto reply = ephemeral_reply("D-1 approved <yes>");
  CHECK(js(encode_ack("e-2", &reply)) ==
        js(R"({"envelope_id":"e-2","payload":{"response_type":"ephemeral","text":"D-1 approved &lt;yes&gt;"}})"));
  auto errs = modal_errors(modal_error{"reason", "A reason is required."});
  CHECK(json::value(errs) == js(R"({"response_action":"errors","errors":{"reason":"A reason is required."}})"));
}

// ---- Block Kit ----------------------------------------------------------------

TEST_CASE("replies in the ack and through response_url are escaped exactly once", "[slack][codec]") {
  // As a handler wrote it, quoting what a person typed (a literal "&amp;" included).
  const std::string reply = "D-1: margins < 5% & rising, <@U01BOB> <!channel> &amp; x > y";
  const std::string once = "D-1: margins &lt; 5% &amp; rising, &lt;@U01BOB&gt; &lt;!channel&gt; &amp;amp; x &gt; y";
  auto ack = ephemeral_reply(reply);
  CHECK(json::value(ack) == json::value(json::object{{"text", once}, {"response_type", "ephemeral"}}));
  CHECK(js(encode_ack("e-3", &ack)).at("payload").at("text").as_string() == once);
  CHECK(json::value(response_url_reply(reply)) ==
        json::value(json::object{{"text", once}, {"response_type", "ephemeral"}, {"replace_original", false}}));
  // What Slack shows (its decoding of the three entities) is the reply as written.
  CHECK(unescape_mrkdwn(once) == reply);
}

TEST_CASE("mrkdwn escaping, and only mentions the bot renders stay mentions", "[slack][codec]") {
  CHECK(escape_mrkdwn("a & b <c> >d") == "a &amp; b &lt;c&gt; &gt;d");
  CHECK(escape_mrkdwn("<@U123>") == "&lt;@U123&gt;");
  CHECK(escape_mrkdwn("&amp; &lt;") == "&amp;amp; &amp;lt;");
  // A plain post escapes every '<': a mention typed into a title is text.
  auto text = [](std::string_view t) { return std::string(plain_message(t).at("text").as_string()); };
  CHECK(text("Paging <@U01BOB>: E-3 <sev1> & more") == "Paging &lt;@U01BOB&gt;: E-3 &lt;sev1&gt; &amp; more");
  CHECK(text("<@U1|bob> <!channel> <#C1>") == "&lt;@U1|bob&gt; &lt;!channel&gt; &lt;#C1&gt;");

  // render_mentions escapes the text and puts in the mentions of listed people.
  const std::vector<mention> paged{{"bob", "U01BOB"}, {"carol", "W0CAROL9"}, {"dave", ""}};
  auto page = render_mentions("E-3 [sev1] fast: printer <on> fire & <@U0EVE>\nPaging @bob @carol @dave.", paged);
  CHECK(page == "E-3 [sev1] fast: printer &lt;on&gt; fire &amp; &lt;@U0EVE&gt;\nPaging <@U01BOB> <@W0CAROL9> @dave.");
  CHECK(std::string(mrkdwn_message(page).at("text").as_string()) == page);
  // Only listed people, only whole tokens; text around them is escaped once.
  const std::vector<mention> bob{{"bob", "U01BOB"}};
  CHECK(render_mentions("@bob & @bobby <x> @carol", bob) == "<@U01BOB> &amp; @bobby &lt;x&gt; @carol");
  CHECK(render_mentions("&amp;@bob&lt;", bob) == "&amp;amp;<@U01BOB>&amp;lt;");
  CHECK(render_mentions("", bob).empty());
}

TEST_CASE("cut_text counts code points and never splits UTF-8", "[slack][codec]") {
  const std::string ptr = "… (cut: /draft show D-7 for the full text)";
  const std::size_t ptr_chars = code_points(ptr);
  CHECK(cut_text("short", 10, "D-7") == "short");

  for (std::string ch : {"a", "é", "€", "😀"}) {
    std::string at_limit;
    for (int i = 0; i < 100; ++i) at_limit += ch;
    // Exactly at the limit: unchanged.
    CHECK(cut_text(at_limit, 100, "D-7") == at_limit);
    // One over: cut, the pointer counted inside the limit.
    auto out = cut_text(at_limit + ch, 100, "D-7");
    CHECK(code_points(out) == 100);
    CHECK(valid_utf8(out));
    CHECK(out.ends_with(ptr));
    CHECK(out.substr(0, out.size() - ptr.size()) == at_limit.substr(0, (100 - ptr_chars) * ch.size()));
  }
  // Mixed widths at the boundary.
  std::string mixed = "aé€😀aé€😀aé€😀";
  auto out = cut_text(mixed + std::string(100, 'x'), ptr_chars + 6, "D-7");
  CHECK(out == "aé€😀aé" + ptr);
  // A limit smaller than the pointer: the pointer, cut.
  CHECK(code_points(cut_text(std::string(100, 'x'), 5, "D-7")) == 5);
  CHECK(valid_utf8(cut_text(std::string(100, 'x'), 5, "D-7")));
}

TEST_CASE("plain posts are cut to Slack's message limit without splitting an entity", "[slack][codec]") {
  auto text = std::string(plain_message(std::string(50000, '&')).at("text").as_string());
  CHECK(code_points(text) <= message_text_max);
  CHECK(text.ends_with("&amp;… (cut)"));
  // A mention the cut would split is left out whole.
  auto mentions = std::string(mrkdwn_message(std::string(39990, 'x') + "<@U0123456789>").at("text").as_string());
  CHECK(mentions == std::string(39990, 'x') + "… (cut)");
}

namespace {
const approval_card card{"D-12", "New draft for approval", "D-12 r2 [pending] class standard, needs comms (0/1)",
                         {"linkedin", "x"}, {"alice"}, "We're launching <Widget> & more!\n---\nsee you there", 2};
}  // namespace

TEST_CASE("an approval card with Approve and Reject buttons", "[slack][codec]") {
  auto msg = card_message(card);
  CHECK(json::value(msg) == js(R"({
    "text": "New draft for approval\nD-12 r2 [pending] class standard, needs comms (0/1)\nTargets: linkedin, x\nAuthors: alice",
    "blocks": [
      {"type": "section", "text": {"type": "mrkdwn", "verbatim": true,
        "text": "New draft for approval\nD-12 r2 [pending] class standard, needs comms (0/1)\nTargets: linkedin, x\nAuthors: alice"}},
      {"type": "divider"},
      {"type": "section", "text": {"type": "mrkdwn", "verbatim": true,
        "text": "We're launching &lt;Widget&gt; &amp; more!\n---\nsee you there"}},
      {"type": "context", "elements": [{"type": "mrkdwn", "text": "/approve D-12@2 [NOTE]  |  /reject D-12@2 REASON"}]},
      {"type": "actions", "block_id": "signoff_decide", "elements": [
        {"type": "button", "text": {"type": "plain_text", "text": "Approve"}, "style": "primary",
         "action_id": "signoff_approve", "value": "D-12@2"},
        {"type": "button", "text": {"type": "plain_text", "text": "Reject"}, "style": "danger",
         "action_id": "signoff_reject", "value": "D-12@2"}]}
    ]})"));
  // The buttons' values read back as the same draft and revision.
  CHECK(as<run_command>(interpret(envelope_of(block_actions_envelope(approve_action, "D-12@2")))).line ==
        "/approve D-12@2");
}

TEST_CASE("a card without buttons, and a long draft cut with a pointer", "[slack][codec]") {
  const approval_card approved{"D-4", "Draft approved", "D-4 r1 [approved] class standard", {}, {"alice"}, "hello",
                               std::nullopt};
  auto msg = card_message(approved);
  const auto& blocks = msg.at("blocks").as_array();
  REQUIRE(blocks.size() == 3);
  CHECK(blocks[2].at("text").at("text") == "hello");
  for (const auto& b : blocks) CHECK(b.at("type") != "actions");

  std::string long_text;
  for (int i = 0; i < 1500; ++i) long_text += "é<";  // 3000 code points, 7500 once escaped
  auto big = card_message(approval_card{"D-9", "Head", "D-9 r1 [pending] class standard", {}, {"alice"}, long_text, 1});
  const auto& body = big.at("blocks").as_array()[2].at("text").at("text").as_string();
  CHECK(code_points(body) <= section_text_max);
  CHECK(code_points(body) > section_text_max - 5);
  CHECK(std::string_view(body).ends_with("&lt;é… (cut: /draft show D-9 for the full text)"));
  CHECK(valid_utf8(body));
  CHECK(big.at("blocks").as_array().back().at("type") == "actions");

  // A card with no text is one section.
  CHECK(card_message(approval_card{"D-1", "Head", "status", {}, {"alice"}, "", std::nullopt})
            .at("blocks").as_array().size() == 1);
}

TEST_CASE("the Reject modal for views.open", "[slack][codec]") {
  auto m = reject_modal("12466734323.1395872398", "D-12", 3, "C0APPROVALS", 4000);
  CHECK(json::value(m) == js(R"j({
    "trigger_id": "12466734323.1395872398",
    "view": {
      "type": "modal",
      "callback_id": "signoff_reject_modal",
      "private_metadata": "D-12@3|C0APPROVALS",
      "title": {"type": "plain_text", "text": "Reject D-12"},
      "submit": {"type": "plain_text", "text": "Reject"},
      "close": {"type": "plain_text", "text": "Cancel"},
      "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "verbatim": true,
          "text": "Rejecting *D-12* revision 3."}},
        {"type": "input", "block_id": "reason",
         "label": {"type": "plain_text", "text": "Reason (required, recorded in the audit log)"},
         "element": {"type": "plain_text_input", "action_id": "reason_input", "multiline": true,
                     "max_length": 3000}}]}})j"));
  auto small = reject_modal("t", "D-12", 3, "C1", 500);
  CHECK(small.at("view").at("blocks").as_array()[1].at("element").at("max_length") == 500);
  auto title = reject_modal("t", "D-123456789012345678", 1, "C1", 10).at("view").at("title").at("text").as_string();
  CHECK(code_points(title) == 24);

  // What the modal carries comes back through view_submission as the same command.
  auto meta = std::string(m.at("view").at("private_metadata").as_string());
  CHECK(as<run_command>(interpret(envelope_of(view_submission_envelope(meta, "no")))).line == "/reject D-12@3 no");
}

// ---- Web API ----------------------------------------------------------------

TEST_CASE("Web API responses: ok, errors, garbage, the connection URL", "[slack][codec]") {
  auto ok = decode_api_response(R"({"ok":true,"url":"wss://wss-primary.slack.com/link/?ticket=1234-abc&app_id=A0"})");
  CHECK(ok.ok);
  CHECK(ok.error.empty());
  CHECK(connection_url(ok) == "wss://wss-primary.slack.com/link/?ticket=1234-abc&app_id=A0");

  auto err = decode_api_response(R"({"ok":false,"error":"invalid_auth"})");
  CHECK_FALSE(err.ok);
  CHECK(err.error == "invalid_auth");
  CHECK_FALSE(connection_url(err));
  CHECK(fatal_auth_error(err.error));

  CHECK(decode_api_response("<html>502 Bad Gateway</html>").error == "invalid_response");
  CHECK(decode_api_response("").error == "invalid_response");
  CHECK(decode_api_response("[true]").error == "invalid_response");
  CHECK(decode_api_response(R"({"ok":"true"})").error == "unknown_error");
  CHECK_FALSE(decode_api_response(R"({"ok":"true"})").ok);
  CHECK_FALSE(connection_url(decode_api_response(R"({"ok":true})")));
  CHECK_FALSE(connection_url(decode_api_response(R"({"ok":true,"url":5})")));

  for (auto e : {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
                 "not_allowed_token_type", "missing_scope", "no_permission", "app_uninstalled"})
    CHECK(fatal_auth_error(e));
  for (auto e : {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "invalid_response",
                 "channel_not_found", ""})
    CHECK_FALSE(fatal_auth_error(e));
}
