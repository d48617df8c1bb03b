// Discord application commands, interactions and message bodies: every
// verb's line joined from interaction JSON as Discord sends it (and read back
// by the grammar), buttons, the modal, malformed custom IDs, limits and cuts,
// and the registered definitions' shape.
#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <regex>
#include <set>

#include "bot/core/text.hpp"
#include "bot/protocol/discord/codec.hpp"
#include "handlers/grammar.hpp"

using namespace signoff;
using namespace signoff::discord;
namespace json = boost::json;

namespace {

const time_point now = time_point{} + std::chrono::hours(24 * 365 * 56);

// An INTERACTION_CREATE `d` in a guild (member.user) with `data`.
json::value guild_interaction(int type, const std::string& data) {
  return json::parse(R"({"id":"1100","application_id":"123","type":)" + std::to_string(type) +
                     R"(,"token":"itok-secret","version":1,"guild_id":"456","channel_id":"789",
      "member":{"user":{"id":"112233","username":"alice"},"roles":[],"permissions":"0"},
      "locale":"en-US","data":)" + data + "}");
}
// The same in a DM (user, no guild).
json::value dm_interaction(int type, const std::string& data) {
  return json::parse(R"({"id":"1101","application_id":"123","type":)" + std::to_string(type) +
                     R"(,"token":"itok2","version":1,"channel_id":"555","channel":{"id":"555","type":1},
      "user":{"id":"998877","username":"bob"},"data":)" + data + "}");
}

interaction interpret(const json::value& d) {
  auto r = interpret_interaction(d);
  REQUIRE(std::holds_alternative<interaction>(r));
  return std::get<interaction>(r);
}

std::string line_of(const json::value& d) {
  auto in = interpret(d);
  REQUIRE(std::holds_alternative<run_command>(in.intent));
  return std::get<run_command>(in.intent).line;
}

// A slash command with options: `data` JSON of a chat input command.
std::string slash(const std::string& data) { return line_of(guild_interaction(2, data)); }

cmd::command parsed(const std::string& line) {
  auto p = cmd::parse(line, now, cmd::limits{});
  if (auto* e = std::get_if<cmd::parse_error>(&p)) FAIL("'" << line << "' does not parse: " << e->message);
  return std::get<cmd::command>(p);
}

std::string str_opt(const char* name, const std::string& value) {
  return R"({"name":")" + std::string(name) + R"(","type":3,"value":)" + json::serialize(json::value(value)) + "}";
}

}  // namespace

TEST_CASE("every verb's options join into the grammar's line", "[discord][codec]") {
  // /draft new: options first, then the text, whatever order Discord sends.
  auto line = slash(R"({"id":"9","name":"draft","type":1,"options":[{"name":"new","type":1,"options":[)" +
                    str_opt("text", "Launch on Monday!") + "," + str_opt("class", "regulated") + "," +
                    str_opt("to", "linkedin, x") + "," + str_opt("embargo", "2099-12-01T09:00:00Z") + "]}]}");
  CHECK(line == "/draft new --to \"linkedin, x\" --class regulated --embargo 2099-12-01T09:00:00Z Launch on Monday!");
  auto c = parsed(line);
  CHECK(c.v == cmd::verb::draft_new);
  CHECK(c.to == std::vector<std::string>{"linkedin", "x"});
  CHECK(c.cls == "regulated");
  CHECK(c.text == "Launch on Monday!");

  const std::pair<std::string, std::string> cases[] = {
      {R"({"name":"draft","type":1,"options":[{"name":"edit","type":1,"options":[)" + str_opt("text", "v2 text") +
           "," + str_opt("id", "D-3") + "]}]}",
       "/draft edit D-3 v2 text"},
      {R"({"name":"draft","type":1,"options":[{"name":"show","type":1,"options":[)" + str_opt("id", "D-3") + "]}]}",
       "/draft show D-3"},
      {R"({"name":"draft","type":1,"options":[{"name":"list","type":1,"options":[)" + str_opt("status", "pending") +
           "]}]}",
       "/draft list pending"},
      {R"({"name":"draft","type":1,"options":[{"name":"list","type":1}]})", "/draft list"},
      {R"({"name":"draft","type":1,"options":[{"name":"withdraw","type":1,"options":[)" + str_opt("id", "D-3") +
           "," + str_opt("reason", "duplicate") + "]}]}",
       "/draft withdraw D-3 duplicate"},
      {R"({"name":"approve","type":1,"options":[)" + str_opt("id", "D-1@2") + "," + str_opt("note", "fine by me") + "]}",
       "/approve D-1@2 fine by me"},
      {R"({"name":"approve","type":1,"options":[)" + str_opt("id", "D-1") + "]}", "/approve D-1"},
      {R"({"name":"reject","type":1,"options":[)" + str_opt("reason", "wrong price") + "," + str_opt("id", "D-1") + "]}",
       "/reject D-1 wrong price"},
      {R"({"name":"crisis","type":1,"options":[{"name":"start","type":1,"options":[)" + str_opt("title", "Outage") +
           "," + str_opt("sev", "sev1") + "]}]}",
       "/crisis start sev1 Outage"},
      {R"({"name":"crisis","type":1,"options":[{"name":"end","type":1,"options":[)" + str_opt("note", "all clear") +
           "]}]}",
       "/crisis end all clear"},
      {R"({"name":"crisis","type":1,"options":[{"name":"status","type":1}]})", "/crisis status"},
      {R"({"name":"hold","type":1,"options":[{"name":"list","type":1}]})", "/hold list"},
      {R"({"name":"hold","type":1,"options":[{"name":"show","type":1,"options":[)" + str_opt("key", "data-breach") +
           "]}]}",
       "/hold show data-breach"},
      {R"({"name":"hold","type":1,"options":[{"name":"issue","type":1,"options":[)" +
           str_opt("values", "system=email next_update=\"5 pm\"") + "," + str_opt("key", "data-breach") + "]}]}",
       "/hold issue data-breach system=email next_update=\"5 pm\""},
      {R"({"name":"escalate","type":1,"options":[)" + str_opt("summary", "legal question") + "," +
           str_opt("sev", "sev2") + "," + str_opt("route", "legal") + "]}",
       "/escalate legal --sev sev2 legal question"},
      {R"({"name":"ack","type":1,"options":[)" + str_opt("id", "E-4") + "]}", "/ack E-4"},
      {R"({"name":"resolve","type":1,"options":[)" + str_opt("id", "E-4") + "," + str_opt("note", "done") + "]}",
       "/resolve E-4 done"},
      {R"({"name":"escalations","type":1})", "/escalations"},
      {R"({"name":"audit","type":1,"options":[{"name":"limit","type":4,"value":5},)" + str_opt("since", "7d") + "," +
           str_opt("actor", "bob") + "," + str_opt("subject", "D-1") + "," + str_opt("action", "draft.approve") +
           "," + str_opt("until", "1h") + "]}",
       "/audit D-1 --actor bob --action draft.approve --since 7d --until 1h --limit 5"},
      {R"({"name":"audit","type":1,"options":[)" + str_opt("subject", "console") + "]}", "/audit console"},
      {R"({"name":"handover","type":1,"options":[{"name":"hours","type":4,"value":24}]})", "/handover --hours 24"},
      {R"({"name":"handover","type":1})", "/handover"},
      {R"({"name":"signoff","type":1,"options":[)" + str_opt("line", "help") + "]}", "/signoff help"},
      {R"({"name":"signoff","type":1,"options":[)" + str_opt("line", "approve D-1 fine by me") + "]}",
       "/signoff approve D-1 fine by me"},
  };
  for (const auto& [data, expected] : cases) {
    CAPTURE(data);
    auto got = slash(data);
    CHECK(got == expected);
    parsed(got);  // and the grammar takes it
  }
  auto esc = parsed("/escalate legal --sev sev2 legal question");
  CHECK(esc.key == "legal");
  CHECK(esc.sev == "sev2");
  CHECK(esc.text == "legal question");
  auto hold = parsed(slash(R"({"name":"hold","type":1,"options":[{"name":"issue","type":1,"options":[)" +
                           str_opt("key", "k") + "," + str_opt("values", "next_update=\"5 pm\"") + "]}]}"));
  REQUIRE(hold.values.size() == 1);
  CHECK(hold.values[0].second == "5 pm");
}

TEST_CASE("values that would split or read as options stay what was typed", "[discord][codec]") {
  // Free text starting with "--" is not an option.
  auto line = slash(R"({"name":"draft","type":1,"options":[{"name":"new","type":1,"options":[)" +
                    str_opt("text", "--class regulated is our tag") + "]}]}");
  CHECK(line == "/draft new -- --class regulated is our tag");
  auto c = parsed(line);
  CHECK(c.text == "--class regulated is our tag");
  CHECK(c.cls.empty());
  // A positional with a space is one (bad) ID, not an ID and a note.
  line = slash(R"({"name":"approve","type":1,"options":[)" + str_opt("id", "D-1 sneaky note") + "]}");
  CHECK(line == "/approve \"D-1 sneaky note\"");
  CHECK(std::holds_alternative<cmd::parse_error>(cmd::parse(line, now, {})));
  // An option value that looks like an option, with quotes and backslashes.
  line = slash(R"({"name":"audit","type":1,"options":[)" + str_opt("actor", "--limit") + "," +
               str_opt("action", R"(a"b\c)") + "]}");
  CHECK(line == R"(/audit --actor "--limit" --action "a\"b\\c")");
  auto a = std::get<cmd::command>(cmd::parse(line, now, {}));
  CHECK(a.actor == "--limit");
  CHECK(a.action == R"(a"b\c)");
  // Text keeps its line breaks and spacing.
  line = slash(R"({"name":"reject","type":1,"options":[)" + str_opt("id", "D-2") + "," +
               str_opt("reason", "line one\n  line  two") + "]}");
  CHECK(parsed(line).text == "line one\n  line  two");
}

TEST_CASE("unknown commands, subcommands and options still become lines", "[discord][codec]") {
  CHECK(slash(R"({"name":"frobnicate","type":1})") == "/frobnicate");
  CHECK(slash(R"({"name":"draft","type":1,"options":[{"name":"explode","type":1}]})") == "/draft explode");
  CHECK(slash(R"({"name":"ack","type":1,"options":[)" + str_opt("id", "E-1") + "," + str_opt("bogus", "x y") + "]}") ==
        "/ack E-1 --bogus \"x y\"");
  CHECK(slash(R"({"name":"signoff","type":1})") == "/signoff");
  CHECK(slash(R"({"type":1})") == "/");
  // Whatever the line, the grammar records it: none of these is accepted.
  for (const char* l : {"/frobnicate", "/draft explode", "/ack E-1 --bogus \"x y\"", "/signoff", "/"})
    CHECK(std::holds_alternative<cmd::parse_error>(cmd::parse(l, now, {})));
}

TEST_CASE("who and where: member.user in a guild, user in a DM", "[discord][codec]") {
  auto g = interpret(guild_interaction(2, R"({"name":"escalations","type":1})"));
  CHECK(g.id == "1100");
  CHECK(g.token == "itok-secret");
  CHECK(g.application_id == "123");
  CHECK(g.type == 2);
  CHECK(g.from == origin{"456", "789", "112233"});
  auto d = interpret(dm_interaction(2, R"({"name":"escalations","type":1})"));
  CHECK(d.from == origin{"", "555", "998877"});
}

TEST_CASE("missing id, token, type or user is a decode error", "[discord][codec]") {
  auto base = guild_interaction(2, R"({"name":"escalations","type":1})");
  for (const char* key : {"id", "token", "type", "member"}) {
    auto d = base;
    d.as_object().erase(key);
    CAPTURE(key);
    REQUIRE(std::holds_alternative<decode_error>(interpret_interaction(d)));
    CHECK(std::get<decode_error>(interpret_interaction(d)).message.find("itok-secret") == std::string::npos);
  }
  CHECK(std::holds_alternative<decode_error>(interpret_interaction(json::value(42))));
  CHECK(std::holds_alternative<decode_error>(interpret_interaction(json::parse(R"({"id":"1","token":"t","type":"2"})"))));
}

TEST_CASE("ping and autocomplete are ignored", "[discord][codec]") {
  auto ping = interpret(json::parse(R"({"id":"1","token":"t","type":1,"application_id":"123"})"));
  CHECK(std::holds_alternative<ignore_interaction>(ping.intent));
  auto ac = interpret(guild_interaction(4, R"({"name":"approve","type":1})"));
  CHECK(std::get<ignore_interaction>(ac.intent).why == "autocomplete");
}

TEST_CASE("buttons: Approve and Ack run commands, Reject opens the modal", "[discord][codec]") {
  auto button = [](const std::string& custom_id) {
    return guild_interaction(3, R"({"custom_id":)" + json::serialize(json::value(custom_id)) + R"(,"component_type":2})");
  };
  CHECK(line_of(button("signoff:approve:D-7@3")) == "/approve D-7@3");
  CHECK(line_of(button("signoff:ack:E-12")) == "/ack E-12");
  auto rej = interpret(button("signoff:reject:D-7@3"));
  REQUIRE(std::holds_alternative<open_reject_modal>(rej.intent));
  CHECK(std::get<open_reject_modal>(rej.intent).draft == "D-7");
  CHECK(std::get<open_reject_modal>(rej.intent).rev == 3);
  // Ours but malformed: a line the grammar records as invalid, never a
  // command that means something else.
  CHECK(line_of(button("signoff:approve:D-7")) == "/approve D-7");  // no revision: the grammar decides
  CHECK(line_of(button("signoff:approve:D-7@3 and a note")) == "/approve \"D-7@3 and a note\"");
  CHECK(line_of(button("signoff:reject:D-x@1")) == "/reject D-x@1");
  CHECK(line_of(button("signoff:ack:E-0")) == "/ack E-0");
  CHECK(line_of(button("signoff:ack:")) == "/ack \"\"");
  for (const char* l : {"/approve \"D-7@3 and a note\"", "/reject D-x@1", "/ack E-0", "/ack \"\""})
    CHECK(std::holds_alternative<cmd::parse_error>(cmd::parse(l, now, {})));
  // Not ours: the custom ID as the line.
  CHECK(line_of(button("someone-elses-button")) == "someone-elses-button");
  // In a DM too (the Ack button on a page).
  auto dm = interpret(dm_interaction(3, R"({"custom_id":"signoff:ack:E-2","component_type":2})"));
  CHECK(std::get<run_command>(dm.intent).line == "/ack E-2");
  CHECK(dm.from.user_id == "998877");
}

TEST_CASE("the Reject modal's submission is /reject D-n@R REASON", "[discord][codec]") {
  auto submit = [](const std::string& custom_id, const std::string& reason) {
    return guild_interaction(5, R"({"custom_id":)" + json::serialize(json::value(custom_id)) +
                                    R"(,"components":[{"type":1,"components":[{"type":4,"custom_id":"reason","value":)" +
                                    json::serialize(json::value(reason)) + "}]}]}");
  };
  CHECK(line_of(submit("signoff:reject:D-7@3", "off brand")) == "/reject D-7@3 off brand");
  auto l = line_of(submit("signoff:reject:D-7@3", "--no, see policy"));
  CHECK(parsed(l).text == "--no, see policy");
  // Blank: the grammar records the missing reason.
  l = line_of(submit("signoff:reject:D-7@3", "  "));
  CHECK(l == "/reject D-7@3");
  CHECK(std::holds_alternative<cmd::parse_error>(cmd::parse(l, now, {})));
  CHECK(line_of(submit("signoff:reject:nope", "x")) == "/reject nope x");
  CHECK(line_of(submit("other-modal", "x")) == "other-modal");
  // Only our Reject modal rejects: another custom ID of ours is no reason to.
  CHECK(line_of(submit("signoff:approve:D-7@3", "x")) == "signoff:approve:D-7@3");
  // The newer label component (type 18) holding the text input.
  auto labelled = guild_interaction(5, R"({"custom_id":"signoff:reject:D-1@1","components":[{"type":18,"id":1,
      "component":{"type":4,"id":2,"custom_id":"reason","value":"typo"}}]})");
  CHECK(line_of(labelled) == "/reject D-1@1 typo");
}

TEST_CASE("the registered commands follow Discord's rules", "[discord][codec]") {
  auto cmds = application_commands(4000);
  const std::regex name_re("^[-_a-z0-9]{1,32}$");
  std::set<std::string> names;
  auto check_options = [&](const json::array& opts, auto& self) -> void {
    CHECK(opts.size() <= 25);
    bool optional_seen = false;
    std::set<std::string> seen;
    for (const auto& o : opts) {
      const auto& obj = o.as_object();
      std::string n(obj.at("name").as_string());
      CAPTURE(n);
      CHECK(std::regex_match(n, name_re));
      CHECK(seen.insert(n).second);
      auto desc = code_points(obj.at("description").as_string());
      CHECK(desc >= 1);
      CHECK(desc <= 100);
      auto type = obj.at("type").as_int64();
      if (type == 1) {
        self(obj.at("options").as_array(), self);
        continue;
      }
      bool req = obj.at("required").as_bool();
      if (req) CHECK_FALSE(optional_seen);  // required before optional
      else optional_seen = true;
      if (type == 3) {
        auto max = obj.at("max_length").as_int64();
        CHECK(max >= 1);
        CHECK(max <= 6000);
      }
      if (const auto* ch = obj.if_contains("choices")) CHECK(ch->as_array().size() <= 25);
    }
  };
  for (const auto& c : cmds) {
    const auto& obj = c.as_object();
    std::string n(obj.at("name").as_string());
    CAPTURE(n);
    CHECK(std::regex_match(n, name_re));
    CHECK(names.insert(n).second);
    auto desc = code_points(obj.at("description").as_string());
    CHECK(desc >= 1);
    CHECK(desc <= 100);
    CHECK(obj.at("type").as_int64() == 1);
    check_options(obj.at("options").as_array(), check_options);
  }
  CHECK(names == std::set<std::string>{"draft", "approve", "reject", "crisis", "hold", "escalate", "ack", "resolve",
                                       "escalations", "audit", "handover", "signoff"});
  // Subcommands, free-text limits and choices where SPEC names them.
  auto find = [&](const json::array& a, std::string_view name) -> const json::object& {
    for (const auto& v : a)
      if (v.as_object().at("name").as_string() == name) return v.as_object();
    FAIL("no " << name);
    throw;
  };
  const auto& draft = find(cmds, "draft");
  std::set<std::string> subs;
  for (const auto& s : draft.at("options").as_array()) subs.insert(std::string(s.as_object().at("name").as_string()));
  CHECK(subs == std::set<std::string>{"new", "edit", "show", "list", "withdraw"});
  const auto& draft_new = find(draft.at("options").as_array(), "new");
  CHECK(find(draft_new.at("options").as_array(), "text").at("max_length").as_int64() == 4000);
  CHECK(find(draft_new.at("options").as_array(), "text").at("required").as_bool());
  CHECK(find(application_commands(10000)[0].as_object().at("options").as_array()[0].as_object().at("options").as_array(),
             "text")
            .at("max_length")
            .as_int64() == 6000);
  const auto& esc = find(cmds, "escalate");
  CHECK(find(esc.at("options").as_array(), "sev").at("choices").as_array().size() == 3);
  const auto& signoff_cmd = find(cmds, "signoff");
  CHECK(signoff_cmd.at("options").as_array().size() == 1);
  CHECK(find(signoff_cmd.at("options").as_array(), "line").at("required").as_bool());
  CHECK(commands_path("123", "456") == "applications/123/guilds/456/commands");
  CHECK(commands_path("123", "") == "applications/123/commands");
}

TEST_CASE("replies are ephemeral, cut to 2000 and never ping", "[discord][codec]") {
  auto r = callback_reply("Approved D-1 @everyone");
  CHECK(r.at("type").as_int64() == 4);
  CHECK(r.at("data").at("flags").as_int64() == 64);
  CHECK(r.at("data").at("allowed_mentions").at("parse").as_array().empty());
  auto long_reply = callback_reply(std::string(5000, 'x'));
  CHECK(code_points(long_reply.at("data").at("content").as_string()) == 2000);
  CHECK(json::serialize(callback_deferred()) == R"({"type":5,"data":{"flags":64}})");
  auto w = webhook_message("done", false);
  CHECK_FALSE(w.contains("flags"));
  CHECK(w.at("allowed_mentions").at("parse").as_array().empty());
  CHECK(webhook_message("done", true).at("flags").as_int64() == 64);
  CHECK(callback_path("1100", "tok") == "interactions/1100/tok/callback");
  CHECK(original_path("123", "tok") == "webhooks/123/tok/messages/@original");
  CHECK(followup_path("123", "tok") == "webhooks/123/tok");
}

TEST_CASE("the Reject modal callback", "[discord][codec]") {
  auto m = callback_reject_modal("D-7", 3, 9000);
  CHECK(m.at("type").as_int64() == 9);
  const auto& data = m.at("data").as_object();
  CHECK(data.at("custom_id").as_string() == "signoff:reject:D-7@3");
  CHECK(code_points(data.at("title").as_string()) <= 45);
  const auto& input = data.at("components").as_array()[0].at("components").as_array()[0].as_object();
  CHECK(input.at("type").as_int64() == 4);
  CHECK(input.at("custom_id").as_string() == "reason");
  CHECK(input.at("max_length").as_int64() == 4000);
  CHECK(input.at("required").as_bool());
  CHECK(code_points(input.at("label").as_string()) <= 45);
  CHECK(callback_reject_modal("D-7", 3, 500).at("data").at("components").as_array()[0].at("components").as_array()[0]
            .at("max_length").as_int64() == 500);
  // The custom ID it sets is the one interpret_interaction reads back.
  auto back = interpret(guild_interaction(5, R"({"custom_id":")" + std::string(data.at("custom_id").as_string()) +
                                                 R"(","components":[{"type":1,"components":[{"type":4,"custom_id":"reason","value":"no"}]}]})"));
  CHECK(std::get<run_command>(back.intent).line == "/reject D-7@3 no");
}

TEST_CASE("approval cards: embed within Discord's limits, buttons only when decidable", "[discord][codec]") {
  approval_card card{"D-7", "New draft for approval", "D-7 r3 [pending] class standard, needs comms (0/1)",
                     {"linkedin"}, {"alice"}, "Our <@&123> launch @everyone", 3};
  auto m = card_message(card);
  const auto& embed = m.at("embeds").as_array()[0].as_object();
  CHECK(embed.at("title").as_string() == "New draft for approval");
  std::string desc(embed.at("description").as_string());
  CHECK(desc.find("Targets: linkedin") != std::string::npos);
  CHECK(desc.find("Our <@&123> launch @everyone") != std::string::npos);
  CHECK(m.at("allowed_mentions").at("parse").as_array().empty());
  const auto& buttons = m.at("components").as_array()[0].at("components").as_array();
  REQUIRE(buttons.size() == 2);
  CHECK(buttons[0].at("custom_id").as_string() == "signoff:approve:D-7@3");
  CHECK(buttons[1].at("custom_id").as_string() == "signoff:reject:D-7@3");
  // What the buttons say is what a click does.
  CHECK(line_of(guild_interaction(3, R"({"custom_id":"signoff:approve:D-7@3","component_type":2})")) == "/approve D-7@3");

  card.approve_rev.reset();
  auto decided = card_message(card);
  CHECK(decided.at("components").as_array().empty());  // an update removes the buttons
  CHECK_FALSE(decided.at("embeds").as_array()[0].as_object().contains("footer"));

  // Long texts are cut with the pointer, and the embed stays within 6000.
  approval_card big{"D-9", std::string(400, 'h'), "status", {}, {"a"}, std::string(10000, 'b'), 1};
  auto cut = card_message(big);
  const auto& e = cut.at("embeds").as_array()[0].as_object();
  CHECK(code_points(e.at("title").as_string()) == 256);
  auto d = std::string(e.at("description").as_string());
  CHECK(code_points(d) <= 4096);
  CHECK(d.ends_with("(cut: /draft show D-9 for the full text)"));
  CHECK(code_points(e.at("title").as_string()) + code_points(d) +
            code_points(e.at("footer").at("text").as_string()) <= 6000);
  for (const auto& b : cut.at("components").as_array()[0].at("components").as_array()) {
    CHECK(b.at("custom_id").as_string().size() <= 100);
    CHECK(code_points(b.at("label").as_string()) <= 80);
  }
}

TEST_CASE("page DMs carry an Ack button for E-n only", "[discord][codec]") {
  auto p = page_dm_message("E-3 [sev1] printer on fire", "E-3");
  CHECK(p.at("components").as_array()[0].at("components").as_array()[0].at("custom_id").as_string() ==
        "signoff:ack:E-3");
  CHECK(p.at("allowed_mentions").at("parse").as_array().empty());
  CHECK(page_dm_message("x", "D-3").at("components").as_array().empty());
  CHECK(page_dm_message("x", "E-3 ").at("components").as_array().empty());
}

TEST_CASE("mentions: <@ID> for the listed people, and only they are pinged", "[discord][codec]") {
  std::vector<mention> people{{"bob", "111"}, {"carol", "222"}, {"dave", ""}, {"eve", "not-a-snowflake>"}};
  auto m = mention_message("Paging @bob @carol @dave @eve @bobby <@999> @everyone.", people);
  CHECK(m.at("content").as_string() == "Paging <@111> <@222> @dave @eve @bobby <@999> @everyone.");
  const auto& am = m.at("allowed_mentions").as_object();
  CHECK(am.at("parse").as_array().empty());
  CHECK(am.at("users").as_array() == json::array{"111", "222"});
  // Mentioned twice, listed once; a cut never leaves half a mention.
  auto twice = mention_message("@bob @bob", people);
  CHECK(twice.at("allowed_mentions").at("users").as_array().size() == 1);
  auto long_text = std::string(1990, 'x') + " @bob yyyy";  // the cut falls inside <@111>
  auto cut = std::string(mention_message(long_text, people).at("content").as_string());
  CHECK(code_points(cut) <= 2000);
  CHECK(cut.find("<@1") == std::string::npos);
  CHECK(plain_message("@everyone <@111>").at("allowed_mentions").at("parse").as_array().empty());
  CHECK(json::serialize(dm_channel_request("111")) == R"({"recipient_id":"111"})");
}

TEST_CASE("REST error bodies and created object IDs", "[discord][codec]") {
  auto e = decode_api_error(R"({"code":50035,"message":"Invalid Form Body","errors":{"content":{}}})");
  REQUIRE(e);
  CHECK(e->code == 50035);
  CHECK(e->message == "Invalid Form Body");
  auto unknown = decode_api_error(R"({"message":"404: Not Found","code":0})");
  REQUIRE(unknown);
  CHECK(unknown->message == "404: Not Found");
  CHECK_FALSE(decode_api_error("<html>bad gateway</html>"));
  CHECK_FALSE(decode_api_error(R"({"id":"1"})"));
  CHECK(object_id(R"({"id":"1234567890","channel_id":"5"})") == "1234567890");
  CHECK_FALSE(object_id(R"({"id":12})"));
  CHECK_FALSE(object_id("nope"));
}

TEST_CASE("cut_with_pointer counts code points and keeps markup whole", "[discord][codec]") {
  CHECK(cut_with_pointer("short", 10, "D-7") == "short");
  auto out = cut_with_pointer(std::string(100, 'x'), 60, "D-7");
  CHECK(code_points(out) == 60);
  CHECK(out.ends_with("… (cut: /draft show D-7 for the full text)"));
  auto emoji = cut_with_pointer(std::string(40, 'a') + "\xF0\x9F\x98\x80\xF0\x9F\x98\x80" + std::string(40, 'b'), 50, {});
  CHECK(valid_utf8(emoji));
  CHECK(code_points(emoji) <= 50);
  CHECK(cut_with_pointer(std::string(30, 'x') + "<@12345>", 36, {}, true) == std::string(29, 'x') + "… (cut)");
  CHECK(code_points(cut_with_pointer("abcdef", 3, "D-1")) == 3);
}
