// Workflow rules (SPEC "Commands", "Who may do what", outcome order), run
// through the executor against an in-memory SQLite store with a fake clock.
#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>

#include "bot/core/merkle.hpp"
#include "bot/core/note.hpp"
#include "bot/core/text.hpp"
#include "bot/core/time.hpp"
#include "handlers/executor.hpp"
#include "storage/audit_log.hpp"
#include "storage/sqlite_store.hpp"
#include "support/enum_output.hpp"
#include "support/process.hpp"

using namespace signoff;
using namespace std::chrono_literals;

namespace {

constexpr const char* team_toml = R"(
[storage]
path = ":memory:"

[[people]]
id = "alice"
roles = ["drafter"]
[[people]]
id = "bob"
roles = ["approver"]
[[people]]
id = "carol"
roles = ["approver"]
[[people]]
id = "dave"
roles = ["legal"]
[[people]]
id = "erin"
roles = ["compliance"]
[[people]]
id = "kim"
roles = ["legal", "compliance"]
[[people]]
id = "frank"
roles = ["crisis-lead"]
[[people]]
id = "grace"
roles = ["crisis-lead"]
[[people]]
id = "heidi"
roles = ["auditor"]
[[people]]
id = "ivan"
roles = ["admin"]
[[people]]
id = "olga"
roles = ["board"]

[roles]
draft   = ["drafter", "approver", "admin"]
approve = ["approver", "legal", "compliance", "crisis-lead", "board"]
crisis  = ["crisis-lead"]
audit   = ["auditor", "admin"]
admin   = ["admin"]

[approval.standard]
stages = [{ name = "comms", roles = ["approver"], count = 1 }]

[approval.regulated]
stages = [{ name = "legal", roles = ["legal"], count = 1 },
          { name = "compliance", roles = ["compliance"], count = 1 }]

[approval.board]
stages = [{ name = "board", roles = ["board", "approver"], count = 2 }]

[approval.crisis]
stages = [{ name = "lead", roles = ["crisis-lead"], count = 1 }]

[escalation.legal]
channel = "escalations"
levels = [{ notify = ["dave"], after = "15m" },
          { notify = ["erin", "kim"], after = "30m" },
          { notify = ["ivan"] }]

[channels]
approvals = { slack = "C0APPROVALS" }
statements = { slack = "C0COMMS" }
escalations = { slack = "C0ESC" }

[[holding_statement]]
key = "data-breach"
title = "Data security incident"
severity = "sev1"
channel = "statements"
version = 3
approved_by = ["legal:dave"]
approved_on = "2026-10-01"
text = "We are aware of an incident affecting {system}. Update by {next_update}."

[limits]
commands_per_person = "off"
max_text = 200
)";

conf::config load(std::string toml) {
  auto r = conf::load_string(toml);
  for (const auto& d : r.diagnostics) INFO(conf::format(d));
  REQUIRE(r.ok());
  return *r.cfg;
}

struct bot {
  conf::config cfg;
  sqlite_store db{":memory:"};
  executor ex;
  time_point now = *parse_rfc3339("2026-11-22T12:00:00Z");

  explicit bot(std::string toml = team_toml) : cfg(load(std::move(toml))), ex(cfg, db, {platform::slack}) {}

  execution run(const std::string& who, const std::string& line) { return ex.execute(make(who, line), now); }
  incoming make(const std::string& who, const std::string& line) {
    incoming in;
    in.who.platform = platform::slack;
    in.who.workspace = "T1";
    in.who.channel = "C0APPROVALS";
    in.who.platform_user = "U-" + who;
    in.who.person = cfg.find_person(who) ? who : "";
    in.who.envelope = "env-" + std::to_string(++n_);
    in.line = line;
    return in;
  }
  // The last audit record.
  audit::record last() {
    audit::filter f;
    f.limit = 1;
    auto v = db.query_audit(f);
    REQUIRE(v.size() == 1);
    return v.front();
  }
  boost::json::object last_detail() { return boost::json::parse(last().detail).as_object(); }
  std::int64_t count(const std::string& sql) {
    auto s = db.raw().prepare(sql);
    s.step();
    return s.i64(0);
  }
  draft get(std::int64_t id) { return *db.get_draft(id); }

 private:
  int n_ = 0;
};

void expect(const execution& e, outcome want) {
  INFO(e.reply);
  REQUIRE(e.recorded);
  CHECK(e.outcome == want);
}

}  // namespace

TEST_CASE("a standard draft is approved by one comms approver", "[drafts]") {
  bot b;
  auto e = b.run("alice", "/draft new --to linkedin Launch day!");
  expect(e, outcome::ok);
  CHECK(e.subject == "D-1");
  CHECK(b.last().action == "draft.new");
  CHECK(b.last().revision == 1);
  CHECK(b.last_detail().at("text_sha256").as_string() == sha256_hex("Launch day!"));
  expect(b.run("bob", "/approve D-1 fine"), outcome::ok);
  CHECK(b.get(1).status == draft_status::approved);
  CHECK(b.last_detail().at("note").as_string() == "fine");
  // An approved draft refuses more approvals and rejections as invalid (state).
  expect(b.run("carol", "/approve D-1"), outcome::invalid);
  expect(b.run("carol", "/reject D-1 too late"), outcome::invalid);
}

TEST_CASE("an author never approves their own draft", "[drafts]") {
  bot b;
  expect(b.run("bob", "/draft new my own post"), outcome::ok);
  auto e = b.run("bob", "/approve D-1");
  expect(e, outcome::denied);
  CHECK_THAT(e.reply, Catch::Contains("own draft"));
  CHECK(b.get(1).status == draft_status::pending);
  // Whoever writes a revision becomes an author too.
  expect(b.run("alice", "/draft new text"), outcome::ok);
  expect(b.run("carol", "/draft edit D-2 better text"), outcome::denied);  // not an author, not admin
  expect(b.run("ivan", "/draft edit D-2 better text"), outcome::ok);      // admin
  CHECK(b.get(2).authors == std::vector<std::string>{"alice", "ivan"});
}

TEST_CASE("regulated content needs legal AND compliance, in any order", "[drafts]") {
  bot b;
  expect(b.run("alice", "/draft new --class regulated Rates change"), outcome::ok);
  expect(b.run("erin", "/approve D-1"), outcome::ok);
  CHECK(b.get(1).status == draft_status::pending);
  CHECK(b.last_detail().at("stage").as_string() == "compliance");
  expect(b.run("bob", "/approve D-1"), outcome::denied);  // approver, but no regulated stage role
  expect(b.run("dave", "/approve D-1"), outcome::ok);
  CHECK(b.get(1).status == draft_status::approved);
}

TEST_CASE("one person never satisfies two stages of the same revision", "[drafts]") {
  bot b;
  expect(b.run("alice", "/draft new --class regulated Rates change"), outcome::ok);
  expect(b.run("kim", "/approve D-1"), outcome::ok);
  CHECK(b.last_detail().at("stage").as_string() == "legal");  // first unmet stage in config order
  auto e = b.run("kim", "/approve D-1");
  expect(e, outcome::denied);
  CHECK_THAT(e.reply, Catch::Contains("two stages"));
  expect(b.run("erin", "/approve D-1"), outcome::ok);
  CHECK(b.get(1).status == draft_status::approved);
}

TEST_CASE("a stage with count 2 needs two different approvers", "[drafts]") {
  bot b;
  expect(b.run("alice", "/draft new --class board Annual report"), outcome::ok);
  expect(b.run("olga", "/approve D-1"), outcome::ok);
  expect(b.run("olga", "/approve D-1"), outcome::denied);
  CHECK(b.get(1).status == draft_status::pending);
  expect(b.run("bob", "/approve D-1"), outcome::ok);
  CHECK(b.get(1).status == draft_status::approved);
}

TEST_CASE("an edit voids approvals and a stale @R is refused", "[drafts]") {
  bot b;
  expect(b.run("alice", "/draft new --class regulated v1"), outcome::ok);
  expect(b.run("dave", "/approve D-1@1"), outcome::ok);
  expect(b.run("alice", "/draft edit D-1 v2"), outcome::ok);
  CHECK(b.last().revision == 2);
  auto d = b.get(1);
  CHECK(d.rev == 2);
  CHECK(d.approvals.empty());
  auto stale = b.run("erin", "/approve D-1@1");
  expect(stale, outcome::invalid);
  CHECK_THAT(stale.reply, Catch::Contains("revision 2"));
  CHECK(b.last().revision == 1);
  // dave's approval of r1 no longer counts: r2 needs both stages again.
  expect(b.run("erin", "/approve D-1@2"), outcome::ok);
  CHECK(b.get(1).status == draft_status::pending);
  expect(b.run("dave", "/approve D-1@2"), outcome::ok);
  CHECK(b.get(1).status == draft_status::approved);
  // An unchanged text is not a revision.
  expect(b.run("alice", "/draft edit D-1 v2"), outcome::invalid);
}

TEST_CASE("a rejection is answered by a revision, withdrawn is final", "[drafts]") {
  bot b;
  expect(b.run("alice", "/draft new v1"), outcome::ok);
  auto r = b.run("bob", "/reject D-1 tone is off");
  expect(r, outcome::ok);
  CHECK(b.get(1).status == draft_status::rejected);
  CHECK(b.last_detail().at("reason").as_string() == "tone is off");
  expect(b.run("bob", "/approve D-1"), outcome::invalid);
  expect(b.run("alice", "/draft edit D-1 v2"), outcome::ok);
  CHECK(b.get(1).status == draft_status::pending);
  expect(b.run("bob", "/draft withdraw D-1"), outcome::denied);  // not an author
  expect(b.run("alice", "/draft withdraw D-1 campaign cancelled"), outcome::ok);
  CHECK(b.last_detail().at("reason").as_string() == "campaign cancelled");
  expect(b.run("alice", "/draft edit D-1 v3"), outcome::invalid);
  expect(b.run("bob", "/approve D-1"), outcome::invalid);
  expect(b.run("alice", "/draft withdraw D-1"), outcome::invalid);
  expect(b.run("alice", "/draft new v1 again"), outcome::ok);
  expect(b.run("ivan", "/draft withdraw D-2"), outcome::ok);  // admin withdraws someone else's draft
}

TEST_CASE("reject needs a role of a stage of the draft's class", "[drafts]") {
  bot b;
  expect(b.run("alice", "/draft new --class regulated text"), outcome::ok);
  expect(b.run("bob", "/reject D-1 no"), outcome::denied);
  expect(b.run("heidi", "/reject D-1 no"), outcome::denied);
  expect(b.run("erin", "/reject D-1 wording"), outcome::ok);
}

TEST_CASE("draft show and list only reveal drafts the actor may see", "[drafts]") {
  bot b;
  expect(b.run("alice", "/draft new --class regulated secret merger"), outcome::ok);
  expect(b.run("alice", "/draft new public post"), outcome::ok);
  expect(b.run("bob", "/draft show D-1"), outcome::denied);  // no regulated stage role
  auto shown = b.run("dave", "/draft show D-1");
  expect(shown, outcome::ok);
  CHECK_THAT(shown.reply, Catch::Contains("secret merger"));
  expect(b.run("heidi", "/draft show D-1"), outcome::ok);  // audit
  auto list = b.run("bob", "/draft list");
  expect(list, outcome::ok);
  CHECK_THAT(list.reply, Catch::Contains("D-2"));
  CHECK_THAT(list.reply, !Catch::Contains("D-1 "));
  CHECK(b.last_detail().at("count").as_int64() == 1);
  expect(b.run("alice", "/draft show D-9"), outcome::invalid);
  CHECK(b.last_detail().at("error").as_string() == "no draft D-9");
}

TEST_CASE("a crisis freezes non-crisis approvals and is refused twice", "[crisis]") {
  bot b;
  expect(b.run("alice", "/draft new ordinary post"), outcome::ok);
  expect(b.run("alice", "/crisis start sev1 outage"), outcome::denied);
  auto s = b.run("frank", "/crisis start sev1 Payment outage");
  expect(s, outcome::ok);
  CHECK(s.subject == "C-1");
  expect(b.run("grace", "/crisis start sev2 another"), outcome::invalid);
  auto frozen = b.run("bob", "/approve D-1");
  expect(frozen, outcome::invalid);
  CHECK_THAT(frozen.reply, Catch::Contains("frozen"));
  CHECK(b.last_detail().at("crisis").as_string() == "C-1");
  CHECK(b.get(1).status == draft_status::pending);
  expect(b.run("alice", "/draft new --class crisis We are investigating."), outcome::ok);
  expect(b.run("grace", "/approve D-2"), outcome::ok);
  CHECK(b.get(2).status == draft_status::approved);
  auto st = b.run("alice", "/crisis status");
  expect(st, outcome::ok);
  CHECK_THAT(st.reply, Catch::Contains("Payment outage"));
  expect(b.run("frank", "/crisis end resolved"), outcome::ok);
  expect(b.run("frank", "/crisis end"), outcome::invalid);
  expect(b.run("bob", "/approve D-1"), outcome::ok);
}

TEST_CASE("hold issue fills placeholders, posts, and starts a crisis once", "[crisis][hold]") {
  bot b;
  auto missing = b.run("frank", "/hold issue data-breach system=portal");
  expect(missing, outcome::invalid);
  CHECK_THAT(missing.reply, Catch::Contains("next_update"));
  CHECK(b.count("SELECT count(*) FROM outbox") == 0);
  expect(b.run("frank", "/hold issue data-breach system=portal colour=red next_update=16:00"), outcome::invalid);
  expect(b.run("alice", "/hold issue data-breach system=portal next_update=16:00"), outcome::denied);
  expect(b.run("frank", "/hold issue no-such-key"), outcome::invalid);
  auto ok = b.run("frank", R"(/hold issue data-breach system="customer portal" next_update="16:00 UTC")");
  expect(ok, outcome::ok);
  const std::string text = "We are aware of an incident affecting customer portal. Update by 16:00 UTC.";
  auto d = b.last_detail();
  CHECK(d.at("statement_version").as_int64() == 3);
  CHECK(d.at("text_sha256").as_string() == sha256_hex(text));
  CHECK(d.at("crisis").as_string() == "C-1");
  CHECK(b.last().subject == "data-breach");
  auto posts = b.db.pending_posts(platform::slack, 10);
  REQUIRE(posts.size() == 1);
  CHECK(posts[0].text == text);
  CHECK(posts[0].platform_channel == "C0COMMS");
  // One command, one record: the crisis it started is in that record, not another.
  CHECK(b.count("SELECT count(*) FROM audit_log WHERE action = 'crisis.start'") == 0);
  CHECK(b.count("SELECT count(*) FROM crises WHERE ended_at IS NULL AND sev = 'sev1'") == 1);
  expect(b.run("grace", "/hold issue data-breach system=app next_update=17:00"), outcome::ok);
  CHECK(b.last_detail().at("crisis").as_string() == "C-1");
  CHECK(b.count("SELECT count(*) FROM crises") == 1);
  auto preview = b.run("alice", "/hold show data-breach system=X");
  expect(preview, outcome::ok);
  CHECK_THAT(preview.reply, Catch::Contains("affecting X") && Catch::Contains("next_update"));
}

TEST_CASE("escalations page level 1, re-escalate when due, stop on ack", "[escalation]") {
  bot b;
  auto o = b.run("alice", "/escalate legal --sev sev2 Regulator called");
  expect(o, outcome::ok);
  CHECK(o.subject == "E-1");
  CHECK(b.db.next_escalation_due() == b.now + 15min);
  CHECK(b.ex.next_due() == b.now + 15min);
  expect(b.run("erin", "/ack E-1"), outcome::denied);  // not paged yet
  b.now += 14min;
  CHECK(b.ex.run_due(b.now).fired.empty());
  b.now += 1min;
  auto t = b.ex.run_due(b.now);
  REQUIRE(t.fired.size() == 1);
  auto rec = b.last();
  CHECK(rec.action == "escalation.level");
  CHECK(rec.actor == "system");
  CHECK(rec.platform == "system");
  CHECK(boost::json::parse(rec.detail).at("level").as_int64() == 2);
  CHECK(b.db.get_escalation(1)->due_at == b.now + 30min);
  expect(b.run("erin", "/ack E-1"), outcome::ok);
  CHECK_FALSE(b.ex.next_due());
  b.now += 2h;
  CHECK(b.ex.run_due(b.now).fired.empty());
  expect(b.run("kim", "/ack E-1"), outcome::invalid);  // already acknowledged
  expect(b.run("bob", "/resolve E-1"), outcome::denied);
  expect(b.run("alice", "/resolve E-1 handled"), outcome::ok);  // the opener
  expect(b.run("alice", "/resolve E-1"), outcome::invalid);
  expect(b.run("alice", "/ack E-7"), outcome::invalid);
  expect(b.run("alice", "/escalate nowhere x"), outcome::invalid);
}

TEST_CASE("after a long outage only one level fires per due time", "[escalation][scheduler]") {
  bot b;
  expect(b.run("alice", "/escalate legal everything is down"), outcome::ok);
  b.now += 10h;  // far past both level timers, as after a restart
  auto t = b.ex.run_due(b.now);
  CHECK(t.fired.size() == 1);
  CHECK(b.db.get_escalation(1)->level == 2);
  // Level 2's `after` counts from when it was paged (now), not from the open.
  CHECK(b.ex.next_due() == b.now + 30min);
  b.now += 30min;
  b.ex.run_due(b.now);
  auto e = *b.db.get_escalation(1);
  CHECK(e.level == 3);
  CHECK_FALSE(e.due_at);  // the last level has no `after`
  CHECK(e.notified == std::vector<std::string>{"dave", "erin", "kim", "ivan"});
  expect(b.run("ivan", "/ack E-1"), outcome::ok);
  auto list = b.run("alice", "/escalations");
  CHECK_THAT(list.reply, Catch::Contains("acked by ivan"));
}

TEST_CASE("embargoed drafts are cleared once, after the embargo and any freeze", "[scheduler][drafts]") {
  bot b;
  expect(b.run("alice", "/draft new --embargo 2026-11-22T13:00:00Z Quarterly numbers"), outcome::ok);
  expect(b.run("bob", "/approve D-1"), outcome::ok);
  CHECK(b.ex.next_due() == *parse_rfc3339("2026-11-22T13:00:00Z"));
  b.now += 59min;
  CHECK(b.ex.run_due(b.now).fired.empty());
  expect(b.run("frank", "/crisis start sev2 Rumours"), outcome::ok);
  b.now += 2min;
  CHECK(b.ex.run_due(b.now).fired.empty());  // frozen: waits
  CHECK_FALSE(b.ex.next_due());              // and no busy loop while frozen
  expect(b.run("frank", "/crisis end"), outcome::ok);
  auto t = b.ex.run_due(b.now);
  REQUIRE(t.fired.size() == 1);
  CHECK_THAT(t.fired[0], Catch::Contains("cleared for publication"));
  CHECK(b.last().action == "draft.cleared");
  CHECK(b.last().revision == 1);
  CHECK(b.ex.run_due(b.now + 1h).fired.empty());  // recorded once
  CHECK(b.count("SELECT count(*) FROM audit_log WHERE action = 'draft.cleared'") == 1);
}

TEST_CASE("outcome order: parse, then actor, then subject, then permission, then state", "[outcome]") {
  bot b;
  // 1 before 2: an unknown actor's malformed line is invalid.
  expect(b.run("mallory", "/reject D-1"), outcome::invalid);
  CHECK(b.last().action == "draft.reject");
  CHECK(b.last().actor == "unknown:U-mallory");
  // 2 before 3: an unknown actor approving a missing draft is denied.
  expect(b.run("mallory", "/approve D-9"), outcome::denied);
  // 3 before 4: a non-approver approving a missing draft is invalid.
  expect(b.run("alice", "/approve D-9"), outcome::invalid);
  // 4 before 5: a non-approver approving a withdrawn draft is denied.
  expect(b.run("alice", "/draft new x"), outcome::ok);
  expect(b.run("alice", "/draft withdraw D-1"), outcome::ok);
  expect(b.run("heidi", "/approve D-1"), outcome::denied);
  // Unknown verbs are command.invalid; unknown actors may ask for help.
  expect(b.run("alice", "/launch"), outcome::invalid);
  CHECK(b.last().action == "command.invalid");
  auto h = b.run("mallory", "/signoff help");
  expect(h, outcome::ok);
  CHECK_THAT(h.reply, Catch::Contains("not in signoff's config"));
}

TEST_CASE("help lists only what the actor may use", "[help]") {
  bot b;
  auto alice = b.run("alice", "/help").reply;
  CHECK_THAT(alice, Catch::Contains("/draft new") && !Catch::Contains("/approve") &&
                        !Catch::Contains("/audit") && !Catch::Contains("/hold issue"));
  auto heidi = b.run("heidi", "/help").reply;
  CHECK_THAT(heidi, Catch::Contains("/audit") && !Catch::Contains("/draft new"));
  auto frank = b.run("frank", "/help").reply;
  CHECK_THAT(frank, Catch::Contains("/hold issue") && Catch::Contains("/crisis start"));
}

TEST_CASE("audit queries are for auditors and admins, newest first", "[audit]") {
  bot b;
  expect(b.run("alice", "/draft new x"), outcome::ok);
  expect(b.run("bob", "/approve D-1 ok"), outcome::ok);
  expect(b.run("alice", "/audit D-1"), outcome::denied);
  auto q = b.run("heidi", "/audit D-1");
  expect(q, outcome::ok);
  auto approve_at = q.reply.find("draft.approve");
  auto new_at = q.reply.find("draft.new");
  REQUIRE(approve_at != std::string::npos);
  REQUIRE(new_at != std::string::npos);
  CHECK(approve_at < new_at);
  CHECK(b.last_detail().at("count").as_int64() == 2);
  for (int i = 0; i < 25; ++i) b.run("alice", "/crisis status");
  expect(b.run("heidi", "/audit"), outcome::ok);  // SPEC: default limit 20 in chat
  CHECK(b.last_detail().at("count").as_int64() == 20);
  expect(b.run("ivan", "/audit --actor bob --action draft.approve --limit 1"), outcome::ok);
  CHECK(b.last_detail().at("count").as_int64() == 1);
}

TEST_CASE("every command makes exactly one record, carrying the delivery's identity", "[audit]") {
  bot b;
  auto before = b.count("SELECT count(*) FROM audit_log");
  for (const char* line : {"/draft new a", "/approve D-1", "/nonsense", "/draft show D-1",
                           "/escalations", "/crisis status", "/hold list"})
    b.run("bob", line);
  CHECK(b.count("SELECT count(*) FROM audit_log") - before == 7);
  auto d = b.last_detail();
  CHECK(d.at("raw").as_string() == "/hold list");
  CHECK(d.at("platform_user").as_string() == "U-bob");
  CHECK(d.at("envelope").as_string() == "env-7");
  auto r = b.last();
  CHECK(r.workspace == "T1");
  CHECK(r.channel == "C0APPROVALS");
  CHECK(audit::verify(b.db.raw()).ok);
}

TEST_CASE("invalid UTF-8 is recorded as raw_hex, never as raw", "[audit][outcome]") {
  bot b;
  auto e = b.run("alice", "/draft new caf\xC3");
  expect(e, outcome::invalid);
  CHECK(b.last().action == "command.invalid");
  auto d = b.last_detail();
  CHECK_FALSE(d.contains("raw"));
  CHECK(d.at("raw_hex").as_string() == "2f6472616674206e657720636166c3");
}

TEST_CASE("the per-person command limit denies and then recovers", "[limits]") {
  std::string toml = team_toml;
  toml.replace(toml.find("\"off\""), 5, "\"3/1m\"");
  bot b(toml);
  for (int i = 0; i < 3; ++i) expect(b.run("alice", "/crisis status"), outcome::ok);
  auto e = b.run("alice", "/crisis status");
  expect(e, outcome::denied);
  CHECK_THAT(e.reply, Catch::Contains("command limit"));
  expect(b.run("bob", "/crisis status"), outcome::ok);  // per person
  b.now += 61s;
  expect(b.run("alice", "/crisis status"), outcome::ok);
}

TEST_CASE("posts fan out only to platforms with an ID for the channel", "[outbox]") {
  bot b;
  expect(b.run("alice", "/draft new hello"), outcome::ok);
  auto posts = b.db.pending_posts(platform::slack, 10);
  REQUIRE(posts.size() == 1);
  CHECK(posts[0].platform_channel == "C0APPROVALS");
  CHECK(posts[0].kind == post_kind::card);
  b.ex.record_delivery(posts[0], true, "1700000000.000100", b.now);
  CHECK(b.last().action == "post.sent");
  CHECK(b.last().actor == "system");
  CHECK(b.last_detail().at("message_id").as_string() == "1700000000.000100");
  CHECK(b.db.pending_posts(platform::slack, 10).empty());
}

TEST_CASE("refusals before the handler still name the subject", "[outcome][audit]") {
  bot b;
  expect(b.run("mallory", "/approve D-4"), outcome::denied);
  CHECK(b.last().subject == "D-4");
  expect(b.run("mallory", "/ack E-2"), outcome::denied);
  CHECK(b.last().subject == "E-2");
  expect(b.run("bob", "/reject D-3"), outcome::invalid);  // parse error after the ID: missing reason
  CHECK(b.last().subject == "D-3");
  expect(b.run("bob", "/reject"), outcome::invalid);
  CHECK(b.last().subject.empty());
}

TEST_CASE("outbox claims: a post claimed by one process is skipped by another until its lease ends", "[outbox]") {
  bot b;
  expect(b.run("alice", "/draft new hello"), outcome::ok);
  auto mine = b.db.claim_posts(platform::slack, "A", b.now, std::chrono::seconds(30), 10);
  REQUIRE(mine.size() == 1);
  CHECK(b.db.claim_posts(platform::slack, "B", b.now, std::chrono::seconds(30), 10).empty());
  // A dies without finishing: after the lease, B gets it (never dropped).
  auto later = b.db.claim_posts(platform::slack, "B", b.now + std::chrono::seconds(31), std::chrono::seconds(30), 10);
  REQUIRE(later.size() == 1);
  CHECK(b.ex.record_delivery(later[0], true, "ts-1", b.now));
  // A late finish by A changes nothing and records nothing.
  auto before = b.count("SELECT count(*) FROM audit_log");
  CHECK_FALSE(b.ex.record_delivery(mine[0], true, "ts-2", b.now));
  CHECK(b.count("SELECT count(*) FROM audit_log") == before);
  CHECK(b.count("SELECT count(*) FROM audit_log WHERE action = 'post.sent'") == 1);
}

// ---- deliveries seen twice, grouped commits (issue 3) ------------------------

namespace {
incoming delivery(const conf::config& cfg, const std::string& who, const std::string& envelope,
                  const std::string& line) {
  incoming in;
  in.who.platform = platform::slack;
  in.who.platform_user = "U-" + who;
  in.who.person = cfg.find_person(who) ? who : "";
  in.who.envelope = envelope;
  in.line = line;
  in.response_url = "https://hooks.example/" + envelope;
  return in;
}
}  // namespace

TEST_CASE("a delivery seen twice is executed once and answered with its first reply", "[dedup]") {
  bot b;
  auto first = b.ex.execute(delivery(b.cfg, "alice", "E1", "/draft new launch post"), b.now);
  expect(first, outcome::ok);
  auto records = b.count("SELECT count(*) FROM audit_log");
  auto again = b.ex.execute(delivery(b.cfg, "alice", "E1", "/draft new launch post"), b.now + 1s);
  CHECK(again.duplicate);
  CHECK(again.reply == first.reply);
  CHECK(again.seq == first.seq);
  CHECK(b.count("SELECT count(*) FROM audit_log") == records);
  CHECK(b.count("SELECT count(*) FROM drafts") == 1);
  CHECK(b.ex.stats().duplicates == 1);
  // The same envelope ID on another platform is another delivery.
  auto other = delivery(b.cfg, "alice", "E1", "/crisis status");
  other.who.platform = platform::discord;
  CHECK_FALSE(b.ex.execute(other, b.now).duplicate);
}

TEST_CASE("deliveries seen are remembered across a restart", "[dedup]") {
  test::temp_dir dir;
  auto cfg = load(team_toml);
  auto t = *parse_rfc3339("2026-11-22T12:00:00Z");
  std::string first_reply;
  {
    sqlite_store db(dir.file("s.db"));
    executor ex(cfg, db, {platform::slack});
    auto r = ex.execute(delivery(cfg, "bob", "Ex", "/escalate legal server down"), t);
    REQUIRE(r.outcome == outcome::ok);
    first_reply = r.reply;
  }
  sqlite_store db(dir.file("s.db"));
  executor ex(cfg, db, {platform::slack});
  auto r = ex.execute(delivery(cfg, "bob", "Ex", "/escalate legal server down"), t + 5s);
  CHECK(r.duplicate);
  CHECK(r.reply == first_reply);
  auto s = db.raw().prepare("SELECT count(*) FROM escalations");
  s.step();
  CHECK(s.i64(0) == 1);
  // Unconfirmed until an ack is reported; then gone from the late-confirmation list.
  auto pending = db.unconfirmed_envelopes(platform::slack, t - 1min);
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].envelope_id == "Ex");
  CHECK(pending[0].response_url == "https://hooks.example/Ex");
  CHECK(pending[0].reply == first_reply);
  ex.execute_batch({}, t + 6s, {{platform::slack, {"Ex"}}});
  CHECK(db.unconfirmed_envelopes(platform::slack, t - 1min).empty());
  db.begin();
  CHECK(db.prune_envelopes(t + 1h) == 1);
  db.commit();
}

TEST_CASE("a batch commits many commands at once, each with its own record, in order", "[batch]") {
  bot b;
  std::vector<incoming> batch{delivery(b.cfg, "alice", "B1", "/draft new one"),
                              delivery(b.cfg, "bob", "B2", "/approve D-1 fine"),
                              delivery(b.cfg, "bob", "B2", "/approve D-1 fine"),  // redelivered in the same batch
                              delivery(b.cfg, "mallory", "B3", "/crisis status"),
                              delivery(b.cfg, "alice", "B4", "/nonsense")};
  auto before = b.count("SELECT count(*) FROM audit_log");
  auto out = b.ex.execute_batch(batch, b.now);
  REQUIRE(out.size() == 5);
  CHECK(out[0].outcome == outcome::ok);
  CHECK(out[1].outcome == outcome::ok);
  CHECK(out[2].duplicate);
  CHECK(out[3].outcome == outcome::denied);
  CHECK(out[4].outcome == outcome::invalid);
  CHECK(out[1].seq == out[0].seq + 1);
  CHECK(out[3].seq == out[1].seq + 1);
  CHECK(b.count("SELECT count(*) FROM audit_log") - before == 4);
  CHECK(b.get(1).status == draft_status::approved);
  CHECK(audit::verify(b.db.raw()).ok);
}

TEST_CASE("cards carry the revision their buttons act on, pages name who to mention", "[outbox]") {
  bot b;
  expect(b.run("alice", "/draft new hello"), outcome::ok);
  expect(b.run("alice", "/draft edit D-1 hello again"), outcome::ok);
  auto posts = b.db.pending_posts(platform::slack, 10);
  REQUIRE(posts.size() == 2);
  CHECK(posts[0].approve_rev == 1);
  CHECK(posts[1].kind == post_kind::card_update);
  CHECK(posts[1].approve_rev == 2);
  b.ex.record_delivery(posts[0], true, "111.000001", b.now);
  CHECK(b.db.sent_card(platform::slack, "C0APPROVALS", "D-1") == std::optional<std::string>("111.000001"));
  CHECK_FALSE(b.db.sent_card(platform::slack, "C0APPROVALS", "D-2"));
  b.ex.record_delivery(posts[1], true, "111.000001", b.now);
  expect(b.run("bob", "/approve D-1"), outcome::ok);
  auto approved = b.db.pending_posts(platform::slack, 10);
  REQUIRE(approved.size() == 1);
  CHECK_FALSE(approved[0].approve_rev);  // an approved draft's card has no buttons
  // The card travels as a value through the outbox, as the handler built it.
  REQUIRE(approved[0].card);
  CHECK(approved[0].card->draft == "D-1");
  CHECK(approved[0].card->headline == "Draft approved");
  CHECK(approved[0].card->authors == std::vector<std::string>{"alice"});
  CHECK_FALSE(approved[0].card->approve_rev);

  expect(b.run("bob", "/escalate legal printer on fire"), outcome::ok);
  auto pages = b.db.pending_posts(platform::slack, 10);
  REQUIRE(pages.size() == 2);
  CHECK(pages[1].kind == post_kind::page);
  // Resolved at enqueue: dave has no Slack ID in this config.
  CHECK(pages[1].mentions == std::vector<mention>{{"dave", ""}});
  CHECK_THAT(pages[1].text, Catch::Contains("@dave"));
}

// --- approval reminders (SPEC "Reminders") -------------------------------------

namespace {

// team_toml with reminders: regulated every 4h, crisis every 1h, board every
// 2h; standard none.
std::string reminder_toml() {
  std::string t = team_toml;
  auto add = [&](const std::string& header, const std::string& line) {
    auto pos = t.find(header);
    REQUIRE(pos != std::string::npos);
    t.insert(pos + header.size(), line);
  };
  add("[approval.regulated]\n", "remind_after = \"4h\"\n");
  add("[approval.crisis]\n", "remind_after = \"1h\"\n");
  add("[approval.board]\n", "remind_after = \"2h\"\n");
  return t;
}

std::vector<std::string> strings(const boost::json::value& v) {
  std::vector<std::string> out;
  for (const auto& e : v.as_array()) out.emplace_back(e.as_string());
  return out;
}

}  // namespace

TEST_CASE("reminders: due after remind_after, repeated, naming who can still sign", "[reminders][scheduler]") {
  bot b(reminder_toml());
  const auto t0 = b.now;
  expect(b.run("alice", "/draft new --class regulated Results"), outcome::ok);
  expect(b.run("alice", "/draft new No reminders for standard"), outcome::ok);
  CHECK(b.get(1).remind_at == t0 + 4h);
  CHECK_FALSE(b.get(2).remind_at);
  CHECK(b.ex.next_due() == t0 + 4h);
  b.now = t0 + 4h - 1s;
  CHECK(b.ex.run_due(b.now).fired.empty());
  b.now = t0 + 4h;
  auto t = b.ex.run_due(b.now);
  REQUIRE(t.fired.size() == 1);
  CHECK_THAT(t.fired[0], Catch::StartsWith("Reminder: D-1 revision 1 (class regulated) has waited 4h 00m") &&
                             Catch::Contains("legal needs 1 more: @dave @kim") &&
                             Catch::Contains("compliance needs 1 more: @erin @kim"));
  auto rec = b.last();
  CHECK(rec.action == "draft.remind");
  CHECK(rec.actor == "system");
  CHECK(rec.platform == "system");
  CHECK(rec.subject == "D-1");
  CHECK(rec.revision == 1);
  CHECK(rec.outcome == "ok");
  auto d = b.last_detail();
  CHECK(strings(d.at("reminded")) == std::vector<std::string>{"dave", "erin", "kim"});
  REQUIRE(d.at("stages").as_array().size() == 2);
  CHECK(d.at("stages").as_array()[1].at("stage").as_string() == "compliance");
  CHECK(strings(d.at("stages").as_array()[1].at("people")) == std::vector<std::string>{"erin", "kim"});
  CHECK(d.at("next_reminder").as_string() == format_rfc3339_ms(t0 + 8h));
  // One post in the class's channel, its mentions resolved at enqueue.
  auto posts = b.db.pending_posts(platform::slack, 10);
  REQUIRE(posts.size() == 3);  // two cards, one reminder
  CHECK(posts[2].kind == post_kind::notice);
  CHECK(posts[2].channel == "approvals");
  CHECK(posts[2].subject == "D-1");
  REQUIRE(posts[2].mentions.size() == 3);
  CHECK(posts[2].mentions[0].person == "dave");
  CHECK(b.ex.next_due() == t0 + 8h);  // every remind_after, from the last reminder

  // kim signs legal: the met stage is not reminded, and kim may not sign
  // compliance of this revision.
  expect(b.run("kim", "/approve D-1"), outcome::ok);
  CHECK(b.get(1).remind_at == t0 + 8h);  // an approval does not restart the clock
  CHECK_THAT(b.run("kim", "/draft show D-1").reply, Catch::Contains("Next reminder: " + format_rfc3339_ms(t0 + 8h)));
  b.now = t0 + 8h;
  REQUIRE(b.ex.run_due(b.now).fired.size() == 1);
  CHECK(strings(b.last_detail().at("reminded")) == std::vector<std::string>{"erin"});
  CHECK(b.count("SELECT count(*) FROM audit_log WHERE action = 'draft.remind'") == 2);

  // Decided: no more reminders, and no due time left.
  expect(b.run("erin", "/approve D-1"), outcome::ok);
  CHECK_FALSE(b.get(1).remind_at);
  CHECK_FALSE(b.ex.next_due());
  CHECK(b.ex.run_due(b.now + 48h).fired.empty());
  CHECK(b.count("SELECT count(*) FROM audit_log WHERE action = 'draft.remind'") == 2);
}

TEST_CASE("reminders: never the authors, a revision restarts the clock, decided drafts are not reminded",
          "[reminders][scheduler]") {
  bot b(reminder_toml());
  const auto t0 = b.now;
  // bob holds the board stage's approver role but wrote the draft.
  expect(b.run("bob", "/draft new --class board Board letter"), outcome::ok);
  b.now = t0 + 2h;
  REQUIRE(b.ex.run_due(b.now).fired.size() == 1);
  CHECK(strings(b.last_detail().at("reminded")) == std::vector<std::string>{"carol", "olga"});
  CHECK(b.last_detail().at("stages").as_array()[0].at("missing").as_int64() == 2);

  // An edit at t0+3h restarts it: due at t0+5h, not at t0+4h.
  b.now = t0 + 3h;
  expect(b.run("bob", "/draft edit D-1 Board letter, revised"), outcome::ok);
  CHECK(b.get(1).remind_at == t0 + 5h);
  b.now = t0 + 4h;
  CHECK(b.ex.run_due(b.now).fired.empty());
  b.now = t0 + 5h;
  REQUIRE(b.ex.run_due(b.now).fired.size() == 1);
  CHECK(b.last().revision == 2);
  CHECK(b.last_detail().at("stages").as_array()[0].at("stage").as_string() == "board");

  // Rejected: no reminder; a revision answering it reopens the clock;
  // withdrawn: none again.
  expect(b.run("carol", "/reject D-1 too long"), outcome::ok);
  CHECK_FALSE(b.get(1).remind_at);
  CHECK_FALSE(b.ex.next_due());
  b.now = t0 + 10h;
  CHECK(b.ex.run_due(b.now).fired.empty());
  expect(b.run("bob", "/draft edit D-1 Board letter, shorter"), outcome::ok);
  CHECK(b.get(1).remind_at == t0 + 12h);
  expect(b.run("bob", "/draft withdraw D-1"), outcome::ok);
  CHECK_FALSE(b.get(1).remind_at);
  CHECK_FALSE(b.ex.next_due());
  CHECK(b.ex.run_due(t0 + 48h).fired.empty());
  CHECK(b.count("SELECT count(*) FROM audit_log WHERE action = 'draft.remind'") == 2);
}

TEST_CASE("reminders pause while a crisis freezes the draft and fire once when it ends", "[reminders][scheduler][crisis]") {
  bot b(reminder_toml());
  const auto t0 = b.now;
  expect(b.run("alice", "/draft new --class regulated Results"), outcome::ok);  // due t0+4h
  expect(b.run("alice", "/draft new --class crisis We are on it"), outcome::ok);  // due t0+1h
  b.now = t0 + 30min;
  expect(b.run("frank", "/crisis start sev2 Outage"), outcome::ok);
  // The crisis class is not frozen: its reminder still comes.
  CHECK(b.ex.next_due() == t0 + 1h);
  b.now = t0 + 1h;
  auto t = b.ex.run_due(b.now);
  REQUIRE(t.fired.size() == 1);
  CHECK(b.last().subject == "D-2");
  CHECK(strings(b.last_detail().at("reminded")) == std::vector<std::string>{"frank", "grace"});
  expect(b.run("alice", "/draft withdraw D-2"), outcome::ok);
  // D-1 falls due at t0+4h, during the freeze: paused, with no due time (no
  // busy loop) and nothing sent.
  CHECK_FALSE(b.ex.next_due());
  b.now = t0 + 9h;
  CHECK(b.ex.run_due(b.now).fired.empty());
  CHECK(b.get(1).remind_at == t0 + 4h);
  // Ending the crisis wakes the scheduler; the paused reminder fires at once,
  // once, and the clock counts again from it.
  executor::riders none;
  executor::rider_results res;
  auto end = b.ex.execute_batch({b.make("frank", "/crisis end")}, b.now, none, res);
  expect(end.front(), outcome::ok);
  CHECK(res.due_changed);
  CHECK(b.ex.next_due() == t0 + 4h);  // overdue: at once
  t = b.ex.run_due(b.now);
  REQUIRE(t.fired.size() == 1);
  CHECK(b.last().subject == "D-1");
  CHECK(b.get(1).remind_at == t0 + 13h);
  CHECK(b.ex.run_due(b.now + 1h).fired.empty());
  CHECK(b.count("SELECT count(*) FROM audit_log WHERE action = 'draft.remind' AND subject = 'D-1'") == 1);
}

TEST_CASE("reminders: a new draft or revision with a reminder wakes the scheduler", "[reminders][scheduler]") {
  bot b(reminder_toml());
  executor::riders none;
  executor::rider_results res;
  b.ex.execute_batch({b.make("alice", "/draft new No reminders for standard")}, b.now, none, res);
  CHECK_FALSE(res.due_changed);
  b.ex.execute_batch({b.make("alice", "/draft new --class regulated Results")}, b.now, none, res);
  CHECK(res.due_changed);
  b.ex.execute_batch({b.make("alice", "/draft edit D-2 Results, revised")}, b.now, none, res);
  CHECK(res.due_changed);
}

TEST_CASE("reminders: a class gone from the config, or a reminder row that cannot be read, stops only that reminder",
          "[reminders][scheduler]") {
  bot b(reminder_toml());
  const auto t0 = b.now;
  expect(b.run("alice", "/draft new --class regulated One"), outcome::ok);
  expect(b.run("alice", "/draft new --class regulated Two"), outcome::ok);
  expect(b.run("alice", "/draft new --class regulated Three"), outcome::ok);
  b.db.raw().exec("UPDATE drafts SET remind_at = 'soon' WHERE id = 2; UPDATE drafts SET class = 'gone' WHERE id = 3");
  b.now = t0 + 4h;
  auto t = b.ex.run_due(b.now);
  REQUIRE(t.fired.size() == 2);  // D-1's reminder, D-3's stop
  CHECK_THAT(t.fired[1], Catch::Equals("D-3: reminders stopped: class gone is no longer in the config"));
  auto stop = b.last();
  CHECK(stop.action == "draft.remind");
  CHECK(stop.subject == "D-3");
  CHECK(stop.outcome == "error");
  CHECK(b.last_detail().at("error").as_string() == "class gone is no longer in the config");
  REQUIRE(t.skipped.size() == 1);
  CHECK_THAT(t.skipped[0], Catch::StartsWith("reminder 2 skipped"));
  CHECK_FALSE(b.get(3).remind_at);  // stopped: no busy loop
  CHECK(b.ex.next_due() == t0 + 8h);
  t = b.ex.run_due(b.now);
  CHECK(t.skipped.empty());  // reported once
  CHECK(t.fired.empty());
  CHECK(b.count("SELECT count(*) FROM audit_log WHERE action = 'draft.remind' AND outcome = 'ok'") == 1);
  CHECK(b.count("SELECT count(*) FROM outbox WHERE kind = 'notice'") == 1);  // the stop posts nothing
}

// --- signed checkpoints (SPEC "Signed checkpoints") ---------------------------

TEST_CASE("checkpoint: signs the whole log's tree, stores, posts and records it, and never checkpoints itself",
          "[checkpoint]") {
  bot b(std::string(team_toml) + "[audit]\nsigning_key_file = \"/run/k\"\norigin = \"log.example/audit\"\nchannel = \"approvals\"\n");
  std::array<unsigned char, 32> seed{};
  seed.fill(7);
  const auto key = note::signer::from_seed(seed, "log.example/audit");
  const auto vkey = note::verifier::parse(key.verifier_key(), nullptr);
  REQUIRE(vkey);
  expect(b.run("alice", "/draft new One"), outcome::ok);
  expect(b.run("alice", "/draft list"), outcome::ok);
  const auto size = b.count("SELECT max(seq) FROM audit_log");

  // The tree, computed here from the stored hashes as SPEC defines it.
  auto root_of = [&](std::int64_t n) {
    merkle::hasher h;
    merkle::compact_range range;
    auto s = b.db.raw().prepare("SELECT hash FROM audit_log WHERE seq <= ? ORDER BY seq");
    s.bind(1, n);
    while (s.step()) range.append(h.leaf(*merkle::from_hex(s.view(0))), h);
    return note::base64(range.root(h));
  };

  auto c = b.ex.checkpoint(key, 1, b.now);
  REQUIRE(c.made);
  CHECK(c.size == size);
  CHECK(c.root_hash == root_of(size));
  std::string why;
  auto body = note::open(c.note, *vkey, &why);
  INFO(why);
  REQUIRE(body);
  CHECK(*body == "log.example/audit\n" + std::to_string(size) + "\n" + c.root_hash + "\n");
  // Recorded once, after the records it covers, by system.
  auto rec = b.last();
  CHECK(rec.seq == size + 1);
  CHECK(rec.action == "audit.checkpoint");
  CHECK(rec.actor == "system");
  auto d = boost::json::parse(rec.detail).as_object();
  CHECK(d.at("size").as_int64() == size);
  CHECK(d.at("root_hash").as_string() == c.root_hash);
  CHECK(b.count("SELECT count(*) FROM checkpoints") == 1);
  // Posted to [audit] channel on the platform that has its ID.
  auto posts = b.db.pending_posts(platform::slack, 10);
  std::erase_if(posts, [](const outbox_post& p) { return p.kind != post_kind::checkpoint; });
  REQUIRE(posts.size() == 1);
  CHECK(posts[0].platform_channel == "C0APPROVALS");
  CHECK(posts[0].text.find(c.note) != std::string::npos);

  // Its own record and its post's delivery do not call for another.
  CHECK_FALSE(b.ex.checkpoint(key, 1, b.now).made);
  REQUIRE(b.ex.record_delivery(posts[0], true, "1700000000.000200", b.now));
  auto again = b.ex.checkpoint(key, 1, b.now);
  CHECK_FALSE(again.made);
  CHECK(again.pending == 0);

  // One new command: one record waiting; `min_new` 2 waits, 1 signs.
  expect(b.run("alice", "/crisis status"), outcome::ok);
  auto wait = b.ex.checkpoint(key, 2, b.now);
  CHECK_FALSE(wait.made);
  CHECK(wait.pending == 1);
  const auto size2 = b.count("SELECT max(seq) FROM audit_log");
  auto c2 = b.ex.checkpoint(key, 1, b.now);
  REQUIRE(c2.made);
  CHECK(c2.size == size2);
  CHECK(c2.root_hash == root_of(size2));
  CHECK(b.count("SELECT size FROM merkle_range") == size2);

  // The stored range is a cache: damaged, it is rebuilt from the records.
  b.db.raw().exec("UPDATE merkle_range SET hashes = 'zz'");
  expect(b.run("alice", "/crisis status"), outcome::ok);
  auto c3 = b.ex.checkpoint(key, 1, b.now);
  REQUIRE(c3.made);
  CHECK(c3.root_hash == root_of(c3.size));
  // A checkpoint records no platform failures: nothing but the one post.
  CHECK(b.count("SELECT count(*) FROM audit_log WHERE outcome <> 'ok'") == 0);
}

// --- the audit console's login (SPEC "Audit console") ---------------------------

namespace {
const std::string console_toml = std::string(team_toml) +
                                 "[console]\nlisten = \"127.0.0.1:9471\"\nbase_url = \"https://audit.example.com/console\"\n";

// The token in a console link reply.
std::string token_of(const std::string& reply) {
  const auto at = reply.find("login?token=");
  REQUIRE(at != std::string::npos);
  return reply.substr(at + 12);
}
}  // namespace

TEST_CASE("console: /audit console gives an auditor a single-use 5-minute link, stored only as a hash",
          "[console][auth]") {
  bot b(console_toml);
  int n = 0;
  b.ex.new_secret = [&] { return "secret-" + std::to_string(++n); };
  auto r = b.run("heidi", "/audit console");
  expect(r, outcome::ok);
  CHECK(b.last().action == "audit.console");
  CHECK(r.reply.find("https://audit.example.com/console/login?token=secret-1") != std::string::npos);
  CHECK(r.read_only);  // Mattermost sends it by DM: to the actor alone
  // The database never holds the token: not in the tokens table, not in the
  // record, not in the reply kept for a redelivery.
  CHECK(b.count("SELECT count(*) FROM console_tokens WHERE token_hash = '" + sha256_hex("secret-1") + "'") == 1);
  CHECK(b.count("SELECT count(*) FROM audit_log WHERE detail LIKE '%secret-1%'") == 0);
  CHECK(b.count("SELECT count(*) FROM seen_envelopes WHERE reply LIKE '%secret-1%'") == 0);
  // `/audit D-1` is still a query, `/signoff audit console` the same command.
  expect(b.run("heidi", "/audit D-1"), outcome::ok);
  CHECK(b.last().action == "audit.query");
  expect(b.run("heidi", "/signoff audit console"), outcome::ok);
  CHECK(b.last().action == "audit.console");
  // A non-auditor is never issued one.
  expect(b.run("alice", "/audit console"), outcome::denied);
  CHECK(b.count("SELECT count(*) FROM console_tokens WHERE person = 'alice'") == 0);

  SECTION("the link is exchanged once for a session") {
    auto ok = b.ex.console_login(token_of(r.reply), b.now + std::chrono::minutes(4));
    REQUIRE(ok.ok);
    CHECK(ok.person == "heidi");
    CHECK(!ok.session.empty());
    auto rec = b.last();
    CHECK(rec.action == "console.login");
    CHECK(rec.platform == "console");
    CHECK(rec.actor == "heidi");
    CHECK(rec.outcome == "ok");
    CHECK(b.db.console_session_person(sha256_hex(ok.session), b.now + std::chrono::hours(7)) == "heidi");
    CHECK_FALSE(b.db.console_session_person(sha256_hex(ok.session), b.now + std::chrono::hours(9)));  // 8 h
    CHECK(b.count("SELECT count(*) FROM console_sessions WHERE id_hash = '" + sha256_hex(ok.session) + "'") == 1);
    // A second use is refused and recorded by the token's person.
    auto again = b.ex.console_login(token_of(r.reply), b.now + std::chrono::minutes(4));
    CHECK_FALSE(again.ok);
    CHECK(again.session.empty());
    CHECK(b.last().outcome == "denied");
    CHECK(b.last().actor == "heidi");
    CHECK(b.last_detail().at("error").as_string() == "this login link was already used");
    // Logout ends the session.
    b.ex.console_logout(ok.session, b.now + std::chrono::minutes(5));
    CHECK_FALSE(b.db.console_session_person(sha256_hex(ok.session), b.now + std::chrono::minutes(6)));
  }
  SECTION("an expired link is refused") {
    auto late = b.ex.console_login(token_of(r.reply), b.now + std::chrono::minutes(5));
    CHECK_FALSE(late.ok);
    CHECK(b.last().outcome == "denied");
    CHECK(b.last_detail().at("error").as_string().find("expired") != std::string::npos);
  }
  SECTION("an unknown token is refused as unknown:console") {
    auto bad = b.ex.console_login("made-up", b.now);
    CHECK_FALSE(bad.ok);
    CHECK(b.last().actor == "unknown:console");
    CHECK(b.last().outcome == "denied");
  }
  SECTION("a person who lost the audit role at a reload loses the session, and unused links") {
    auto ok = b.ex.console_login(token_of(r.reply), b.now);
    REQUIRE(ok.ok);
    auto spare = b.run("heidi", "/audit console");  // issued before the reload
    auto text = signoff::test::replaced(console_toml, "audit   = [\"auditor\", \"admin\"]", "audit   = [\"admin\"]");
    auto res = b.ex.reload(conf::load_string(text), "test", b.now);
    REQUIRE(res.applied);
    CHECK(b.last_detail().at("console_sessions_revoked").as_int64() == 1);
    CHECK_FALSE(b.db.console_session_person(sha256_hex(ok.session), b.now));
    auto after = b.ex.console_login(token_of(spare.reply), b.now);
    CHECK_FALSE(after.ok);
    CHECK(b.last_detail().at("error").as_string() == "heidi no longer may use the audit console");
  }
}

TEST_CASE("console: without a console section the link is refused as invalid", "[console][auth]") {
  bot b;
  expect(b.run("heidi", "/audit console"), outcome::invalid);
  CHECK(b.last().action == "audit.console");
}
