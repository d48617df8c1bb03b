// The real `signoff run` binary against the fake Slack (tests/fakes): a
// user's journey with buttons and modals, every injected fault (recovers,
// nothing lost, nothing doubled, the chain verifies), restarts, and TLS
// refusals. Each test starts its own fake and bot on loopback.
#include <map>
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <cstdio>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <thread>

#include "fakes/fake_slack.hpp"
#include "integration/running_bot.hpp"
#include "support/fixture.hpp"
#include "support/http_get.hpp"
#include "support/test_pki.hpp"

using namespace signoff;
using namespace signoff::test;
using namespace std::chrono_literals;

namespace {

std::string text_of(const fake_slack::ack& a) {
  if (!a.payload || !a.payload->is_object()) return {};
  const auto* t = a.payload->as_object().if_contains("text");
  return t && t->is_string() ? std::string(t->as_string()) : std::string();
}

std::string blocks_text(const boost::json::value& v) { return boost::json::serialize(v); }

struct slack_env : running_bot {
  fake_slack fake;
  temp_dir secrets;
  installation inst;

  static config_options options(config_options o, const fake_slack& f, const temp_dir& s,
                                const std::string& ca_file) {
    o.slack_ids = true;
    s.write("app-token", "xapp-1-A0TEST-1-fakeapptoken\n");
    s.write("bot-token", "xoxb-1-fakebottoken\n");
    o.extra += "[slack]\napp_token_file = \"" + s.file("app-token") + "\"\nbot_token_file = \"" +
               s.file("bot-token") + "\"\napi_base = \"" + f.api_base() + "\"\nca_file = \"" + ca_file +
               "\"\n\n[http]\nlisten = \"127.0.0.1:0\"\n";
    return o;
  }

  explicit slack_env(config_options o = {}, fake_slack::options fo = {}, std::string ca_file = "")
      : fake(std::move(fo)),
        inst(SIGNOFF_BINARY, options(std::move(o), fake, secrets, ca_file.empty() ? test_pki().ca_pem : ca_file)) {}
  ~slack_env() { terminate(); }

  // Starts `signoff run`; with `connect`, waits for a live link.
  void start(bool connect = true) {
    launch(inst);
    if (connect) {
      REQUIRE(fake.wait_connections(1, 10s));
      REQUIRE(log_has("state connected"));  // the bot has seen hello too
    }
  }

  // A slash command; returns the ack's ephemeral text.
  std::string cmd(const std::string& who, const std::string& command, const std::string& text,
                  const std::string& channel = "C0APPROVALS") {
    auto id = fake.slash_command(slack_id(who), channel, command, text);
    auto ack = fake.wait_ack(id, 5s);
    INFO(command << " " << text << "\nbot stderr:\n" << (bot ? bot->err() : ""));
    REQUIRE(ack);
    CHECK_FALSE(ack->late);
    return text_of(*ack);
  }

  std::vector<fake_slack::message> messages(const std::string& channel) { return fake.messages(channel); }

  std::int64_t count(const std::string& where) { return running_bot::count(inst, where); }

  void chain_holds() { running_bot::chain_holds(inst); }

  // The card message of a draft in #approvals.
  std::optional<fake_slack::message> card(const std::string& draft) {
    for (auto& m : messages("C0APPROVALS"))
      if (blocks_text(m.blocks).find(draft) != std::string::npos || m.text.find(draft) != std::string::npos) return m;
    return std::nullopt;
  }
};

}  // namespace

TEST_CASE("slack: a draft goes from slash command to approval card to Approve button", "[slack][journey]") {
  slack_env env;
  env.start();
  auto reply = env.cmd("alice", "/draft", "new --to linkedin Our Q4 results are out");
  CHECK_THAT(reply, Catch::Contains("D-1 created"));

  REQUIRE(env.wait([&] { return env.card("D-1").has_value(); }));
  auto card = *env.card("D-1");
  auto blocks = blocks_text(card.blocks);
  CHECK_THAT(blocks, Catch::Contains("Our Q4 results are out"));
  CHECK_THAT(blocks, Catch::Contains("\"D-1@1\""));  // the buttons act on revision 1
  CHECK_THAT(blocks, Catch::Contains("signoff_approve"));
  CHECK_THAT(blocks, Catch::Contains("signoff_reject"));

  // bob clicks Approve on the card: the same rules and audit path as /approve D-1@1.
  auto click = env.fake.block_action(slack_id("bob"), "C0APPROVALS", "signoff_approve", "D-1@1", card.ts);
  REQUIRE(env.fake.wait_ack(click, 5s));
  REQUIRE(env.wait([&] { return !env.fake.calls("response_url").empty(); }));
  auto answer = env.fake.calls("response_url").back().args;
  CHECK_THAT(std::string(answer.at("text").as_string()), Catch::Contains("approved"));
  CHECK(answer.at("response_type").as_string() == "ephemeral");

  // The card is updated in place: approved, no buttons left.
  REQUIRE(env.wait([&] { auto c = env.card("D-1"); return c && c->updates >= 1; }));
  auto updated = blocks_text(env.card("D-1")->blocks);
  CHECK_THAT(updated, Catch::Contains("approved"));
  CHECK_THAT(updated, !Catch::Contains("signoff_approve"));
  CHECK(env.messages("C0APPROVALS").size() == 1);

  auto db = env.inst.db();
  auto rows = audit_rows(db, "action = 'draft.approve'");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].actor == "bob");
  CHECK(rows[0].platform == "slack");
  CHECK(rows[0].revision == 1);
  CHECK(rows[0].outcome == "ok");
  CHECK(*detail_of(db, rows[0].seq, "envelope") == click);
  CHECK(*detail_of(db, rows[0].seq, "platform_user") == slack_id("bob"));
  REQUIRE(env.wait([&] { return env.count("action = 'post.sent'") == 2; }));
  env.chain_holds();
  CHECK(env.stop() == 0);
}

TEST_CASE("slack: a page arrives in the paged person's DM with an Ack button that acks as them",
          "[slack][journey][dm]") {
  slack_env env;
  env.start();
  auto reply = env.cmd("alice", "/escalate", "slow --sev sev2 Reporter calling", "C0ESCALATIONS");
  CHECK_THAT(reply, Catch::Contains("E-1 opened on route slow [sev2]; paged bob"));

  // The page in the channel, mentioning bob; and a DM: chat.postMessage to
  // bob's user ID, which Slack answers with the DM channel.
  const auto dm_channel = fake_slack::dm_channel_of(slack_id("bob"));
  REQUIRE(env.wait([&] { return env.messages(dm_channel).size() == 1 && env.messages("C0ESCALATIONS").size() == 1; }));
  CHECK_THAT(env.messages("C0ESCALATIONS")[0].text, Catch::Contains("<@" + slack_id("bob") + ">"));
  auto dm = env.messages(dm_channel)[0];
  CHECK_THAT(dm.text, Catch::StartsWith("You are paged on E-1 [sev2] slow: Reporter calling"));
  auto blocks = blocks_text(dm.blocks);
  CHECK_THAT(blocks, Catch::Contains(R"("action_id":"signoff_ack","value":"E-1")"));
  bool to_user = false;
  for (const auto& c : env.fake.calls("chat.postMessage"))
    if (c.args.at("channel").as_string() == slack_id("bob")) to_user = true;
  CHECK(to_user);
  CHECK(env.messages(fake_slack::dm_channel_of(slack_id("carol"))).empty());  // level 2 not paged yet
  REQUIRE(env.wait([&] { return env.count("action = 'post.sent'") == 2; }));
  {
    auto db = env.inst.db();
    auto sent = audit_rows(db, "action = 'post.sent' AND json_extract(detail, '$.kind') = 'dm'");
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].platform == "slack");
    CHECK(sent[0].subject == "E-1");
    CHECK(detail_of(db, sent[0].seq, "person") == "bob");
    CHECK(detail_of(db, sent[0].seq, "message_id") == dm.ts);
  }

  // carol was never paged: her click is denied and audited, and she is told.
  auto denied = env.fake.block_action(slack_id("carol"), dm_channel, "signoff_ack", "E-1", dm.ts);
  REQUIRE(env.fake.wait_ack(denied, 5s));
  REQUIRE(env.wait([&] { return env.fake.calls("response_url").size() == 1; }));
  CHECK_THAT(std::string(env.fake.calls("response_url")[0].args.at("text").as_string()),
             Catch::Contains("only people paged on E-1 may acknowledge it"));
  {
    auto db = env.inst.db();
    auto rows = audit_rows(db, "action = 'escalation.ack'");
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].actor == "carol");
    CHECK(rows[0].outcome == "denied");
    CHECK(rows[0].subject == "E-1");
    CHECK(*detail_of(db, rows[0].seq, "envelope") == denied);
    CHECK(*detail_of(db, rows[0].seq, "raw") == "/ack E-1");
    CHECK(db.rows("SELECT status FROM escalations") == std::vector<sqlite_db::row>{{"open"}});
  }

  // bob clicks Ack: E-1 is acknowledged by bob.
  auto click = env.fake.block_action(slack_id("bob"), dm_channel, "signoff_ack", "E-1", dm.ts);
  REQUIRE(env.fake.wait_ack(click, 5s));
  REQUIRE(env.wait([&] { return env.fake.calls("response_url").size() == 2; }));
  CHECK_THAT(std::string(env.fake.calls("response_url")[1].args.at("text").as_string()),
             Catch::Contains("E-1 acknowledged"));
  {
    auto db = env.inst.db();
    auto rows = audit_rows(db, "action = 'escalation.ack' AND outcome = 'ok'");
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].actor == "bob");
    CHECK(rows[0].platform == "slack");
    CHECK(*detail_of(db, rows[0].seq, "platform_user") == slack_id("bob"));
    CHECK(db.rows("SELECT status, acked_by FROM escalations") == std::vector<sqlite_db::row>{{"acked", "bob"}});
  }
  CHECK(env.fake.protocol_errors().empty());
  env.chain_holds();
  CHECK(env.stop() == 0);
}

TEST_CASE("slack: a click whose button value was tampered with is answered and recorded invalid",
          "[slack][journey][hardening]") {
  slack_env env;
  env.start();
  // Before: such clicks were acked and ignored, leaving no audit record.
  auto approve = env.fake.block_action(slack_id("bob"), "C0APPROVALS", "signoff_approve", "D-1@x", "1.000");
  auto ack = env.fake.block_action(slack_id("bob"), "C0APPROVALS", "signoff_ack", "E-1; /crisis end", "1.000");
  REQUIRE(env.fake.wait_ack(approve, 5s));
  REQUIRE(env.fake.wait_ack(ack, 5s));
  REQUIRE(env.wait([&] { return env.fake.calls("response_url").size() == 2; }));
  {
    auto db = env.inst.db();
    auto rows = audit_rows(db, "outcome = 'invalid'");
    REQUIRE(rows.size() == 2);
    std::map<std::string, std::string> raw;
    for (const auto& r : rows) {
      CHECK(r.actor == "bob");
      CHECK(r.platform == "slack");
      raw[r.action] = *detail_of(db, r.seq, "raw");
    }
    CHECK(raw["draft.approve"] == "/approve D-1@x");
    CHECK(raw["escalation.ack"] == "/ack E-1; /crisis end");
  }
  for (const auto& c : env.fake.calls("response_url"))
    CHECK_THAT(std::string(c.args.at("text").as_string()), Catch::Contains("D-1@x") || Catch::Contains("E-1;"));
  CHECK(env.fake.protocol_errors().empty());
  env.chain_holds();
  CHECK(env.stop() == 0);
}

TEST_CASE("slack: /handover answers privately with the shift summary", "[slack][handover]") {
  slack_env env;
  env.start();
  env.cmd("alice", "/draft", "new Q4 results are out");
  env.cmd("alice", "/escalate", "slow Reporter calling");
  auto reply = env.cmd("bob", "/handover", "--hours 6");
  CHECK_THAT(reply, Catch::StartsWith("Handover for bob at "));
  CHECK_THAT(reply, Catch::Contains("Pending drafts (1):\n  D-1 r1 standard, waiting "));
  CHECK_THAT(reply, Catch::Contains("Embargoes in the next 6h (0): none.\nOpen escalations (1):\n  E-1 [sev3] slow"));
  CHECK(env.count("action = 'handover' AND actor = 'bob' AND outcome = 'ok'") == 1);
  CHECK(env.stop() == 0);
}

TEST_CASE("slack: Reject opens a modal, its reason is recorded, the user is told", "[slack][journey]") {
  slack_env env;
  env.start();
  env.cmd("alice", "/draft", "new Draft that legal will hate");
  REQUIRE(env.wait([&] { return env.card("D-1").has_value(); }));
  auto click = env.fake.block_action(slack_id("carol"), "C0APPROVALS", "signoff_reject", "D-1@1", env.card("D-1")->ts);
  REQUIRE(env.fake.wait_ack(click, 5s));
  REQUIRE(env.wait([&] { return !env.fake.opened_views().empty(); }));
  auto view = env.fake.opened_views().front();
  CHECK(view.user_id == slack_id("carol"));

  // Submitting without a reason keeps the modal open with an error.
  auto empty = env.fake.view_submission(slack_id("carol"), view.view_id, {{"reason", "   "}});
  auto err_ack = env.fake.wait_ack(empty, 5s);
  REQUIRE(err_ack);
  REQUIRE(err_ack->payload);
  CHECK(err_ack->payload->as_object().at("response_action").as_string() == "errors");

  auto sub = env.fake.view_submission(slack_id("carol"), view.view_id, {{"reason", "Off brand tone"}});
  REQUIRE(env.fake.wait_ack(sub, 5s));
  REQUIRE(env.wait([&] { return !env.fake.calls("chat.postEphemeral").empty(); }));
  auto eph = env.fake.calls("chat.postEphemeral").back().args;
  CHECK(eph.at("user").as_string() == slack_id("carol"));
  CHECK_THAT(std::string(eph.at("text").as_string()), Catch::Contains("rejected"));

  auto db = env.inst.db();
  auto rows = audit_rows(db, "action = 'draft.reject'");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].actor == "carol");
  CHECK(rows[0].outcome == "ok");
  CHECK(*detail_of(db, rows[0].seq, "reason") == "Off brand tone");
  CHECK(*db.text("SELECT status FROM drafts WHERE id = 1", {}) == "rejected");
  REQUIRE(env.wait([&] { auto c = env.card("D-1"); return c && c->updates >= 1; }));
  CHECK_THAT(blocks_text(env.card("D-1")->blocks), Catch::Contains("rejected"));
  env.chain_holds();
}

TEST_CASE("slack: text with &, < and > is stored as typed and goes out escaped once", "[slack][escaping]") {
  slack_env env;
  env.start();
  // The fake escapes it as Slack does: the envelope says "margins &lt; 5% &amp; rising".
  const std::string typed = "margins < 5% & rising", shown = "margins &lt; 5% &amp; rising";
  CHECK_THAT(env.cmd("alice", "/draft", "new " + typed), Catch::Contains("D-1 created"));

  auto db = env.inst.db();
  auto rows = audit_rows(db, "action = 'draft.new'");
  REQUIRE(rows.size() == 1);
  CHECK(*detail_of(db, rows[0].seq, "raw") == "/draft new " + typed);
  CHECK(*detail_of(db, rows[0].seq, "text_sha256") == sha256_hex(typed));
  CHECK(*db.text("SELECT text FROM revisions WHERE draft_id = 1 AND rev = 1", {}) == typed);
  CHECK(*db.text("SELECT text_sha256 FROM revisions WHERE draft_id = 1 AND rev = 1", {}) == sha256_hex(typed));

  // The card and the ack reply show it escaped exactly once.
  REQUIRE(env.wait([&] { return env.card("D-1").has_value(); }));
  auto card = blocks_text(env.card("D-1")->blocks);
  CHECK_THAT(card, Catch::Contains(shown));
  CHECK_THAT(card, !Catch::Contains("&amp;lt;") && !Catch::Contains("&amp;amp;"));
  auto show = env.cmd("alice", "/draft", "show D-1");
  CHECK_THAT(show, Catch::Contains(shown));
  CHECK_THAT(show, !Catch::Contains("&amp;lt;") && !Catch::Contains("&amp;amp;") && !Catch::Contains(typed));

  // A Reject modal's reason: stored as typed, shown escaped once.
  auto click = env.fake.block_action(slack_id("carol"), "C0APPROVALS", "signoff_reject", "D-1@1", env.card("D-1")->ts);
  REQUIRE(env.fake.wait_ack(click, 5s));
  REQUIRE(env.wait([&] { return !env.fake.opened_views().empty(); }));
  const std::string reason = "claims <unproven> & \"rushed\"";
  auto view_id = env.fake.opened_views().front().view_id;
  auto sub = env.fake.view_submission(slack_id("carol"), view_id, {{"reason", reason}});
  REQUIRE(env.fake.wait_ack(sub, 5s));
  REQUIRE(env.wait([&] { return env.count("action = 'draft.reject'") == 1; }));
  auto rejected = audit_rows(db, "action = 'draft.reject'");
  CHECK(rejected[0].outcome == "ok");
  CHECK(*detail_of(db, rejected[0].seq, "reason") == reason);
  CHECK(*detail_of(db, rejected[0].seq, "raw") == "/reject D-1@1 " + reason);
  CHECK(*db.text("SELECT status_note FROM drafts WHERE id = 1", {}) == reason);
  CHECK_THAT(env.cmd("alice", "/draft", "show D-1"), Catch::Contains("claims &lt;unproven&gt; &amp; \"rushed\""));

  // A page: the mention the bot renders stays a mention; one typed into the
  // title is text.
  env.cmd("bob", "/escalate", "fast Printer <on> fire & <@" + slack_id("erin") + ">");
  REQUIRE(env.wait([&] { return !env.messages("C0ESCALATIONS").empty(); }));
  auto page = env.messages("C0ESCALATIONS").front().text;
  CHECK_THAT(page, Catch::Contains("Printer &lt;on&gt; fire &amp; &lt;@" + slack_id("erin") + "&gt;"));
  CHECK_THAT(page, Catch::Contains("Paging <@" + slack_id("dave") + ">"));
  env.chain_holds();
}

TEST_CASE("slack: a late confirmation through response_url is escaped once", "[slack][escaping][restart]") {
  slack_env env;
  env.start();
  env.cmd("alice", "/draft", "new margins < 5% & rising");
  // The card's post.sent commit would carry the next reply's confirmation:
  // let it pass first.
  REQUIRE(env.wait([&] { return env.count("action = 'post.sent'") == 1; }));
  auto id = env.fake.slash_command(slack_id("alice"), "C0APPROVALS", "/draft", "show D-1");
  REQUIRE(env.fake.wait_ack(id, 5s));
  env.crash();  // before the bot marked the reply delivered
  env.start();
  auto late_show = [&] {
    for (const auto& c : env.fake.calls("response_url"))
      if (c.target == env.fake.response_url_of(id)) return std::string(c.args.at("text").as_string());
    return std::string();
  };
  REQUIRE(env.wait([&] { return !late_show().empty(); }));
  CHECK_THAT(late_show(), Catch::Contains("restarted"));
  CHECK_THAT(late_show(), Catch::Contains("margins &lt; 5% &amp; rising"));
  CHECK_THAT(late_show(), !Catch::Contains("&amp;lt;") && !Catch::Contains("&amp;amp;"));
}

TEST_CASE("slack: every command is answered in its ack and recorded once", "[slack][commands]") {
  slack_env env;
  env.start();
  struct step {
    const char *who, *command, *text, *expect;
  };
  const step steps[] = {
      {"alice", "/signoff", "help", "/draft"},
      {"alice", "/draft", "new --class regulated Rates are changing", "D-1 created"},
      {"alice", "/draft", "edit D-1 Rates are changing on Monday", "revision 2"},
      {"alice", "/draft", "show D-1", "Rates are changing on Monday"},
      {"alice", "/draft", "list", "D-1"},
      {"dave", "/approve", "D-1@2 legal ok", "D-1"},
      {"erin", "/signoff", "approve D-1 compliance ok", "approved"},
      {"alice", "/draft", "new second", "D-2 created"},
      {"bob", "/reject", "D-2 not now", "rejected"},
      {"alice", "/draft", "withdraw D-2 dropping it", "withdrawn"},
      {"bob", "/crisis", "status", "No active crisis"},
      {"frank", "/hold", "list", "data-breach"},
      {"frank", "/hold", "show data-breach system=payments next_update=14:00", "payments"},
      {"frank", "/hold", "issue data-breach system=payments next_update=14:00", "C-1"},
      {"frank", "/crisis", "end all clear", "ended"},
      {"bob", "/escalate", "fast --sev sev2 Printer on fire", "E-1"},
      {"bob", "/escalations", "", "E-1"},
      {"dave", "/ack", "E-1", "acknowledged"},
      {"dave", "/resolve", "E-1 replaced the printer", "resolved"},
      {"heidi", "/audit", "D-1", "draft.approve"},
      {"alice", "/audit", "", "only auditors and admins"},
      {"alice", "/nonsense", "", "help"},
  };
  int n = 0;
  for (const auto& s : steps) {
    auto reply = env.cmd(s.who, s.command, s.text);
    INFO(s.command << " " << s.text << " -> " << reply);
    CHECK_THAT(reply, Catch::Contains(s.expect, Catch::CaseSensitive::No));
    ++n;
  }
  CHECK(static_cast<int>(env.count("actor != 'system'")) == n);
  // The statement went out in_channel to #statements, the page mentions dave.
  REQUIRE(env.wait([&] { return !env.messages("C0COMMS").empty(); }));
  CHECK_THAT(env.messages("C0COMMS").front().text, Catch::Contains("affecting payments"));
  REQUIRE(env.wait([&] { return !env.messages("C0ESCALATIONS").empty(); }));
  CHECK_THAT(env.messages("C0ESCALATIONS").front().text, Catch::Contains("<@" + slack_id("dave") + ">"));
  env.chain_holds();
}

TEST_CASE("slack: an unknown Slack user is audited as unknown:<id> and may only ask for help", "[slack][commands]") {
  slack_env env;
  env.start();
  auto id = env.fake.slash_command("U0STRANGER", "C0APPROVALS", "/draft", "new hello");
  auto ack = env.fake.wait_ack(id, 5s);
  REQUIRE(ack);
  CHECK_THAT(text_of(*ack), Catch::Contains("not in signoff's config"));
  auto db = env.inst.db();
  auto rows = audit_rows(db, "actor = 'unknown:U0STRANGER'");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].outcome == "denied");
  auto help = env.fake.slash_command("U0STRANGER", "C0APPROVALS", "/signoff", "help");
  auto hack = env.fake.wait_ack(help, 5s);
  REQUIRE(hack);
  CHECK(hack->payload);
}

TEST_CASE("slack: a redelivered envelope is executed once, also after a restart", "[slack][faults]") {
  slack_env env;
  env.start();
  auto id = env.fake.slash_command(slack_id("alice"), "C0APPROVALS", "/draft", "new once only");
  auto first = env.fake.wait_ack(id, 5s);
  REQUIRE(first);
  env.fake.redeliver(id, 1, "timeout");
  REQUIRE(env.wait([&] { return env.fake.acks().size() >= 2; }));
  CHECK(text_of(env.fake.acks().back()) == text_of(*first));
  CHECK(env.count("action = 'draft.new'") == 1);

  env.crash();
  env.start();
  env.fake.redeliver(id, 2, "timeout");
  REQUIRE(env.wait([&] { return env.fake.acks().size() >= 3; }));
  CHECK(text_of(env.fake.acks().back()) == text_of(*first));
  CHECK(env.count("action = 'draft.new'") == 1);
  auto db = env.inst.db();
  CHECK(*db.text("SELECT count(*) FROM drafts", {}) == "1");
  CHECK(env.fake.protocol_errors().empty());
  env.chain_holds();
}

TEST_CASE("slack: abrupt drops and close 1011 are survived with nothing lost", "[slack][faults]") {
  slack_env env;
  env.start();
  env.cmd("alice", "/draft", "new before the drop");
  env.fake.drop_links();
  REQUIRE(env.wait([&] { return env.fake.connections_opened() >= 2 && env.fake.connections() >= 1; }));
  CHECK_THAT(env.cmd("alice", "/draft", "new after the drop"), Catch::Contains("D-2"));
  env.fake.close_links(1011);
  REQUIRE(env.wait([&] { return env.fake.connections_opened() >= 3 && env.fake.connections() >= 1; }));
  CHECK_THAT(env.cmd("alice", "/draft", "new after 1011"), Catch::Contains("D-3"));
  CHECK(env.count("action = 'draft.new'") == 3);
  REQUIRE(env.wait([&] { return env.messages("C0APPROVALS").size() == 3; }));
  env.chain_holds();
}

TEST_CASE("slack: refresh_requested and warning open the new link before the old one closes", "[slack][faults]") {
  for (const char* reason : {"refresh_requested", "warning"}) {
    DYNAMIC_SECTION(reason) {
      slack_env env;
      env.start();
      env.fake.send_disconnect(reason, 3s);
      // Two links at once: the new one said hello while the old one still serves.
      REQUIRE(env.wait([&] { return env.fake.connections() == 2; }, 3s));
      CHECK_THAT(env.cmd("bob", "/crisis", "status"), Catch::Contains("crisis"));
      REQUIRE(env.wait([&] { return env.fake.connections() == 1; }, 6s));
      CHECK(env.fake.connections_opened() == 2);
      CHECK_THAT(env.cmd("bob", "/crisis", "status"), Catch::Contains("crisis"));
    }
  }
}

TEST_CASE("slack: too_many_websockets backs off, then reconnects", "[slack][faults]") {
  slack_env env;
  env.start();
  auto t0 = std::chrono::steady_clock::now();
  env.fake.send_disconnect("too_many_websockets");
  REQUIRE(env.wait([&] { return env.fake.connections() == 0; }, 3s));
  REQUIRE(env.wait([&] { return env.fake.connections() == 1; }, 20s));
  // Not at once: the bot waited before asking again (Slack asks apps to back off).
  CHECK(std::chrono::steady_clock::now() - t0 >= 1s);
  CHECK_THAT(env.cmd("bob", "/crisis", "status"), Catch::Contains("crisis"));
}

TEST_CASE("slack: link_disabled stops reconnecting and reports unhealthy", "[slack][faults]") {
  slack_env env;
  env.start();
  auto h = http_get(env.http_port, "/healthz");
  CHECK(h.status == 200);
  CHECK_THAT(h.body, Catch::Contains("\"connected\""));
  env.fake.send_disconnect("link_disabled");
  REQUIRE(env.wait([&] { return http_get(env.http_port, "/healthz").status == 503; }, 5s));
  CHECK_THAT(http_get(env.http_port, "/healthz").body, Catch::Contains("disabled"));
  std::this_thread::sleep_for(1500ms);
  CHECK(env.fake.connections_opened() == 1);
  CHECK(env.log_has("Socket Mode disabled"));
  CHECK(env.stop() == 0);
}

TEST_CASE("slack: garbage and oversized frames do not crash the bot", "[slack][faults]") {
  slack_env env;
  env.start();
  env.fake.send_raw("this is not json {");
  env.fake.send_raw(R"({"type":"slash_commands","payload":{}})");  // no envelope_id
  CHECK_THAT(env.cmd("bob", "/crisis", "status"), Catch::Contains("crisis"));
  CHECK(env.fake.connections_opened() == 1);  // a malformed frame is skipped, the link stays
  env.fake.send_raw(R"({"type":"unknown","x":")" + std::string(2 << 20, 'x') + "\"}");
  REQUIRE(env.wait([&] { return env.fake.connections_opened() >= 2 && env.fake.connections() == 1; }));
  CHECK_THAT(env.cmd("bob", "/crisis", "status"), Catch::Contains("crisis"));
  CHECK(env.log_has("malformed frame"));
  auto m = http_get(env.http_port, "/metrics");
  CHECK(m.status == 200);
  CHECK_THAT(m.body, Catch::Contains("signoff_slack_malformed_frames_total 2"));
}

TEST_CASE("slack: a slow apps.connections.open delays but does not break the link", "[slack][faults]") {
  slack_env env;
  env.fake.set_connections_open_delay(1500ms);
  env.start();
  env.fake.drop_links();
  REQUIRE(env.wait([&] { return env.fake.connections_opened() >= 2 && env.fake.connections() == 1; }, 15s));
  CHECK_THAT(env.cmd("bob", "/crisis", "status"), Catch::Contains("crisis"));
}

TEST_CASE("slack: HTTP 429 on chat.postMessage is honoured and the post is not dropped", "[slack][outbox]") {
  slack_env env;
  env.start();
  env.fake.rate_limit_next("chat.postMessage", 1, 2);
  env.cmd("alice", "/draft", "new rate limited card");
  REQUIRE(env.wait([&] { return env.card("D-1").has_value(); }, 10s));
  auto calls = env.fake.calls("chat.postMessage");
  REQUIRE(calls.size() == 3);
  CHECK(calls[0].status == 429);
  CHECK(calls[1].status == 429);
  CHECK(calls[2].at - calls[0].at >= 1900ms);  // Retry-After: 1, twice
  CHECK(env.messages("C0APPROVALS").size() == 1);
  REQUIRE(env.wait([&] { return env.count("action = 'post.sent'") == 1; }));
  CHECK(env.count("action = 'post.failed'") == 0);
}

TEST_CASE("slack: posts to one channel are paced, and a failed post is reported to its requester", "[slack][outbox]") {
  slack_env env;
  env.start();
  for (int i = 0; i < 3; ++i) env.cmd("alice", "/draft", "new paced " + std::to_string(i));
  REQUIRE(env.wait([&] { return env.messages("C0APPROVALS").size() == 3; }, 10s));
  auto calls = env.fake.calls("chat.postMessage");
  REQUIRE(calls.size() == 3);
  CHECK(calls[2].at - calls[0].at >= 1800ms);  // about one per second per channel

  env.fake.fail_next("chat.postMessage", "channel_not_found");
  env.cmd("alice", "/draft", "new doomed");
  REQUIRE(env.wait([&] { return env.count("action = 'post.failed'") == 1; }));
  auto db = env.inst.db();
  auto failed = audit_rows(db, "action = 'post.failed'");
  CHECK(*detail_of(db, failed[0].seq, "error") == "channel_not_found");
  CHECK(failed[0].outcome == "error");
  // alice hears about it in a direct message from the app.
  REQUIRE(env.wait([&] {
    for (const auto& c : env.fake.calls("chat.postMessage"))
      if (c.args.contains("channel") && c.args.at("channel").as_string() == slack_id("alice")) return true;
    return false;
  }));
}

TEST_CASE("slack: a command that arms a timer wakes the scheduler, which otherwise sleeps up to 30 s",
          "[slack][scheduler]") {
  slack_env env;
  env.start();
  // Nothing is due at start, so the scheduler sleeps its longest (30 s). The
  // `fast` route's first level is due 1 s after /escalate: it fires on time
  // only if the escalation's commit woke the scheduler.
  const auto t0 = std::chrono::steady_clock::now();
  env.cmd("bob", "/escalate", "fast Server room flooded");
  REQUIRE(env.wait([&] { return env.count("action = 'escalation.level'") == 1; }, 10s));
  CHECK(std::chrono::steady_clock::now() - t0 >= 1s);  // not before it was due
}

TEST_CASE("slack: queued posts survive SIGTERM and go out after the restart", "[slack][outbox][restart]") {
  slack_env env;
  env.start();
  env.fake.rate_limit_next("chat.postMessage", 30, 1);
  env.cmd("frank", "/hold", "issue data-breach system=payroll next_update=noon");
  REQUIRE(env.wait([&] { return env.fake.calls("chat.postMessage").size() == 1; }));
  auto t0 = std::chrono::steady_clock::now();
  CHECK(env.stop() == 0);
  CHECK(std::chrono::steady_clock::now() - t0 < 8s);  // shutdown does not wait for the pacer
  CHECK(env.messages("C0COMMS").empty());
  env.start();
  REQUIRE(env.wait([&] { return env.messages("C0COMMS").size() == 1; }, 10s));
  CHECK_THAT(env.messages("C0COMMS").front().text, Catch::Contains("payroll"));
  // The delivery record rides the next group commit after the send.
  CHECK(env.wait([&] { return env.count("action = 'post.sent'") >= 1; }));
  CHECK(env.count("action = 'post.sent'") == 1);
  env.chain_holds();
}

TEST_CASE("slack: a command whose ack a crash may have lost is confirmed after the restart", "[slack][restart]") {
  slack_env env;
  env.start();
  env.cmd("alice", "/draft", "new crash test");
  REQUIRE(env.wait([&] { return env.card("D-1").has_value() && env.count("action = 'post.sent'") == 1; }));
  // A command that posts nothing: no other commit follows its ack soon, so
  // its confirmation is still pending (kept lazily) when the crash comes.
  auto id = env.fake.slash_command(slack_id("alice"), "C0APPROVALS", "/draft", "show D-1");
  REQUIRE(env.fake.wait_ack(id, 5s));
  env.crash();
  auto before = env.fake.calls("response_url").size();
  env.start();
  REQUIRE(env.wait([&] { return env.fake.calls("response_url").size() > before; }));
  auto late = env.fake.calls("response_url").back().args;
  CHECK_THAT(std::string(late.at("text").as_string()), Catch::Contains("D-1 r1 [pending]"));
  CHECK_THAT(std::string(late.at("text").as_string()), Catch::Contains("restarted"));
  // Confirmed once: a second restart does not repeat it.
  REQUIRE(env.wait([&] {
    auto db = env.inst.db();
    return db.text("SELECT count(*) FROM seen_envelopes WHERE confirmed = 0", {}) == std::optional<std::string>("0");
  }));
  CHECK(env.stop() == 0);
  auto after = env.fake.calls("response_url").size();
  env.start();
  std::this_thread::sleep_for(1s);
  CHECK(env.fake.calls("response_url").size() == after);
}

TEST_CASE("slack: SIGTERM closes the link with 1000 and exits 0, metrics and health are served", "[slack][service]") {
  slack_env env;
  env.start();
  env.cmd("bob", "/crisis", "status");
  auto m = http_get(env.http_port, "/metrics");
  CHECK(m.status == 200);
  CHECK_THAT(m.body, Catch::Contains("signoff_commands_total 1"));
  CHECK_THAT(m.body, Catch::Contains("signoff_slack_up 1"));
  CHECK(http_get(env.http_port, "/nope").status == 404);
  CHECK(env.stop() == 0);
  CHECK(env.fake.connections() == 0);
  // Secrets never reach the log.
  CHECK_THAT(env.bot->err(), !Catch::Contains("fakeapptoken"));
  CHECK_THAT(env.bot->err(), !Catch::Contains("fakebottoken"));
}

TEST_CASE("slack: TLS with an untrusted CA or a wrong host name is refused with a clear log line", "[slack][tls]") {
  SECTION("wrong CA") {
    slack_env env({}, {}, test_pki().other_ca_pem);
    env.start(false);
    REQUIRE(env.log_has("TLS certificate verification failed: unable to get local issuer certificate"));
    CHECK(env.fake.connections_opened() == 0);
    CHECK(env.fake.calls().empty());
    CHECK_THAT(http_get(env.http_port, "/healthz").body, !Catch::Contains("\"connected\""));
  }
  SECTION("wrong host name") {
    fake_slack::options fo;
    fo.cert_pem = test_pki().wrong_host_cert;
    fo.key_pem = test_pki().wrong_host_key;
    slack_env env({}, fo);
    env.start(false);
    REQUIRE(env.log_has("TLS certificate verification failed: hostname mismatch"));
    CHECK(env.fake.connections_opened() == 0);
    CHECK(env.fake.calls().empty());
  }
}

TEST_CASE("slack: run refuses a bot token in place of the app token, naming the key", "[slack][service]") {
  slack_env env;
  env.secrets.write("app-token", "xoxb-1-wrongkind\n");
  auto r = run({env.inst.binary(), "run", "--config", env.inst.config_path()}, {}, 10s);
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Catch::Contains("slack.app_token"));
  CHECK_THAT(r.err, !Catch::Contains("wrongkind"));
}

TEST_CASE("slack: run tells systemd READY once up and STOPPING on SIGTERM", "[slack][service]") {
  // A datagram socket standing in for systemd's $NOTIFY_SOCKET.
  temp_dir dir;
  std::string path = dir.file("notify");
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  auto receive = [&] {
    char buf[256];
    auto n = ::recv(fd, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  };

  slack_env env;
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  env.start();
  ::unsetenv("NOTIFY_SOCKET");
  CHECK(receive() == "READY=1");
  CHECK(env.stop() == 0);
  CHECK(receive() == "STOPPING=1");
  ::close(fd);
}

TEST_CASE("slack: SIGHUP reloads the config under a live link: a person added can act at once",
          "[slack][reload]") {
  slack_env env;
  env.start();
  const std::string zoe = slack_id("zoe");
  CHECK_THAT(env.cmd("zoe", "/draft", "new Hello from zoe"), !Catch::Contains("created"));

  // zoe joins; the Slack API base and the health listener change too, which
  // takes a restart: named, not applied, and the link stays up.
  std::string text;
  {
    std::ifstream f(env.inst.config_path());
    text.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  text = replaced(text, "api_base = \"" + env.fake.api_base() + "\"", "api_base = \"https://slack.invalid/api/\"");
  text = replaced(text, "listen = \"127.0.0.1:0\"", "listen = \"127.0.0.1:1\"");
  text += "\n[[people]]\nid = \"zoe\"\nroles = [\"drafter\"]\nslack = \"" + zoe + "\"\n";
  {
    std::ofstream f(env.inst.config_path(), std::ios::trunc);
    f << text;
  }
  REQUIRE(::kill(env.bot->pid(), SIGHUP) == 0);
  REQUIRE(env.log_has("config reloaded"));
  CHECK(env.log_has("config reload: not applied until a restart: http.listen, slack.api_base"));

  CHECK_THAT(env.cmd("zoe", "/draft", "new Hello from zoe"), Catch::Contains("D-1 created"));
  REQUIRE(env.wait([&] { return env.card("D-1").has_value(); }));  // the old api_base still posts
  CHECK(env.fake.connections_opened() == 1);
  CHECK(env.fake.connections() == 1);

  auto db = env.inst.db();
  auto reloads = audit_rows(db, "action = 'config.reload'");
  REQUIRE(reloads.size() == 1);
  CHECK(reloads[0].actor == "system");
  CHECK(reloads[0].outcome == "ok");
  CHECK(detail_of(db, reloads[0].seq, "config_sha256") == sha256_hex(text));
  CHECK(detail_of(db, reloads[0].seq, "changes") == R"({"people":{"added":["zoe"]}})");
  CHECK(detail_of(db, reloads[0].seq, "ignored") == R"(["http.listen","slack.api_base"])");
  auto drafts = audit_rows(db, "action = 'draft.new'");
  REQUIRE(drafts.size() == 2);
  CHECK(drafts[0].actor == "unknown:" + zoe);
  CHECK(drafts[0].outcome == "denied");
  CHECK(drafts[1].actor == "zoe");
  CHECK(drafts[1].outcome == "ok");
  CHECK(drafts[0].seq < reloads[0].seq);
  CHECK(reloads[0].seq < drafts[1].seq);
  env.chain_holds();
  CHECK(env.stop() == 0);
}

TEST_CASE("slack: a pending draft is reminded in its class's channel, mentioning who can still sign",
          "[slack][reminders]") {
  config_options o;
  o.extra = "[approval.quick]\nremind_after = \"1s\"\nstages = [{ name = \"comms\", roles = [\"approver\"] }]\n\n";
  slack_env env(o);
  env.start();
  env.cmd("alice", "/draft", "new --class quick Launch post");
  auto reminder = [&] {
    for (const auto& m : env.messages("C0APPROVALS"))
      if (m.text.find("Reminder: D-1") != std::string::npos) return m.text;
    return std::string();
  };
  REQUIRE(env.wait([&] { return !reminder().empty(); }, 10s));
  // Slack mentions, resolved to user IDs when the post was queued; never the author.
  CHECK_THAT(reminder(), Catch::Contains("<@" + slack_id("bob") + ">") &&
                             Catch::Contains("<@" + slack_id("carol") + ">") &&
                             !Catch::Contains(slack_id("alice")));
  REQUIRE(env.wait([&] { return env.count("action = 'draft.remind' AND actor = 'system'") >= 1; }));
  REQUIRE(env.wait([&] { return env.count("action = 'post.sent' AND json_extract(detail, '$.kind') = 'notice'") >= 1; }));
}

TEST_CASE("slack: signed checkpoints are posted to the audit channel, and one is signed at shutdown",
          "[slack][checkpoint]") {
  config_options o;
  temp_dir keys;
  const std::string key = keys.write("audit-key.pem", ed25519_pem());
  o.extra = "[audit]\nsigning_key_file = \"" + key + "\"\norigin = \"slack.test/audit\"\ncheckpoint_every = 3\n";
  slack_env env(o);
  env.start();
  CHECK_THAT(env.cmd("alice", "/draft", "new First"), Catch::Contains("D-1 created"));
  CHECK_THAT(env.cmd("alice", "/crisis", "status"), Catch::Contains("No active crisis"));
  // config.load, two commands and the card's delivery: one checkpoint, posted.
  REQUIRE(env.wait([&] { return !env.messages("C0AUDIT").empty(); }));
  const auto posted = env.messages("C0AUDIT").front().text;
  CHECK_THAT(posted, Catch::Contains("slack.test/audit\n"));
  CHECK_THAT(posted, Catch::Contains("\n\n\u2014 slack.test/audit "));
  REQUIRE(env.wait([&] { return env.count("action = 'post.sent' AND json_extract(detail, '$.kind') = 'checkpoint'") == 1; }));
  auto m = http_get(env.http_port, "/metrics");
  CHECK_THAT(m.body, Catch::Contains("signoff_audit_checkpoints_total 1"));

  // The copy in Slack is what an auditor keeps.
  const std::string kept = keys.write("from-slack.txt", posted);
  auto vkey = run({SIGNOFF_BINARY, "audit", "key", "--config", env.inst.config_path()});
  REQUIRE(vkey.status == 0);
  vkey.out.pop_back();

  // One more command, then SIGTERM: the last checkpoint covers it.
  CHECK_THAT(env.cmd("bob", "/crisis", "status"), Catch::Contains("No active crisis"));
  const auto before_stop = env.count("1");
  CHECK(env.stop() == 0);
  auto db = env.inst.db();
  CHECK(db.integer("SELECT max(size) FROM checkpoints") >= before_stop);
  CHECK(db.integer("SELECT count(*) FROM checkpoints") == 2);
  // Its post waits in the outbox and goes out at the next start.
  env.start();
  REQUIRE(env.wait([&] { return env.messages("C0AUDIT").size() == 2; }));
  CHECK(env.stop() == 0);
  auto v = env.inst.audit("verify", {"--checkpoint", kept, "--key", vkey.out});
  INFO(v.out << v.err);
  CHECK(v.status == 0);
  env.chain_holds();
}

// --- the audit console (SPEC "Audit console") -----------------------------------

namespace {

struct console_env : slack_env {
  std::uint16_t console_port;
  static config_options with_console(std::uint16_t port) {
    config_options o;
    o.max_text = 200;
    o.extra = "[console]\nlisten = \"127.0.0.1:" + std::to_string(port) + "\"\nbase_url = \"http://127.0.0.1:" +
              std::to_string(port) + "/console/\"\n";
    return o;
  }
  explicit console_env(std::uint16_t port = running_bot::free_port()) : slack_env(with_console(port)), console_port(port) {}

  http_result get(const std::string& path, const std::string& cookie = "") {
    std::vector<std::pair<std::string, std::string>> h;
    if (!cookie.empty()) h.emplace_back("Cookie", cookie);
    return http_request(console_port, "GET", "/console/" + path, h);
  }
  http_result post(const std::string& path, const std::string& form, const std::string& cookie = "",
                   const std::string& origin = "") {
    std::vector<std::pair<std::string, std::string>> h{{"Content-Type", "application/x-www-form-urlencoded"}};
    if (!cookie.empty()) h.emplace_back("Cookie", cookie);
    h.emplace_back("Origin", origin.empty() ? "http://127.0.0.1:" + std::to_string(console_port) : origin);
    return http_request(console_port, "POST", "/console/" + path, h, form);
  }
  // `/audit console` by `who`; the link's token.
  std::string link_token(const std::string& who) {
    auto reply = cmd(who, "/audit", "console");
    const auto at = reply.find("login?token=");
    REQUIRE(at != std::string::npos);
    auto token = reply.substr(at + 12);
    return token.substr(0, token.find_first_of(" \n>"));
  }
  // Signs in with a fresh link: the session cookie ("signoff_console=…").
  std::string sign_in(const std::string& who) {
    auto r = post("login", "token=" + link_token(who));
    REQUIRE(r.status == 303);
    auto c = header_of(r, "Set-Cookie");
    REQUIRE(c.starts_with("signoff_console="));
    return c.substr(0, c.find(';'));
  }
};

}  // namespace

TEST_CASE("console: a link from chat signs an auditor in once, and pages need the session", "[slack][console]") {
  console_env env;
  env.start();
  // Without a session: 303 to the page that says how to sign in, never data.
  auto anon = env.get("log");
  CHECK(anon.status == 303);
  CHECK(header_of(anon, "Location") == "how-to-login");
  CHECK_THAT(env.get("how-to-login").body, Catch::Contains("/audit console"));
  CHECK_THAT(header_of(anon, "Content-Security-Policy"), Catch::Contains("default-src 'none'"));

  // A non-auditor is never issued a link.
  CHECK_THAT(env.cmd("alice", "/audit", "console"), Catch::Contains("only auditors and admins"));

  const std::string token = env.link_token("heidi");
  // Opening the link (a link preview does the same) spends nothing.
  auto page = env.get("login?token=" + token);
  CHECK(page.status == 200);
  CHECK_THAT(page.body, Catch::Contains("Sign in"));
  CHECK_THAT(page.body, Catch::Contains("heidi"));
  CHECK(env.count("action = 'console.login'") == 0);
  // A POST from another site is refused.
  CHECK(env.post("login", "token=" + token, "", "https://evil.example").status == 403);
  auto in = env.post("login", "token=" + token);
  REQUIRE(in.status == 303);
  const auto set_cookie = header_of(in, "Set-Cookie");
  CHECK_THAT(set_cookie, Catch::Contains("HttpOnly"));
  CHECK_THAT(set_cookie, Catch::Contains("SameSite=Strict"));
  CHECK_THAT(set_cookie, Catch::Contains("Path=/console/"));
  const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  // The second use is refused and recorded as denied by heidi.
  auto again = env.post("login", "token=" + token);
  CHECK(again.status == 403);
  REQUIRE(env.wait([&] { return env.count("action = 'console.login'") == 2; }));
  CHECK(env.count("action = 'console.login' AND outcome = 'ok' AND actor = 'heidi' AND platform = 'console'") == 1);
  CHECK(env.count("action = 'console.login' AND outcome = 'denied' AND actor = 'heidi'") == 1);
  CHECK(env.post("login", "token=made-up").status == 403);
  REQUIRE(env.wait([&] { return env.count("action = 'console.login' AND actor = 'unknown:console'") == 1; }));

  // With the session: the log shows the records.
  auto log = env.get("log", cookie);
  CHECK(log.status == 200);
  CHECK_THAT(log.body, Catch::Contains("audit.console"));
  CHECK_THAT(log.body, Catch::Contains("console.login"));
  for (const char* p : {"escalations", "crises", "chain", "charts"}) {
    INFO(p);
    CHECK(env.get(p, cookie).status == 200);
  }
  CHECK(env.post("logout", "", cookie).status == 303);
  CHECK(env.get("log", cookie).status == 303);  // the session is gone
  CHECK(env.stop() == 0);
}

TEST_CASE("console: a draft's timeline shows its approvals, hostile text stays text, export matches the CLI",
          "[slack][console]") {
  console_env env;
  env.start();
  const std::string hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>";
  CHECK_THAT(env.cmd("alice", "/draft", "new " + hostile), Catch::Contains("D-1 created"));
  CHECK_THAT(env.cmd("bob", "/approve", "D-1 fine by me"), Catch::Contains("approved"));
  const auto cookie = env.sign_in("heidi");

  auto t = env.get("draft?id=D-1", cookie);
  REQUIRE(t.status == 200);
  CHECK_THAT(t.body, Catch::Contains("fine by me"));
  CHECK_THAT(t.body, Catch::Contains("bob"));
  CHECK_THAT(t.body, Catch::Contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
  CHECK_THAT(t.body, !Catch::Contains("<script"));
  CHECK_THAT(t.body, !Catch::Contains("<img"));

  auto csv = env.post("export", "format=csv", cookie);
  REQUIRE(csv.status == 200);
  CHECK_THAT(header_of(csv, "Content-Disposition"), Catch::Contains("attachment"));
  REQUIRE(env.wait([&] { return env.count("action = 'console.export' AND actor = 'heidi'") == 1; }));
  CHECK(env.stop() == 0);
  // The same records as `audit export` up to the export's own record.
  auto cli = env.inst.audit("export", {"--format", "csv"});
  REQUIRE(cli.status == 0);
  CHECK(cli.out.starts_with(csv.body));
  CHECK(csv.body.size() > 200);
}
