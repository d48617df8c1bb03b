// /handover (SPEC "Shift handover") as a pure function of loaded values, the
// verb through the executor, and pages sent as direct messages (SPEC
// "Escalations": each person paged also gets a DM on every platform where
// they have an ID).
#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>

#include "bot/core/time.hpp"
#include "handlers/context.hpp"
#include "handlers/executor.hpp"
#include "handlers/handover.hpp"
#include "storage/sqlite_store.hpp"
#include "support/enum_output.hpp"

using namespace signoff;
using namespace signoff::handlers;
using namespace std::chrono_literals;

namespace {

// dave and bob have Slack IDs; erin has none.
constexpr const char* toml = R"(
[storage]
path = ":memory:"
[[people]]
id = "alice"
roles = ["drafter"]
[[people]]
id = "bob"
roles = ["approver"]
slack = "U0BOB"
[[people]]
id = "carol"
roles = ["approver"]
[[people]]
id = "dave"
roles = ["legal"]
slack = "U0DAVE"
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
id = "heidi"
roles = ["auditor"]
[roles]
draft   = ["drafter", "approver"]
approve = ["approver", "legal", "compliance", "crisis-lead"]
crisis  = ["crisis-lead"]
audit   = ["auditor"]
[approval.standard]
stages = [{ name = "comms", roles = ["approver"], count = 1 }]
[approval.regulated]
stages = [{ name = "legal", roles = ["legal"], count = 1 },
          { name = "compliance", roles = ["compliance"], count = 1 }]
[approval.crisis]
stages = [{ name = "lead", roles = ["crisis-lead"], count = 1 }]
[escalation.legal]
channel = "escalations"
levels = [{ notify = ["dave", "erin"], after = "15m" },
          { notify = ["bob"] }]
[channels]
approvals = { slack = "C0APPROVALS" }
escalations = { slack = "C0ESC" }
[limits]
commands_per_person = "off"
)";

conf::config load() {
  auto r = conf::load_string(toml);
  for (const auto& d : r.diagnostics) INFO(conf::format(d));
  REQUIRE(r.ok());
  return *r.cfg;
}

const time_point t0 = *parse_rfc3339("2026-11-22T12:00:00Z");

draft make_draft(std::int64_t id, std::string cls, draft_status st, std::string author, time_point since,
                 std::string text = "Our Q4 results") {
  draft d;
  d.id = id;
  d.cls = std::move(cls);
  d.status = st;
  d.rev = 1;
  d.text = std::move(text);
  d.authors = {author};
  d.created_by = author;
  d.created_at = d.status_at = since;
  return d;
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    auto nl = s.find('\n', start);
    out.push_back(s.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

void expect(const execution& e, outcome want) {
  INFO(e.reply);
  REQUIRE(e.recorded);
  CHECK(e.outcome == want);
}

struct bot {
  conf::config cfg = load();
  sqlite_store db{":memory:"};
  executor ex;
  time_point now = t0;
  int n = 0;
  explicit bot(std::vector<platform> on = {platform::shell, platform::slack}) : ex(cfg, db, std::move(on)) {}
  execution run(const std::string& who, const std::string& line) {
    incoming in;
    in.who.platform = platform::shell;
    in.who.platform_user = who;
    in.line = line;
    return ex.execute(in, now);
  }
  audit::record last() {
    audit::filter f;
    f.limit = 1;
    auto v = db.query_audit(f);
    REQUIRE(v.size() == 1);
    return v.front();
  }
};

}  // namespace

TEST_CASE("handover: the empty state is one line per section", "[handover]") {
  auto cfg = load();
  auto s = build_handover(cfg, *cfg.find_person("bob"), {}, t0);
  CHECK(s.text ==
        "Handover for bob at 2026-11-22T12:00:00.000Z\n"
        "Crisis: none active.\n"
        "Pending drafts (0): none.\n"
        "Embargoes in the next 12h (0): none.\n"
        "Open escalations (0): none.\n"
        "Failed posts, last 24h (0): none.");
  CHECK(s.detail.at("hours").as_int64() == 12);
  CHECK(s.detail.at("pending").as_int64() == 0);
  CHECK_FALSE(s.detail.contains("crisis"));
}

TEST_CASE("handover: pending drafts are filtered as /draft list filters, with who can sign", "[handover]") {
  auto cfg = load();
  handover_input in;
  // D-1 standard by alice, waiting 3h; D-2 regulated by alice, waiting 1h,
  // dave signed legal; D-3 regulated by kim (an author never signs).
  in.pending.push_back(make_draft(3, "regulated", draft_status::pending, "kim", t0 - 30min, "Rates\nsecond line"));
  auto d2 = make_draft(2, "regulated", draft_status::pending, "alice", t0 - 1h, "Savings rate 4.1%");
  d2.approvals.push_back({1, "legal", "dave", "", t0 - 10min});
  in.pending.push_back(d2);
  in.pending.push_back(make_draft(1, "standard", draft_status::pending, "alice", t0 - 3h));

  // bob (approver) sees only the standard draft: regulated stages are not his.
  auto bob = build_handover(cfg, *cfg.find_person("bob"), in, t0);
  CHECK_THAT(bob.text, Catch::Contains("Pending drafts (1):\n"
                                       "  D-1 r1 standard, waiting 3h 00m: Our Q4 results | needs comms 0/1 (bob, carol)\n"));
  CHECK(bob.detail.at("pending").as_int64() == 1);

  // heidi (audit) sees all three, the longest waiting first; kim cannot sign
  // her own D-3, and on D-2 dave has signed, so only kim can sign compliance.
  auto heidi = build_handover(cfg, *cfg.find_person("heidi"), in, t0);
  CHECK_THAT(heidi.text,
             Catch::Contains("Pending drafts (3):\n"
                             "  D-1 r1 standard, waiting 3h 00m: Our Q4 results | needs comms 0/1 (bob, carol)\n"
                             "  D-2 r1 regulated, waiting 1h 00m: Savings rate 4.1% | needs compliance 0/1 (erin, kim)\n"
                             "  D-3 r1 regulated, waiting 30m 00s: Rates | needs legal 0/1 (dave); compliance 0/1 (erin)\n"));

  // alice sees her own drafts only.
  auto alice = build_handover(cfg, *cfg.find_person("alice"), in, t0);
  CHECK(alice.detail.at("pending").as_int64() == 2);
  CHECK_THAT(alice.text, !Catch::Contains("D-3"));
  // frank holds no role of these classes: nothing.
  CHECK_THAT(build_handover(cfg, *cfg.find_person("frank"), in, t0).text,
             Catch::Contains("Pending drafts (0): none."));
}

TEST_CASE("handover: signers exclude whoever signed this revision already", "[handover]") {
  auto cfg = load();
  handover_input in;
  auto d = make_draft(5, "regulated", draft_status::pending, "alice", t0);
  d.approvals.push_back({1, "compliance", "kim", "", t0});
  in.pending.push_back(d);
  auto s = build_handover(cfg, *cfg.find_person("heidi"), in, t0);
  // kim signed compliance, so only dave can sign legal.
  CHECK_THAT(s.text, Catch::Contains("  D-5 r1 regulated, waiting 0s: Our Q4 results | needs legal 0/1 (dave)\n"));
}

TEST_CASE("handover: embargoes within --hours, soonest first, visibility applies", "[handover]") {
  auto cfg = load();
  handover_input in;
  auto soon = make_draft(1, "standard", draft_status::approved, "alice", t0 - 1h, "Soon");
  soon.embargo = t0 + 2h;
  auto later = make_draft(2, "standard", draft_status::approved, "alice", t0 - 1h, "Later");
  later.embargo = t0 + 20h;
  auto cleared = make_draft(3, "standard", draft_status::approved, "alice", t0 - 1h, "Cleared");
  cleared.embargo = t0 - 1h;
  cleared.cleared_at = t0 - 1h;
  auto held = make_draft(4, "standard", draft_status::approved, "alice", t0 - 1h, "Held");
  held.embargo = t0 - 5min;
  held.targets = {"linkedin"};
  auto none = make_draft(5, "standard", draft_status::approved, "alice", t0 - 1h, "No embargo");
  auto regulated = make_draft(6, "regulated", draft_status::approved, "alice", t0 - 1h, "Regulated");
  regulated.embargo = t0 + 1h;
  in.approved = {later, soon, cleared, held, none, regulated};
  in.active = crisis{7, "sev1", "Breach", "", "frank", t0 - 2h, std::nullopt, "", ""};

  auto bob = build_handover(cfg, *cfg.find_person("bob"), in, t0);
  CHECK_THAT(bob.text,
             Catch::Contains("Embargoes in the next 12h (2):\n"
                             "  D-4 r1 standard: embargo 2026-11-22T11:55:00.000Z (passed; held by the freeze of C-7) "
                             "to linkedin: Held\n"
                             "  D-1 r1 standard: embargo 2026-11-22T14:00:00.000Z (in 2h 00m): Soon\n"));
  CHECK_THAT(bob.text, Catch::Contains("Crisis: C-7 [sev1] Breach, active for 2h 00m (started by frank); content is frozen.\n"));
  CHECK(bob.detail.at("crisis").as_string() == "C-7");

  handover_options day;
  day.window = 24h;
  auto wide = build_handover(cfg, *cfg.find_person("bob"), in, t0, day);
  CHECK_THAT(wide.text, Catch::Contains("Embargoes in the next 24h (3):"));
  CHECK_THAT(wide.text, Catch::Contains("  D-2 r1 standard: embargo 2026-11-23T08:00:00.000Z (in 20h 00m): Later"));
  CHECK(wide.detail.at("hours").as_int64() == 24);
  // dave sees the regulated one (a stage role), not the standard ones.
  auto dave = build_handover(cfg, *cfg.find_person("dave"), in, t0);
  CHECK_THAT(dave.text, Catch::Contains("Embargoes in the next 12h (1):\n"
                                        "  D-6 r1 regulated: embargo 2026-11-22T13:00:00.000Z (in 1h 00m): Regulated\n"));
}

TEST_CASE("handover: escalations, failed posts, and a cap per section", "[handover]") {
  auto cfg = load();
  handover_input in;
  escalation e;
  e.id = 1;
  e.route = "legal";
  e.sev = "sev2";
  e.summary = "Regulator asked";
  e.opened_by = "alice";
  e.opened_at = t0 - 5min;
  e.level = 1;
  e.level_paged_at = t0 - 5min;
  e.due_at = t0 + 10min;
  e.notified = {"dave", "erin"};
  in.open.push_back(e);
  audit::record r;
  r.seq = 9;
  r.ts = "2026-11-22T11:03:07.123Z";
  r.platform = "slack";
  r.action = "post.failed";
  r.subject = "D-3";
  r.detail = R"({"outbox":4,"kind":"card","channel_name":"approvals","error":"channel_not_found","attempts":1})";
  in.failed_posts.push_back(r);
  r.subject = "E-1";
  r.detail = R"({"outbox":5,"kind":"dm","channel_name":"@dave","person":"dave","error":"user_not_found"})";
  in.failed_posts.push_back(r);
  for (int i = 0; i < 12; ++i) in.pending.push_back(make_draft(10 + i, "standard", draft_status::pending, "alice", t0 - 1h));

  handover_options opt;
  opt.per_section = 3;
  auto s = build_handover(cfg, *cfg.find_person("bob"), in, t0, opt);
  CHECK_THAT(s.text, Catch::Contains("Open escalations (1):\n"
                                     "  E-1 [sev2] legal: Regulator asked | level 1/2, age 5m 00s, paged dave, erin, "
                                     "next level in 10m 00s\n"));
  CHECK_THAT(s.text, Catch::EndsWith("Failed posts, last 24h (2):\n"
                                     "  2026-11-22T11:03Z slack #approvals card D-3: channel_not_found\n"
                                     "  2026-11-22T11:03Z slack @dave dm E-1: user_not_found"));
  CHECK_THAT(s.text, Catch::Contains("Pending drafts (12):\n"));
  CHECK_THAT(s.text, Catch::Contains("  … and 9 more\n"));
  CHECK(s.detail.at("pending").as_int64() == 12);
  CHECK(s.detail.at("failed_posts").as_int64() == 2);
  // One screen: 6 header lines, 3 + 1 drafts, 1 escalation, 2 failed posts.
  CHECK(lines_of(s.text).size() == 13);
}

TEST_CASE("handover: the verb through the executor, --hours validated and audited", "[handover][executor]") {
  bot b;
  expect(b.run("alice", "/draft new --embargo 2026-11-22T20:00:00Z Embargoed news"), outcome::ok);
  expect(b.run("bob", "/approve D-1"), outcome::ok);
  expect(b.run("alice", "/draft new Pending one"), outcome::ok);

  auto r = b.run("bob", "/handover");
  expect(r, outcome::ok);
  CHECK(r.action == "handover");
  CHECK_THAT(r.reply, Catch::Contains("Pending drafts (1):\n  D-2 r1 standard, waiting 0s: Pending one | needs comms 0/1 (bob, carol)"));
  CHECK_THAT(r.reply, Catch::Contains("Embargoes in the next 12h (1):\n  D-1 r1 standard: embargo 2026-11-22T20:00:00.000Z (in 8h 00m)"));
  auto rec = b.last();
  CHECK(rec.action == "handover");
  CHECK(rec.actor == "bob");
  CHECK(rec.outcome == "ok");
  auto d = boost::json::parse(rec.detail).as_object();
  CHECK(d.at("hours").as_int64() == 12);
  CHECK(d.at("pending").as_int64() == 1);
  CHECK(d.at("embargoes").as_int64() == 1);

  auto narrow = b.run("bob", "/handover --hours 2");
  expect(narrow, outcome::ok);
  CHECK_THAT(narrow.reply, Catch::Contains("Embargoes in the next 2h (0): none."));

  for (const char* bad : {"/handover --hours 0", "/handover --hours -3", "/handover --hours 169",
                          "/handover --hours 1.5", "/handover --hours lots", "/handover --hours",
                          "/handover soon"}) {
    auto x = b.run("bob", bad);
    INFO(bad);
    expect(x, outcome::invalid);
    CHECK(x.action == "handover");
    CHECK(b.last().action == "handover");
    CHECK(b.last().outcome == "invalid");
    CHECK_THAT(x.reply, Catch::Contains("/handover [--hours N]"));
  }
  CHECK_THAT(b.run("bob", "/handover --hours 169").reply,
             Catch::Contains("--hours '169' is not a whole number of hours from 1 to 168"));

  // Anyone in the config; a stranger may only ask for help.
  auto stranger = b.run("mallory", "/handover");
  expect(stranger, outcome::denied);
  CHECK(b.last().actor == "unknown:mallory");
  CHECK(b.last().action == "handover");
}

TEST_CASE("pages: each person paged gets a DM on every platform where they have an ID", "[escalations][dm]") {
  bot b;  // shell and slack deliver
  expect(b.run("alice", "/escalate legal Regulator asked"), outcome::ok);
  auto slack = b.db.pending_posts(platform::slack, 20);
  auto shell = b.db.pending_posts(platform::shell, 20);
  std::vector<std::pair<std::string, std::string>> slack_dms, shell_dms;
  for (const auto& p : slack)
    if (p.kind == post_kind::dm) slack_dms.emplace_back(p.channel, p.platform_channel);
  for (const auto& p : shell)
    if (p.kind == post_kind::dm) shell_dms.emplace_back(p.channel, p.platform_channel);
  // erin has no Slack ID: no Slack DM for her; the terminal shows both.
  CHECK(slack_dms == std::vector<std::pair<std::string, std::string>>{{"@dave", "U0DAVE"}});
  CHECK(shell_dms == std::vector<std::pair<std::string, std::string>>{{"@dave", "dave"}, {"@erin", "erin"}});
  for (const auto& p : slack)
    if (p.kind == post_kind::dm) {
      CHECK(p.subject == "E-1");
      CHECK(p.requested_by == "alice");
      CHECK_THAT(p.text, Catch::StartsWith("You are paged on E-1 [sev3] legal: Regulator asked\nLevel 1 of 2"));
      CHECK_THAT(p.text, Catch::EndsWith("\n/ack E-1"));
    }
  auto d = boost::json::parse(b.last().detail).as_object();
  CHECK(d.at("outbox").as_array().size() == 5);  // page on both platforms, 2 shell DMs, 1 Slack DM

  // Level 2 by the timer: bob has a Slack ID.
  b.now = t0 + 16min;
  auto tick = b.ex.run_due(b.now);
  REQUIRE(tick.fired.size() == 1);
  std::vector<std::string> level2;
  for (const auto& p : b.db.pending_posts(platform::slack, 20))
    if (p.kind == post_kind::dm) level2.push_back(p.platform_channel);
  CHECK(level2 == std::vector<std::string>{"U0DAVE", "U0BOB"});

  // Delivered: post.sent names the person.
  for (const auto& p : b.db.pending_posts(platform::slack, 20))
    if (p.kind == post_kind::dm && p.platform_channel == "U0BOB") {
      REQUIRE(b.ex.record_delivery(p, true, "1700000000.000100", b.now));
      auto sent = boost::json::parse(b.last().detail).as_object();
      CHECK(b.last().action == "post.sent");
      CHECK(sent.at("person").as_string() == "bob");
      CHECK(sent.at("channel_name").as_string() == "@bob");
      CHECK(sent.at("kind").as_string() == "dm");
    }
}

TEST_CASE("pages: a DM nobody can receive is named in the record, not warned about", "[escalations][dm]") {
  bot b({platform::slack});  // erin has no Slack ID
  auto r = b.run("alice", "/escalate legal Regulator asked");
  expect(r, outcome::ok);
  CHECK_THAT(r.reply, !Catch::Contains("Warning"));
  auto d = boost::json::parse(b.last().detail).as_object();
  CHECK(d.at("dm_unrouted") == boost::json::array{"@erin"});
  CHECK(d.at("outbox").as_array().size() == 2);  // the channel page and dave's DM
}
