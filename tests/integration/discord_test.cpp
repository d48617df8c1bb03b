// The real `signoff run` against the fake Discord (tests/fakes/fake_discord):
// application commands, buttons and the Reject modal, DM pages, the outbox,
// Gateway faults, a crash under load, and secrets kept out of every output.
#include <catch2/catch.hpp>
#include <signal.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>

#include <map>
#include <regex>
#include <set>
#include <thread>

#include "fakes/fake_discord.hpp"
#include "fakes/fake_slack.hpp"
#include "integration/running_bot.hpp"
#include "support/fixture.hpp"
#include "support/http_get.hpp"
#include "support/test_pki.hpp"

using namespace signoff;
using namespace signoff::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

// A string option (type 3) or an integer one (type 4), as Discord sends them.
json::object opt(const std::string& name, const std::string& value) {
  return {{"name", name}, {"type", 3}, {"value", value}};
}
json::object opt(const std::string& name, std::int64_t value) { return {{"name", name}, {"type", 4}, {"value", value}}; }
// A subcommand (type 1) with its options.
json::array sub(const std::string& name, json::array options = {}) {
  return json::array{json::object{{"name", name}, {"type", 1}, {"options", std::move(options)}}};
}

std::string text(const json::value& v) { return json::serialize(v); }

struct discord_env : running_bot {
  fake_discord fake;
  temp_dir secrets;
  installation inst;
  std::string guild;

  static config_options options(config_options o, const fake_discord& f, const temp_dir& s,
                                const fake_discord::options& fo) {
    o.discord_ids = true;
    s.write("discord-token", fo.token + "\n");
    o.extra += "[discord]\ntoken_file = \"" + s.file("discord-token") + "\"\napplication_id = \"" +
               fo.application_id + "\"\nguild_id = \"" + fo.guild_id + "\"\napi_base = \"" + f.api_base() +
               "\"\nca_file = \"" + test_pki().ca_pem + "\"\n\n[http]\nlisten = \"127.0.0.1:0\"\n";
    return o;
  }

  explicit discord_env(config_options o = {}, fake_discord::options fo = {})
      : fake(fo), inst(SIGNOFF_BINARY, options(std::move(o), fake, secrets, fo)), guild(fo.guild_id) {}
  ~discord_env() { terminate(); }

  // Starts `signoff run`; with `ready`, waits for the session's READY (or
  // RESUMED) number `sessions`.
  void start(bool ready = true, int sessions = 1) {
    launch(inst);
    if (ready) {
      REQUIRE(fake.wait_ready(sessions, 10s));
      REQUIRE(log_has("state connected"));
    }
  }

  // An application command by `who`; returns the final response.
  fake_discord::response command(const std::string& who, const std::string& name, json::array options,
                                 const std::string& channel = discord_approvals) {
    return answer_of(fake.command(discord_id(who), channel, name, std::move(options)), name);
  }
  fake_discord::response answer_of(const std::string& id, const std::string& what) {
    auto r = fake.wait_response(id, 8s);
    INFO(what << "\nbot stderr:\n" << (bot ? bot->err() : ""));
    REQUIRE(r);
    CHECK_FALSE(r->late);
    return *r;
  }
  // The content of an ephemeral answer.
  std::string cmd(const std::string& who, const std::string& name, json::array options,
                  const std::string& channel = discord_approvals) {
    auto r = command(who, name, std::move(options), channel);
    CHECK(r.ephemeral);
    return r.content;
  }

  std::int64_t count(const std::string& where) { return running_bot::count(inst, where); }

  void chain_holds() { running_bot::chain_holds(inst); }

  // The approval card of `draft` in #approvals.
  std::optional<fake_discord::message> card(const std::string& draft) {
    for (auto& m : fake.messages(discord_approvals))
      if (text(m.embeds).find(draft) != std::string::npos || m.content.find(draft) != std::string::npos) return m;
    return std::nullopt;
  }

  std::string health() { return http_get(http_port, "/healthz").body; }

  // Nothing the bot printed, and no REST call, holds the token.
  void token_never_shown(const std::string& token) {
    CHECK(bot->err().find(token) == std::string::npos);
    CHECK(bot->out().find(token) == std::string::npos);
    auto db = inst.db();
    CHECK(db.rows("SELECT seq FROM audit_log WHERE instr(detail, '" + token + "') > 0").empty());
  }
};

// The custom_id of the button labelled `label` on a message.
std::string button_id(const fake_discord::message& m, const std::string& label) {
  if (!m.components.is_array()) return {};
  for (const auto& row : m.components.as_array()) {
    const auto* cs = row.as_object().if_contains("components");
    if (!cs || !cs->is_array()) continue;
    for (const auto& b : cs->as_array()) {
      const auto& o = b.as_object();
      if (o.contains("label") && o.at("label").as_string() == label && o.contains("custom_id"))
        return std::string(o.at("custom_id").as_string());
    }
  }
  return {};
}

}  // namespace

TEST_CASE("discord: commands are registered in the guild at start, one per verb", "[discord][commands]") {
  discord_env env;
  env.start();
  REQUIRE(env.wait([&] { return env.fake.registered_commands(env.guild).is_array(); }));
  std::set<std::string> names;
  const auto registered = env.fake.registered_commands(env.guild);
  for (const auto& c : registered.as_array())
    names.insert(std::string(c.as_object().at("name").as_string()));
  CHECK(names == std::set<std::string>{"draft", "approve", "reject", "crisis", "hold", "escalate", "ack", "resolve",
                                       "escalations", "audit", "handover", "signoff"});
  CHECK(env.fake.registered_commands("").is_null());  // guild-scoped, not global
  for (const auto& c : env.fake.calls())
    CHECK_THAT(c.user_agent, Catch::StartsWith("DiscordBot ("));
  CHECK(env.fake.protocol_errors().empty());
  CHECK(env.stop() == 0);
}

TEST_CASE("discord: every verb through an application command is recorded once, with guild, channel and interaction",
          "[discord][commands]") {
  discord_env env;
  env.start();
  struct step {
    std::string who, name;
    json::array options;
    std::string raw, action, outcome, reply;
  };
  const std::vector<step> steps = {
      {"alice", "draft", sub("new", {opt("to", "linkedin,x"), opt("text", "Launch day post")}),
       "/draft new --to linkedin,x Launch day post", "draft.new", "ok", "D-1"},
      {"alice", "draft", sub("edit", {opt("id", "D-1"), opt("text", "Launch day post v2")}),
       "/draft edit D-1 Launch day post v2", "draft.edit", "ok", "D-1"},
      {"alice", "draft", sub("show", {opt("id", "D-1")}), "/draft show D-1", "draft.show", "ok", "Launch day post v2"},
      {"alice", "draft", sub("list", {opt("status", "pending")}), "/draft list pending", "draft.list", "ok", "D-1"},
      {"bob", "approve", json::array{opt("id", "D-1"), opt("note", "fine by me")}, "/approve D-1 fine by me",
       "draft.approve", "ok", "D-1"},
      {"alice", "draft", sub("new", {opt("text", "Second")}), "/draft new Second", "draft.new", "ok", "D-2"},
      {"carol", "reject", json::array{opt("id", "D-2"), opt("reason", "off brand")}, "/reject D-2 off brand",
       "draft.reject", "ok", "D-2"},
      {"alice", "draft", sub("new", {opt("text", "Third")}), "/draft new Third", "draft.new", "ok", "D-3"},
      {"alice", "draft", sub("withdraw", {opt("id", "D-3"), opt("reason", "dup")}), "/draft withdraw D-3 dup",
       "draft.withdraw", "ok", "D-3"},
      {"frank", "crisis", sub("start", {opt("sev", "sev2"), opt("title", "Outage")}), "/crisis start sev2 Outage",
       "crisis.start", "ok", "C-1"},
      {"alice", "crisis", sub("status"), "/crisis status", "crisis.status", "ok", "C-1"},
      {"alice", "hold", sub("list"), "/hold list", "hold.list", "ok", "data-breach"},
      {"alice", "hold", sub("show", {opt("key", "data-breach")}), "/hold show data-breach", "hold.show", "ok",
       "{system}"},
      {"frank", "hold", sub("issue", {opt("key", "data-breach"), opt("values", "system=mail next_update=noon")}),
       "/hold issue data-breach system=mail next_update=noon", "hold.issue", "ok", "data-breach"},
      {"frank", "crisis", sub("end", {opt("note", "resolved")}), "/crisis end resolved", "crisis.end", "ok", "C-1"},
      {"alice", "escalate", json::array{opt("route", "slow"), opt("sev", "sev2"), opt("summary", "Reporter calling")},
       "/escalate slow --sev sev2 Reporter calling", "escalation.open", "ok", "E-1"},
      {"bob", "ack", json::array{opt("id", "E-1")}, "/ack E-1", "escalation.ack", "ok", "E-1"},
      {"alice", "escalations", json::array{}, "/escalations", "escalation.list", "ok", "E-1"},
      {"bob", "resolve", json::array{opt("id", "E-1"), opt("note", "done")}, "/resolve E-1 done",
       "escalation.resolve", "ok", "E-1"},
      {"heidi", "audit", json::array{opt("subject", "D-1"), opt("limit", std::int64_t{5})}, "/audit D-1 --limit 5",
       "audit.query", "ok", "draft.approve"},
      {"alice", "handover", json::array{opt("hours", std::int64_t{24})}, "/handover --hours 24", "handover", "ok", ""},
      {"alice", "signoff", json::array{opt("line", "help")}, "/signoff help", "help", "ok", "/draft"},
      {"alice", "approve", json::array{opt("id", "D-9")}, "/approve D-9", "draft.approve", "invalid", "D-9"},
  };
  std::vector<std::string> ids;
  for (const auto& s : steps) {
    auto id = env.fake.command(discord_id(s.who), discord_approvals, s.name, s.options);
    auto r = env.answer_of(id, s.raw);
    INFO(s.raw << " -> " << r.content);
    CHECK(r.type == 4);
    CHECK(r.ephemeral);
    if (!s.reply.empty()) CHECK_THAT(r.content, Catch::Contains(s.reply));
    ids.push_back(id);
  }
  auto db = env.inst.db();
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const auto& s = steps[i];
    INFO(s.raw);
    auto rows = db.rows("SELECT platform, workspace, channel, actor, action, outcome, json_extract(detail, '$.raw') "
                        "FROM audit_log WHERE json_extract(detail, '$.envelope') = ?",
                        {ids[i]});
    REQUIRE(rows.size() == 1);  // exactly once
    CHECK(rows[0][0] == "discord");
    CHECK(rows[0][1] == env.guild);
    CHECK(rows[0][2] == std::string(discord_approvals));
    CHECK(rows[0][3] == s.who);
    CHECK(rows[0][4] == s.action);
    CHECK(rows[0][5] == s.outcome);
    CHECK(rows[0][6] == s.raw);
  }
  CHECK(env.count("actor != 'system'") == static_cast<std::int64_t>(steps.size()));
  // The statement went to its channel.
  REQUIRE(env.wait([&] { return !env.fake.messages(discord_statements).empty(); }));
  CHECK_THAT(env.fake.messages(discord_statements)[0].content, Catch::Contains("affecting mail"));
  CHECK(env.fake.protocol_errors().empty());
  env.chain_holds();
  CHECK(env.stop() == 0);
}

TEST_CASE("discord: a draft's card carries buttons: Approve acts as /approve D-n@R and the card is updated in place",
          "[discord][journey]") {
  discord_env env;
  env.start();
  CHECK_THAT(env.cmd("bob", "draft", sub("new", {opt("text", "Launch <@everyone> & co")})), Catch::Contains("D-1"));
  REQUIRE(env.wait([&] { return env.card("D-1").has_value(); }));
  auto card = *env.card("D-1");
  CHECK(button_id(card, "Approve") == "signoff:approve:D-1@1");
  CHECK(button_id(card, "Reject") == "signoff:reject:D-1@1");
  CHECK_THAT(text(card.embeds), Catch::Contains("Launch <@everyone> & co"));
  // Text from people never pings anyone.
  for (const auto& c : env.fake.calls("/channels/" + std::string(discord_approvals) + "/messages"))
    if (c.method == "POST") CHECK(text(c.body.as_object().at("allowed_mentions")).find("everyone") == std::string::npos);

  // Self-approval through the button is denied and recorded.
  auto own = env.answer_of(env.fake.button(discord_id("bob"), discord_approvals, card.id, "signoff:approve:D-1@1"),
                           "bob clicks Approve on his own draft");
  CHECK(own.ephemeral);
  CHECK_THAT(own.content, Catch::Contains("own"));
  auto click = env.answer_of(env.fake.button(discord_id("carol"), discord_approvals, card.id, "signoff:approve:D-1@1"),
                             "carol clicks Approve");
  CHECK(click.ephemeral);
  CHECK_THAT(click.content, Catch::Contains("approved"));
  {
    auto db = env.inst.db();
    auto rows = audit_rows(db, "action = 'draft.approve'");
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].actor == "bob");
    CHECK(rows[0].outcome == "denied");
    CHECK(rows[1].actor == "carol");
    CHECK(rows[1].outcome == "ok");
    CHECK(rows[1].revision == 1);
    CHECK(*detail_of(db, rows[1].seq, "raw") == "/approve D-1@1");
  }
  // The same message is edited: no buttons once decided.
  REQUIRE(env.wait([&] { return env.card("D-1") && env.card("D-1")->edits >= 1; }));
  CHECK(env.fake.messages(discord_approvals).size() == 1);
  CHECK(button_id(*env.card("D-1"), "Approve").empty());
  REQUIRE(env.wait([&] { return env.count("action = 'post.sent'") == 2; }));
  CHECK(env.fake.protocol_errors().empty());
  env.chain_holds();
  CHECK(env.stop() == 0);
}

TEST_CASE("discord: Reject opens a modal, its reason is recorded and the card updated", "[discord][journey]") {
  discord_env env;
  env.start();
  env.cmd("alice", "draft", sub("new", {opt("text", "Risky post")}));
  REQUIRE(env.wait([&] { return env.card("D-1").has_value(); }));
  auto card = *env.card("D-1");
  auto modal = env.answer_of(env.fake.button(discord_id("carol"), discord_approvals, card.id, "signoff:reject:D-1@1"),
                             "carol clicks Reject");
  REQUIRE(modal.type == 9);
  const std::string modal_id(modal.data.at("custom_id").as_string());
  CHECK(modal_id == "signoff:reject:D-1@1");
  CHECK_THAT(text(modal.data.at("components")), Catch::Contains("\"custom_id\":\"reason\""));
  CHECK(env.count("action = 'draft.reject'") == 0);  // opening the dialog decides nothing

  auto done = env.answer_of(env.fake.modal_submit(discord_id("carol"), discord_approvals, modal_id,
                                                  {{"reason", "Not on brand"}}),
                            "modal submitted");
  CHECK(done.ephemeral);
  CHECK_THAT(done.content, Catch::Contains("rejected"));
  {
    auto db = env.inst.db();
    auto rows = audit_rows(db, "action = 'draft.reject'");
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].actor == "carol");
    CHECK(rows[0].outcome == "ok");
    CHECK(*detail_of(db, rows[0].seq, "raw") == "/reject D-1@1 Not on brand");
    CHECK(*detail_of(db, rows[0].seq, "reason") == "Not on brand");
  }
  REQUIRE(env.wait([&] { return env.card("D-1") && env.card("D-1")->edits >= 1; }));
  // A tampered button is recorded invalid, never dropped.
  auto bad = env.answer_of(env.fake.button(discord_id("carol"), discord_approvals, card.id, "signoff:approve:D-1@x"),
                           "tampered click");
  CHECK(bad.ephemeral);
  CHECK(env.count("outcome = 'invalid' AND json_extract(detail, '$.raw') = '/approve D-1@x'") == 1);
  CHECK(env.fake.protocol_errors().empty());
  env.chain_holds();
  CHECK(env.stop() == 0);
}

TEST_CASE("discord: an unknown user is recorded as unknown:<id> and denied, help still answers", "[discord][commands]") {
  discord_env env;
  env.start();
  const std::string stranger = "777000000000000777";
  auto id = env.fake.command(stranger, discord_approvals, "draft", sub("list"));
  auto r = env.answer_of(id, "stranger /draft list");
  CHECK(r.ephemeral);
  auto help = env.answer_of(env.fake.command(stranger, discord_approvals, "signoff", json::array{opt("line", "help")}),
                            "stranger help");
  CHECK_THAT(help.content, Catch::Contains("help"));
  auto db = env.inst.db();
  auto rows = audit_rows(db, "actor = 'unknown:" + stranger + "'");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].action == "draft.list");
  CHECK(rows[0].outcome == "denied");
  CHECK(rows[1].action == "help");
  CHECK(rows[1].outcome == "ok");
  CHECK(env.stop() == 0);
}

TEST_CASE("discord: a page goes to the channel with a mention and to the paged person by DM with an Ack button",
          "[discord][journey][dm]") {
  discord_env env;
  env.start();
  CHECK_THAT(env.cmd("alice", "escalate", json::array{opt("route", "slow"), opt("summary", "Reporter calling")},
                     discord_escalations),
             Catch::Contains("E-1"));
  const auto dm = fake_discord::dm_channel_of(discord_id("bob"));
  REQUIRE(env.wait([&] { return env.fake.messages(dm).size() == 1 && env.fake.messages(discord_escalations).size() == 1; }));
  CHECK_THAT(env.fake.messages(discord_escalations)[0].content, Catch::Contains("<@" + discord_id("bob") + ">"));
  bool pings_bob = false;
  for (const auto& c : env.fake.calls("/channels/" + std::string(discord_escalations) + "/messages"))
    pings_bob = pings_bob || text(c.body).find("\"users\":[\"" + discord_id("bob") + "\"]") != std::string::npos;
  CHECK(pings_bob);
  auto page = env.fake.messages(dm)[0];
  REQUIRE(button_id(page, "Ack") == "signoff:ack:E-1");

  // carol was never paged: denied. bob acks through the DM button.
  auto denied = env.answer_of(env.fake.button(discord_id("carol"), dm, page.id, "signoff:ack:E-1", true), "carol acks");
  CHECK_THAT(denied.content, Catch::Contains("only people paged on E-1"));
  auto ok = env.answer_of(env.fake.button(discord_id("bob"), dm, page.id, "signoff:ack:E-1", true), "bob acks");
  CHECK_THAT(ok.content, Catch::Contains("E-1 acknowledged"));
  auto db = env.inst.db();
  auto rows = db.rows("SELECT actor, outcome, workspace FROM audit_log WHERE action = 'escalation.ack' ORDER BY seq");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0] == sqlite_db::row{"carol", "denied", ""});  // a DM has no guild
  CHECK(rows[1] == sqlite_db::row{"bob", "ok", ""});
  CHECK(env.fake.protocol_errors().empty());
  env.chain_holds();
  CHECK(env.stop() == 0);
}

TEST_CASE("discord: a commit slower than 2 s is deferred first, then the original response is edited",
          "[discord][durability]") {
  config_options o;
  o.busy_timeout = "10s";
  discord_env env(o);
  env.start();
  auto db = env.inst.db();
  db.exec("BEGIN IMMEDIATE");  // the bot's next commit waits for this lock
  auto id = env.fake.command(discord_id("alice"), discord_approvals, "draft", sub("new", {opt("text", "Slow")}));
  std::this_thread::sleep_for(3500ms);
  env.fake.fail_next("/webhooks/", 503, 0, "upstream overloaded");  // the first edit fails: it is retried
  db.exec("COMMIT");
  auto r = env.answer_of(id, "slow /draft new");
  CHECK(r.type == 5);
  CHECK(r.ephemeral);
  CHECK(r.edited);
  CHECK_THAT(r.content, Catch::Contains("D-1"));
  CHECK(env.count("action = 'draft.new'") == 1);
  CHECK(env.fake.protocol_errors().empty());
  CHECK(env.stop() == 0);
}

TEST_CASE("discord: Reconnect, Invalid Session both ways, drops and close 4000 are survived with nothing lost",
          "[discord][faults]") {
  discord_env env;
  env.start();
  int sessions = 1, n = 0;
  auto works = [&](const std::string& what) {
    INFO(what);
    auto r = env.cmd("alice", "draft", sub("new", {opt("text", "after " + what)}));
    CHECK_THAT(r, Catch::Contains("D-" + std::to_string(++n)));
  };
  works("start");
  env.fake.send_reconnect();
  REQUIRE(env.fake.wait_ready(++sessions, 10s));
  CHECK(env.fake.resumes() == 1);
  works("reconnect");
  env.fake.invalid_session(true);
  REQUIRE(env.fake.wait_ready(++sessions, 10s));
  CHECK(env.fake.resumes() == 2);
  works("invalid session (resumable)");
  env.fake.invalid_session(false);
  REQUIRE(env.fake.wait_ready(++sessions, 15s));
  CHECK(env.fake.identifies() == 2);  // a fresh session
  works("invalid session (not resumable)");
  env.fake.drop_links();
  REQUIRE(env.fake.wait_ready(++sessions, 15s));
  works("drop");
  env.fake.close_links(4000);
  REQUIRE(env.fake.wait_ready(++sessions, 15s));
  works("close 4000");
  CHECK(env.fake.resumes() == 4);
  CHECK(env.count("action = 'draft.new'") == n);
  CHECK(env.fake.protocol_errors().empty());
  env.chain_holds();
  CHECK(env.stop() == 0);
}

TEST_CASE("discord: a zombie link (no Heartbeat ACK) is closed and resumed", "[discord][faults]") {
  fake_discord::options fo;
  fo.heartbeat_interval = 600ms;
  discord_env env({}, fo);
  env.start();
  env.fake.zombie(true);
  REQUIRE(env.log_has("ACK", 10s));
  env.fake.zombie(false);
  REQUIRE(env.fake.wait_ready(2, 10s));
  CHECK(env.fake.resumes() == 1);
  CHECK_THAT(env.cmd("alice", "draft", sub("new", {opt("text", "after zombie")})), Catch::Contains("D-1"));
  CHECK(env.fake.protocol_errors().empty());
  CHECK(env.stop() == 0);
}

TEST_CASE("discord: an interaction replayed after a resume is executed once", "[discord][faults]") {
  discord_env env;
  env.start();
  auto first = env.command("alice", "draft", sub("new", {opt("text", "once only")}));
  CHECK_THAT(first.content, Catch::Contains("D-1"));
  env.fake.replay_on_next_resume(1);
  env.fake.close_links(4000);
  REQUIRE(env.fake.wait_ready(2, 10s));
  REQUIRE(env.log_has("seen before"));
  CHECK(env.count("action = 'draft.new'") == 1);
  auto db = env.inst.db();
  CHECK(db.rows("SELECT id FROM drafts").size() == 1);
  CHECK_THAT(env.cmd("alice", "draft", sub("new", {opt("text", "next")})), Catch::Contains("D-2"));
  INFO(text(json::value_from(env.fake.protocol_errors())));
  CHECK(env.fake.protocol_errors().empty());
  CHECK(env.stop() == 0);
}

TEST_CASE("discord: close codes that must not be retried disable the adapter, others reconnect", "[discord][faults]") {
  for (std::uint16_t code : std::initializer_list<std::uint16_t>{4004, 4010, 4011, 4012, 4013, 4014}) {
    DYNAMIC_SECTION("close " << code) {
      discord_env env;
      env.start();
      env.fake.close_links(code);
      REQUIRE(env.wait([&] { return env.health().find("\"disabled\"") != std::string::npos; }));
      auto h = http_get(env.http_port, "/healthz");
      CHECK(h.status == 503);
      CHECK_THAT(h.body, Catch::Contains(std::to_string(code)));
      std::this_thread::sleep_for(1500ms);
      CHECK(env.fake.connections() == 0);  // never retried
      CHECK(env.fake.identifies() == 1);
      CHECK(env.stop() == 0);  // the process kept serving until told to stop
    }
  }
  for (std::uint16_t code : std::initializer_list<std::uint16_t>{4007, 4009}) {
    DYNAMIC_SECTION("close " << code << " identifies afresh") {
      discord_env env;
      env.start();
      env.fake.close_links(code);
      REQUIRE(env.fake.wait_ready(2, 15s));
      CHECK(env.fake.identifies() == 2);
      CHECK(env.fake.resumes() == 0);
      CHECK(env.stop() == 0);
    }
  }
}

TEST_CASE("discord: garbage and oversized frames do not crash the bot", "[discord][faults]") {
  discord_env env;
  env.start();
  env.fake.send_raw("not json at all");
  env.fake.send_raw("{\"op\":0,\"t\":\"INTERACTION_CREATE\",\"s\":99,\"d\":{\"id\":\"1\"}}");
  env.fake.send_raw(std::string(2 << 20, 'x'));  // over the 1 MiB message limit: the link closes (1009)
  REQUIRE(env.fake.wait_ready(2, 15s));
  CHECK_THAT(env.cmd("alice", "draft", sub("new", {opt("text", "still here")})), Catch::Contains("D-1"));
  CHECK(env.stop() == 0);
}

TEST_CASE("discord: a slow or refused gateway/bot delays the link but does not break it", "[discord][faults]") {
  discord_env env;
  env.fake.set_gateway_bot(0ms, 502);
  env.start(false);
  REQUIRE(env.log_has("gateway/bot"));
  env.fake.set_gateway_bot(1500ms, 200);
  REQUIRE(env.fake.wait_ready(1, 20s));
  CHECK_THAT(env.cmd("alice", "draft", sub("new", {opt("text", "late start")})), Catch::Contains("D-1"));
  CHECK(env.stop() == 0);
}

TEST_CASE("discord: a 401 from gateway/bot disables the adapter", "[discord][faults]") {
  discord_env env;
  env.fake.set_gateway_bot(0ms, 401);
  env.start(false);
  REQUIRE(env.wait([&] { return env.health().find("\"disabled\"") != std::string::npos; }));
  CHECK(env.stop() == 0);
}

TEST_CASE("discord: 429s on posts (bucket and global) are honoured and no post is dropped", "[discord][outbox]") {
  discord_env env;
  env.start();
  env.fake.rate_limit_next("/channels/", 1.0, false);
  env.cmd("alice", "draft", sub("new", {opt("text", "one")}));
  REQUIRE(env.wait([&] { return env.card("D-1").has_value(); }));
  env.fake.rate_limit_next("/channels/", 0.5, true);
  env.cmd("alice", "draft", sub("new", {opt("text", "two")}));
  REQUIRE(env.wait([&] { return env.card("D-2").has_value(); }));
  REQUIRE(env.wait([&] { return env.count("action = 'post.sent'") == 2; }));
  CHECK(env.count("action = 'post.failed'") == 0);
  CHECK(env.fake.messages(discord_approvals).size() == 2);
  CHECK(env.fake.protocol_errors().empty());  // nothing sent inside a retry_after
  // Each retry of a post carries the same idempotency key (Create
  // Message's nonce, enforced), and two posts carry two keys.
  std::map<std::string, int> nonces;
  for (const auto& c : env.fake.calls("/channels/" + std::string(discord_approvals) + "/messages")) {
    if (c.method != "POST") continue;
    const auto& b = c.body.as_object();
    CHECK(b.at("enforce_nonce") == true);
    const std::string nonce(b.at("nonce").as_string());
    CHECK(nonce.size() <= 25);
    ++nonces[nonce];
  }
  REQUIRE(nonces.size() == 2);
  for (const auto& [nonce, n] : nonces) CHECK(n == 2);  // 429, then the retry
  CHECK(env.stop() == 0);
}

TEST_CASE("discord: a kill -9 under load: every answered command is in the log once, and confirmed after the restart",
          "[discord][restart]") {
  discord_env env;
  env.start();
  std::vector<std::string> ids;
  for (int i = 0; i < 40; ++i)
    ids.push_back(env.fake.command(discord_id("alice"), discord_approvals, "draft",
                                   sub("new", {opt("text", "load " + std::to_string(i))})));
  std::this_thread::sleep_for(30ms);
  env.crash();
  std::set<std::string> answered;
  for (const auto& id : ids)
    if (auto r = env.fake.wait_response(id, 0ms); r && r->type == 4) answered.insert(id);
  {
    auto db = env.inst.db();
    for (const auto& id : answered)
      CHECK(db.rows("SELECT seq FROM audit_log WHERE json_extract(detail, '$.envelope') = ?", {id}).size() == 1);
  }
  env.start(true, 2);
  REQUIRE(env.wait([&] {
    auto db = env.inst.db();
    return db.rows("SELECT envelope_id FROM seen_envelopes WHERE platform = 'discord' AND confirmed = 0").empty();
  }, 15s));
  auto db = env.inst.db();
  // Every recorded command is there once. One that was recorded but not
  // answered is confirmed to alice: by a follow-up message when its first
  // callback had gone out, else (Discord refuses the webhook of an
  // interaction never acknowledged) by direct message, naming the draft.
  const auto dm = fake_discord::dm_channel_of(discord_id("alice"));
  std::size_t late = 0, by_dm = 0;
  for (const auto& id : ids) {
    auto rows = db.rows("SELECT seq, subject FROM audit_log WHERE json_extract(detail, '$.envelope') = ?", {id});
    CHECK(rows.size() <= 1);
    if (rows.size() == 1 && !answered.count(id)) {
      ++late;
      auto r = env.fake.wait_response(id, 0ms);
      if (r && !r->followups.empty()) continue;
      ++by_dm;
      bool named = false;
      for (const auto& m : env.fake.messages(dm)) named = named || m.content.find(*rows[0][1] + " ") != std::string::npos;
      INFO(id << " " << *rows[0][1]);
      CHECK(named);
    }
  }
  UNSCOPED_INFO(late << " confirmed late, " << by_dm << " of them by DM");
  // As in the next test: only the follow-up probes of interactions the
  // crash left unacknowledged, one per DM'd confirmation; no DM burst.
  for (const auto& e : env.fake.protocol_errors())
    CHECK_THAT(e, Catch::Contains("webhook follow-up before the interaction was acknowledged"));
  CHECK(env.fake.protocol_errors().size() == by_dm);
  env.chain_holds();
  CHECK(env.stop() == 0);
}

TEST_CASE("discord: a command recorded but never acknowledged before a crash is confirmed by DM after the restart",
          "[discord][restart]") {
  discord_env env;
  env.start();
  // Every interaction callback fails (503): the bot keeps retrying within
  // Discord's 3 s while the commands are already durable; then it dies.
  for (int i = 0; i < 200; ++i) env.fake.fail_next("/interactions/", 503, 0, "upstream overloaded");
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i)
    ids.push_back(env.fake.command(discord_id("alice"), discord_approvals, "draft",
                                   sub("new", {opt("text", "unacknowledged " + std::to_string(i))})));
  REQUIRE(env.wait([&] { return env.count("action = 'draft.new'") == 3; }));
  env.crash();
  for (const auto& id : ids) CHECK_FALSE(env.fake.wait_response(id, 0ms));  // nobody was answered

  env.start(true, 2);
  const auto dm = fake_discord::dm_channel_of(discord_id("alice"));
  // One DM for the three (not a burst its channel's bucket would refuse).
  std::set<std::string> named;
  REQUIRE(env.wait([&] {
    named.clear();
    for (const auto& m : env.fake.messages(dm))
      for (const char* d : {"D-1 ", "D-2 ", "D-3 "})
        if (m.content.find(d) != std::string::npos) named.insert(d);
    return named.size() == 3;
  }));
  CHECK(env.fake.messages(dm).size() == 1);
  CHECK_THAT(env.fake.messages(dm)[0].content, Catch::StartsWith("signoff restarted before it could answer you"));
  // The one thing the fake holds against the bot here: it tried each
  // follow-up webhook first. After a crash the bot cannot know whether a
  // first callback went out, and the refusal (404 Unknown Webhook) is how
  // it finds out; nothing else (no DM over the channel's bucket).
  INFO(text(json::value_from(env.fake.protocol_errors())));
  CHECK(env.fake.protocol_errors().size() == 3);
  for (const auto& e : env.fake.protocol_errors())
    CHECK_THAT(e, Catch::Contains("webhook follow-up before the interaction was acknowledged"));
  // Marked confirmed: the next start says nothing more.
  REQUIRE(env.wait([&] {
    auto db = env.inst.db();
    return db.rows("SELECT envelope_id FROM seen_envelopes WHERE platform = 'discord' AND confirmed = 0").empty();
  }));
  CHECK(env.count("action = 'draft.new'") == 3);  // confirming executes nothing again
  env.chain_holds();
  CHECK(env.stop() == 0);
}

TEST_CASE("discord: the token never appears in any output", "[discord][secrets]") {
  fake_discord::options fo;
  discord_env env({}, fo);
  env.start();
  env.cmd("alice", "draft", sub("new", {opt("text", "x")}));
  env.fake.close_links(4004);
  REQUIRE(env.wait([&] { return env.health().find("\"disabled\"") != std::string::npos; }));
  auto metrics = http_get(env.http_port, "/metrics").body;
  CHECK(metrics.find(fo.token) == std::string::npos);
  CHECK(env.health().find(fo.token) == std::string::npos);
  CHECK(env.stop() == 0);
  env.token_never_shown(fo.token);
  auto cc = run({env.inst.binary(), "check-config", "--config", env.inst.config_path()});
  CHECK(cc.out.find(fo.token) == std::string::npos);
  CHECK(cc.err.find(fo.token) == std::string::npos);
  // Interaction tokens are secrets too: never logged.
  std::size_t checked = 0;
  for (const auto& c : env.fake.calls("/interactions/")) {
    // "/interactions/{id}/{token}/callback"
    auto from = c.path.find('/', std::string("/interactions/").size()) + 1;
    auto token = c.path.substr(from, c.path.find('/', from) - from);
    REQUIRE(token.size() > 8);
    CHECK(env.bot->err().find(token) == std::string::npos);
    ++checked;
  }
  CHECK(checked >= 1);
}

TEST_CASE("discord: with Slack in the same process, a Discord refused for good leaves Slack serving",
          "[discord][slack][faults]") {
  fake_slack slack;
  temp_dir slack_secrets;
  slack_secrets.write("app-token", fake_slack::options{}.app_token + "\n");
  slack_secrets.write("bot-token", fake_slack::options{}.bot_token + "\n");
  config_options o;
  o.slack_ids = true;
  o.extra = "[slack]\napp_token_file = \"" + slack_secrets.file("app-token") + "\"\nbot_token_file = \"" +
            slack_secrets.file("bot-token") + "\"\napi_base = \"" + slack.api_base() + "\"\nca_file = \"" +
            test_pki().ca_pem + "\"\n\n";
  discord_env env(o);
  env.start();
  REQUIRE(slack.wait_connections(1, 10s));
  // One draft from each platform: one database, one sequence of IDs.
  CHECK_THAT(env.cmd("alice", "draft", sub("new", {opt("text", "from Discord")})), Catch::Contains("D-1"));
  auto ack = slack.wait_ack(slack.slash_command(slack_id("alice"), "C0APPROVALS", "/draft", "new from Slack"), 5s);
  REQUIRE(ack);
  // The card of each draft goes to #approvals on both platforms.
  REQUIRE(env.wait([&] { return env.fake.messages(discord_approvals).size() == 2 && slack.messages("C0APPROVALS").size() == 2; }));

  env.fake.close_links(4004);
  REQUIRE(env.wait([&] { return env.health().find("\"disabled\"") != std::string::npos; }));
  auto h = boost::json::parse(env.health()).as_object();
  CHECK(h.at("platforms").at("discord").at("state") == "disabled");
  CHECK(h.at("platforms").at("slack").at("state") == "connected");
  auto later = slack.wait_ack(slack.slash_command(slack_id("bob"), "C0APPROVALS", "/approve", "D-2 ok"), 5s);
  REQUIRE(later);
  {
    auto db = env.inst.db();
    auto rows = db.rows("SELECT platform, actor, outcome FROM audit_log WHERE action IN ('draft.new', 'draft.approve') "
                        "ORDER BY seq");
    CHECK(rows == std::vector<sqlite_db::row>{{"discord", "alice", "ok"}, {"slack", "alice", "ok"},
                                              {"slack", "bob", "ok"}});
  }
  CHECK(slack.protocol_errors().empty());
  env.chain_holds();
  CHECK(env.stop() == 0);
}
