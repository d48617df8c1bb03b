// The command grammar: every verb, its malformed variants, and the rules of
// options, free text, quoting and times (SPEC "Commands").
#include <catch2/catch.hpp>

#include "bot/core/time.hpp"
#include "handlers/grammar.hpp"

using namespace signoff;
using namespace signoff::cmd;

namespace {

const time_point now = *parse_rfc3339("2026-11-22T12:00:00Z");

command ok(std::string_view line, std::size_t max_text = 4000) {
  auto r = parse(line, now, limits{max_text});
  if (auto* e = std::get_if<parse_error>(&r)) FAIL("unexpected parse error for '" << line << "': " << e->message);
  return std::get<command>(r);
}

parse_error bad(std::string_view line, std::size_t max_text = 4000) {
  auto r = parse(line, now, limits{max_text});
  if (std::holds_alternative<command>(r)) FAIL("'" << line << "' parsed but should not");
  return std::get<parse_error>(r);
}

}  // namespace

TEST_CASE("draft new takes options first and the rest verbatim", "[grammar]") {
  auto c = ok("/draft new --to linkedin,x --class regulated --embargo 2026-12-01T09:00:00Z  Hello,   world --not-an-option");
  CHECK(c.v == verb::draft_new);
  CHECK(c.to == std::vector<std::string>{"linkedin", "x"});
  CHECK(c.cls == "regulated");
  CHECK(format_rfc3339_ms(*c.embargo) == "2026-12-01T09:00:00.000Z");
  CHECK(c.text == "Hello,   world --not-an-option");
}

TEST_CASE("a lone -- ends the options so text may start with --", "[grammar]") {
  auto c = ok("/draft new --to x -- --launch day");
  CHECK(c.text == "--launch day");
  CHECK(c.to == std::vector<std::string>{"x"});
}

TEST_CASE("embargo with an offset is normalised to UTC, without a zone it is refused", "[grammar]") {
  auto c = ok("/draft new --embargo 2026-12-01T10:00:00+01:00 text");
  CHECK(format_rfc3339_ms(*c.embargo) == "2026-12-01T09:00:00.000Z");
  auto e = bad("/draft new --embargo 2026-12-01T09:00:00 text");
  CHECK(e.v == verb::draft_new);
  CHECK_THAT(e.message, Catch::Contains("RFC 3339"));
  CHECK_THAT(bad("/draft new --embargo 2020-01-01T00:00:00Z text").message, Catch::Contains("in the past"));
  CHECK_THAT(bad("/draft new --embargo tomorrow text").message, Catch::Contains("tomorrow"));
}

TEST_CASE("/signoff VERB is the same command and the slash is optional", "[grammar]") {
  CHECK(ok("/signoff approve D-3 fine").v == verb::approve);
  CHECK(ok("approve D-3").id == 3);
  CHECK(ok("/signoff help").v == verb::help);
  CHECK(ok("/help").v == verb::help);
}

TEST_CASE("approve and reject take D-n and D-n@R", "[grammar]") {
  auto c = ok("/approve D-12@3 looks good to me");
  CHECK(c.id == 12);
  CHECK(c.at_rev == 3);
  CHECK(c.text == "looks good to me");
  auto d = ok("/approve d-7");
  CHECK(d.id == 7);
  CHECK_FALSE(d.at_rev);
  CHECK(d.text.empty());
  CHECK(ok("/reject D-2@1 tone is off").text == "tone is off");
  CHECK_THAT(bad("/approve X-1").message, Catch::Contains("not a draft ID"));
  CHECK_THAT(bad("/approve D-0").message, Catch::Contains("not a draft ID"));
  CHECK_THAT(bad("/approve D-1@").message, Catch::Contains("not a draft ID"));
  CHECK_THAT(bad("/approve").message, Catch::Contains("missing draft ID"));
  CHECK_THAT(bad("/draft show D-1@2").message, Catch::Contains("not a draft ID"));
}

TEST_CASE("reject needs a reason, edit needs text", "[grammar]") {
  auto e = bad("/reject D-1");
  CHECK(e.v == verb::reject);
  CHECK_THAT(e.message, Catch::Contains("missing reason"));
  CHECK_THAT(bad("/reject D-1@2   ").message, Catch::Contains("missing reason"));
  CHECK_THAT(bad("/draft edit D-1").message, Catch::Contains("missing text"));
  CHECK_THAT(bad("/draft new --to x").message, Catch::Contains("missing text"));
}

TEST_CASE("unknown verbs, sub-verbs and options are named", "[grammar]") {
  auto e = bad("/publish D-1");
  CHECK_FALSE(e.v);
  CHECK_THAT(e.message, Catch::Contains("unknown command 'publish'"));
  CHECK_FALSE(bad("/draft frobnicate").v);
  CHECK_THAT(bad("/draft").message, Catch::Contains("subcommand"));
  auto o = bad("/draft new --colour red text");
  CHECK(o.v == verb::draft_new);
  CHECK_THAT(o.message, Catch::Contains("--colour"));
  CHECK_THAT(bad("/draft new --to").message, Catch::Contains("needs a value"));
  CHECK_THAT(bad("/draft new --to a --to b text").message, Catch::Contains("twice"));
  CHECK_THAT(bad("/crisis status now").message, Catch::Contains("unexpected 'now'"));
  CHECK_FALSE(bad("").v);
}

TEST_CASE("crisis start needs a severity and a title", "[grammar]") {
  auto c = ok("/crisis start sev1 Payment outage in EU");
  CHECK(c.key == "sev1");
  CHECK(c.text == "Payment outage in EU");
  CHECK_THAT(bad("/crisis start sev4 x").message, Catch::Contains("sev4"));
  CHECK_THAT(bad("/crisis start sev2").message, Catch::Contains("missing title"));
  CHECK(ok("/crisis end all clear").text == "all clear");
  CHECK(ok("/crisis end").text.empty());
}

TEST_CASE("hold show/issue take NAME=VALUE with double-quoted values", "[grammar]") {
  auto c = ok(R"(/hold issue data-breach system="customer portal" next_update=16:00 quote="say \"hi\"")");
  CHECK(c.v == verb::hold_issue);
  CHECK(c.key == "data-breach");
  REQUIRE(c.values.size() == 3);
  CHECK(c.values[0] == std::pair<std::string, std::string>{"system", "customer portal"});
  CHECK(c.values[1].second == "16:00");
  CHECK(c.values[2].second == "say \"hi\"");
  CHECK_THAT(bad("/hold issue data-breach system").message, Catch::Contains("NAME=VALUE"));
  CHECK_THAT(bad(R"(/hold issue k a="unterminated)").message, Catch::Contains("quote"));
  CHECK_THAT(bad("/hold issue k a=1 a=2").message, Catch::Contains("twice"));
  CHECK_THAT(bad("/hold issue").message, Catch::Contains("missing statement key"));
  CHECK(ok("/hold show product-recall").values.empty());
}

TEST_CASE("escalate: route, then --sev, then a summary", "[grammar]") {
  auto c = ok("/escalate legal --sev sev2 Regulator called");
  CHECK(c.key == "legal");
  CHECK(c.sev == "sev2");
  CHECK(c.text == "Regulator called");
  CHECK(ok("/escalate --sev sev1 pr Reporter asking").key == "pr");
  CHECK(ok("/escalate pr Reporter asking").sev.empty());
  CHECK_THAT(bad("/escalate pr --sev high x").message, Catch::Contains("--sev 'high'"));
  CHECK_THAT(bad("/escalate pr").message, Catch::Contains("missing summary"));
  CHECK(ok("/ack E-4").id == 4);
  CHECK_THAT(bad("/ack D-4").message, Catch::Contains("escalation ID"));
  CHECK(ok("/resolve E-4 false alarm").text == "false alarm");
}

TEST_CASE("audit filters accept RFC 3339 times and durations back from now", "[grammar]") {
  auto c = ok("/audit D-1 --actor bob --action draft.approve --since 7d --until 2026-11-22T11:00:00Z --limit 5");
  CHECK(c.key == "D-1");
  CHECK(c.actor == "bob");
  CHECK(c.action == "draft.approve");
  CHECK(format_rfc3339_ms(*c.since) == "2026-11-15T12:00:00.000Z");
  CHECK(format_rfc3339_ms(*c.until) == "2026-11-22T11:00:00.000Z");
  CHECK(c.limit == 5);
  CHECK(ok("/audit --actor bob").key.empty());
  CHECK_THAT(bad("/audit --limit 0").message, Catch::Contains("--limit"));
  CHECK_THAT(bad("/audit --since yesterday").message, Catch::Contains("--since"));
}

TEST_CASE("draft list takes an optional state", "[grammar]") {
  CHECK(ok("/draft list").key.empty());
  CHECK(ok("/draft list rejected").key == "rejected");
  CHECK_THAT(bad("/draft list done").message, Catch::Contains("'done'"));
}

TEST_CASE("max_text counts code points, not bytes", "[grammar]") {
  // 10 code points, 30 bytes.
  std::string ten = "ééééééééé\xE2\x82\xAC";
  CHECK(ok("/draft new " + ten, 10).text == ten);
  auto e = bad("/draft new " + ten + "x", 10);
  CHECK_THAT(e.message, Catch::Contains("longer than 10"));
  CHECK_THAT(bad("/reject D-1 " + std::string(11, 'r'), 10).message, Catch::Contains("reason"));
  CHECK_THAT(bad("/hold issue k a=" + std::string(11, 'v'), 10).message, Catch::Contains("value a"));
}

TEST_CASE("every verb has an action and a usage", "[grammar]") {
  for (auto v : all_verbs()) {
    CHECK_FALSE(action_of(v).empty());
    CHECK(usage_of(v).substr(0, 1) == "/");
  }
  CHECK(action_of(verb::escalate) == "escalation.open");
  CHECK(action_of(verb::escalations) == "escalation.list");
  CHECK(action_of(verb::audit) == "audit.query");
}

TEST_CASE("/handover takes --hours from 1 to 168", "[grammar][handover]") {
  CHECK(ok("/handover").v == verb::handover);
  CHECK_FALSE(ok("/handover").hours);
  CHECK(ok("/handover --hours 1").hours == 1);
  CHECK(ok("/signoff handover --hours 168").hours == 168);
  CHECK(action_of(verb::handover) == "handover");
  CHECK(usage_of(verb::handover) == "/handover [--hours N]");
  for (const char* line : {"/handover --hours 0", "/handover --hours 169", "/handover --hours -1",
                           "/handover --hours 2h", "/handover --hours 99999999999999999999"}) {
    INFO(line);
    auto e = bad(line);
    CHECK(e.v == verb::handover);
    CHECK_THAT(e.message, Catch::EndsWith("is not a whole number of hours from 1 to 168"));
  }
  CHECK(bad("/handover --hours").message == "option --hours needs a value");
  CHECK(bad("/handover --hours 2 --hours 3").message == "option --hours given twice");
  CHECK(bad("/handover --days 2").message == "unknown option '--days'");
  CHECK(bad("/handover tomorrow").message == "unexpected 'tomorrow'");
}

// --- hardening: ranges, limits, options in the text, quotes ----------------

TEST_CASE("an embargo past 9999-12-31 UTC is invalid naming --embargo and the range", "[grammar]") {
  auto e = bad("/draft new --embargo 9999-12-31T23:59:59-23:59 x");
  CHECK(e.v == verb::draft_new);
  CHECK(e.message.find("--embargo") != std::string::npos);
  CHECK(e.message.find("out of range") != std::string::npos);
  CHECK(e.message.find("9999-12-31") != std::string::npos);
}

TEST_CASE("times for --since and --until outside the range are refused, not silently widened", "[grammar]") {
  for (const char* line : {"/audit --since 36500d", "/audit --since 99999999999d",
                           "/audit --until 1969-12-31T23:59:59Z", "/audit --until 9999-12-31T23:59:59-01:00"}) {
    INFO(line);
    auto e = bad(line);
    CHECK(e.v == verb::audit);
    CHECK(e.message.find("out of range") != std::string::npos);
  }
  CHECK(ok("/audit --since 365d").since == now - std::chrono::days(365));
}

TEST_CASE("every argument has a limit, and the error names it without echoing the argument", "[grammar]") {
  const std::string huge(1000000, 't');
  auto e = bad("/draft new --to " + huge + " text");
  CHECK(e.message.find("64 characters") != std::string::npos);
  CHECK(e.message.size() < 200);
  std::string many;
  for (int i = 0; i < 21; ++i) many += (i ? "," : "") + std::string("t") + std::to_string(i);
  e = bad("/draft new --to " + many + " text");
  CHECK(e.message.find("at most 20") != std::string::npos);
  CHECK(ok("/draft new --to " + many.substr(0, many.rfind(',')) + " text").to.size() == 20);
  const std::string key(100000, 'k');
  e = bad("/draft new --class " + key + " text");
  CHECK(e.message.find("--class") != std::string::npos);
  CHECK(e.message.size() < 200);
  e = bad("/hold show " + key);
  CHECK(e.message.find("statement key") != std::string::npos);
  CHECK(e.message.size() < 200);
  CHECK(e.subject.empty());  // the oversized key is not the record's subject
  e = bad("/escalate " + key + " summary");
  CHECK(e.message.find("route") != std::string::npos);
  e = bad("/audit --actor " + key);
  CHECK(e.message.size() < 200);
  e = bad("/hold show data-breach " + key + "=v");
  CHECK(e.message.find("placeholder name") != std::string::npos);
  e = bad("/" + key);
  CHECK(e.message.size() < 200);
  CHECK(ok("/hold show " + std::string(64, 'k')).key.size() == 64);
}

TEST_CASE("a malformed ID is never recorded as the subject it resembles", "[grammar]") {
  auto e = bad("/approve D-3\xe2\x80\x8b fine");  // D-3 + zero-width space
  CHECK(e.subject.empty());
  CHECK(e.message.find("<U+200B>") != std::string::npos);
  e = bad("/ack E-12x");
  CHECK(e.subject.empty());
  e = bad("/audit D-3\xe2\x80\x8b");
  CHECK(e.message.find("invisible") != std::string::npos);
}

TEST_CASE("known options in the text stay text but are reported", "[grammar]") {
  auto c = ok("/draft new Q3 text --class regulated");
  CHECK(c.cls.empty());
  CHECK(c.text == "Q3 text --class regulated");
  CHECK(c.options_in_text == std::vector<std::string>{"--class regulated"});
  c = ok("/draft new Launch --to linkedin,x and --embargo 2026-12-24T09:00:00Z");
  CHECK(c.options_in_text == std::vector<std::string>{"--to linkedin,x", "--embargo 2026-12-24T09:00:00Z"});
  CHECK(ok("/draft new -- --class regulated is how you set it").options_in_text.empty());
  CHECK(ok("/draft new use --classy words").options_in_text.empty());
  CHECK(ok("/escalate legal Reporter --sev sev1 asks").options_in_text ==
        std::vector<std::string>{"--sev sev1"});
}

TEST_CASE("typographic quotes count as double quotes in NAME=VALUE", "[grammar]") {
  auto c = ok("/hold issue data-breach system=\xe2\x80\x9c" "customer portal\xe2\x80\x9d next_update=\xe2\x80\x9c" "14:00 UTC\xe2\x80\x9d");
  REQUIRE(c.values.size() == 2);
  CHECK(c.values[0] == std::pair<std::string, std::string>{"system", "customer portal"});
  CHECK(c.values[1] == std::pair<std::string, std::string>{"next_update", "14:00 UTC"});
  c = ok("/hold show data-breach system=\"mixed portal\xe2\x80\x9d");
  CHECK(c.values[0].second == "mixed portal");
}

TEST_CASE("action_for_line names the verb of a line for the operator's log", "[grammar]") {
  CHECK(action_for_line("/draft new hello") == "draft.new");
  CHECK(action_for_line("/approve") == "draft.approve");  // malformed, verb known
  CHECK(action_for_line("/frobnicate") == "command.invalid");
  CHECK(action_for_line("caf\xe9") == "command.invalid");
}

TEST_CASE("read-only verbs are the ones SPEC sends by DM on Mattermost", "[grammar]") {
  using cmd::verb;
  for (verb v : {verb::draft_show, verb::draft_list, verb::crisis_status, verb::hold_list, verb::hold_show,
                 verb::escalations, verb::audit, verb::handover, verb::help}) {
    INFO(cmd::action_of(v));
    CHECK(cmd::read_only(v));
  }
  for (verb v : {verb::draft_new, verb::draft_edit, verb::draft_withdraw, verb::approve, verb::reject,
                 verb::crisis_start, verb::crisis_end, verb::hold_issue, verb::escalate, verb::ack, verb::resolve}) {
    INFO(cmd::action_of(v));
    CHECK_FALSE(cmd::read_only(v));
  }
}
