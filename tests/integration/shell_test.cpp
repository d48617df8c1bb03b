// Integration tests of `signoff shell` and the audit CLI: they run the built
// binary (SIGNOFF_BINARY) on a config of their own in a temporary directory,
// feed commands through a pipe and check replies, exit codes and the rows
// any SQLite client sees (SPEC "Commands", "Audit store", "Command-line
// interface").
#include <fcntl.h>
#include <pty.h>
#include <sqlite3.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "support/fixture.hpp"
#include "support/process.hpp"
#include "support/sqlite_db.hpp"

namespace {

using namespace signoff::test;
using sys_clock = std::chrono::system_clock;
using steady = std::chrono::steady_clock;

installation make(const config_options& o = {}) { return installation(SIGNOFF_BINARY, o); }

std::int64_t count(sqlite_db& db, const std::string& sql) { return db.integer(sql); }

// The actions of the command records, in order.
std::vector<std::string> actions(const std::vector<audit_row>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.action);
  return out;
}

std::vector<std::string> outcomes(const std::vector<audit_row>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.outcome);
  return out;
}

// Milliseconds from now until the RFC 3339 time `ts` (negative when past),
// computed by SQLite so the test needs no date parser of its own.
std::int64_t ms_until(sqlite_db& db, const std::string& ts) {
  return static_cast<std::int64_t>(std::stod(
      db.text("SELECT (julianday(?) - julianday('now')) * 86400000.0", {ts}).value_or("0")));
}


}  // namespace

// --- 1. the whole journey ---------------------------------------------------

TEST_CASE("shell: a piped journey records one audit record per command and a verifiable chain",
          "[integration][shell]") {
  auto inst = make();
  const std::vector<std::string> script = {
      "/draft new --to linkedin,x Launch day: our new app is live",
      "@bob /approve D-1 looks good",
      "@frank /hold issue data-breach system=\"the customer portal\" next_update=14:00",
      "@alice /escalate slow --sev sev2 Journalist asks about the portal",
      "@bob /ack E-1",
      "@heidi /audit D-1",
  };
  std::string input;
  for (const auto& l : script) input += l + "\n";
  auto r = inst.shell(input);
  INFO(transcript(r));
  REQUIRE(r.status == 0);
  CHECK(r.err.empty());
  CHECK_FALSE(contains(r.out, "signoff>"));  // no prompt on a pipe
  CHECK(contains(r.out, "D-1 created (revision 1, class standard)"));
  CHECK(contains(r.out, "D-1 revision 1 approved"));
  const std::string statement =
      "We are aware of an incident affecting the customer portal. Next update by 14:00.";
  CHECK(contains(r.out, "[#statements] " + statement));
  CHECK(contains(r.out, "E-1 opened on route slow [sev2]"));
  CHECK(contains(r.out, "E-1 acknowledged"));
  CHECK(contains(r.out, "Audit records, newest first:"));
  CHECK(contains(r.out, "bob draft.approve D-1 r1 ok (note: looks good)"));

  auto db = inst.db();
  // State tables.
  auto draft = db.rows("SELECT status, current_rev, targets, created_by FROM drafts WHERE id = 1");
  REQUIRE(draft.size() == 1);
  CHECK(draft[0][0] == "approved");
  CHECK(draft[0][1] == "1");
  CHECK(draft[0][2] == "linkedin,x");
  CHECK(draft[0][3] == "alice");
  auto appr = db.rows("SELECT rev, stage, person, note FROM approvals WHERE draft_id = 1");
  REQUIRE(appr.size() == 1);
  CHECK(appr[0] == sqlite_db::row{"1", "comms", "bob", "looks good"});
  auto crises = db.rows("SELECT id, sev, statement, started_by, ended_at FROM crises");
  REQUIRE(crises.size() == 1);
  CHECK(crises[0] == sqlite_db::row{"1", "sev1", "data-breach", "frank", std::nullopt});
  auto esc = db.rows("SELECT status, acked_by, sev, level FROM escalations WHERE id = 1");
  REQUIRE(esc.size() == 1);
  CHECK(esc[0] == sqlite_db::row{"acked", "bob", "sev2", "1"});

  // Exactly one record per command, in order, each carrying its raw line.
  auto cmds = command_rows(db);
  REQUIRE(cmds.size() == script.size());
  CHECK(actions(cmds) == std::vector<std::string>{"draft.new", "draft.approve", "hold.issue",
                                                  "escalation.open", "escalation.ack", "audit.query"});
  CHECK(outcomes(cmds) == std::vector<std::string>(script.size(), "ok"));
  const std::vector<std::string> actors{"alice", "bob", "frank", "alice", "bob", "heidi"};
  for (std::size_t i = 0; i < cmds.size(); ++i) {
    INFO("command " << i << ": " << script[i]);
    CHECK(cmds[i].actor == actors[i]);
    CHECK(cmds[i].platform == "shell");
    std::string raw = script[i].front() == '@' ? script[i].substr(script[i].find(' ') + 1) : script[i];
    CHECK(detail_of(db, cmds[i].seq, "raw") == raw);
  }
  for (const auto& row : db.rows("SELECT action, count(*) FROM audit_log WHERE actor != 'system' "
                                 "GROUP BY action")) {
    INFO("action " << *row[0]);
    CHECK(row[1] == "1");
  }
  CHECK(cmds[0].subject == "D-1");
  CHECK(cmds[0].revision == 1);
  CHECK(cmds[1].revision == 1);

  // The holding statement's record: key, version, SHA-256 of the posted text, crisis.
  const auto& hold = cmds[2];
  CHECK(hold.subject == "data-breach");
  CHECK(detail_of(db, hold.seq, "statement_version") == "3");
  CHECK(detail_of(db, hold.seq, "text_sha256") == sha256_hex(statement));
  CHECK(detail_of(db, hold.seq, "crisis") == "C-1");
  CHECK(db.text("SELECT text FROM outbox WHERE kind = 'statement'") == statement);

  // The auditor's query saw the four D-1 records before it (draft.new,
  // post.sent, draft.approve, post.sent).
  CHECK(detail_of(db, cmds[5].seq, "count") ==
        std::to_string(count(db, "SELECT count(*) FROM audit_log WHERE subject = 'D-1' AND seq < " +
                                     std::to_string(cmds[5].seq))));
  CHECK(cmds[5].subject == "D-1");

  // System records: one config.load, one post.sent per outbox post, all
  // delivered (2 cards, the statement, the page and bob's DM, the ack notice).
  CHECK(count(db, "SELECT count(*) FROM audit_log WHERE action = 'config.load'") == 1);
  CHECK(count(db, "SELECT count(*) FROM outbox") == 6);
  CHECK(count(db, "SELECT count(*) FROM outbox WHERE status = 'sent'") == 6);
  CHECK(count(db, "SELECT count(*) FROM audit_log WHERE action = 'post.sent'") == 6);
  CHECK(db.text("SELECT json_extract(detail, '$.config_sha256') FROM audit_log WHERE seq = 1") ==
        sha256_hex(test_config(inst.db_path())));

  // The chain: seq without gaps, ts in the SPEC format and never decreasing,
  // hashes recomputable from the SPEC definition.
  const std::regex ts_format(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
  auto all = audit_rows(db);
  REQUIRE(all.size() == static_cast<std::size_t>(count(db, "SELECT max(seq) FROM audit_log")));
  for (std::size_t i = 0; i < all.size(); ++i) {
    CHECK(all[i].seq == static_cast<std::int64_t>(i + 1));
    CHECK(std::regex_match(all[i].ts, ts_format));
    if (i > 0) CHECK(all[i - 1].ts <= all[i].ts);
  }
  CHECK(first_bad_seq(db) == 0);
  auto ok = inst.audit("verify");
  CHECK(ok.status == 0);
  CHECK(contains(ok.out, "OK"));

  // The table refuses UPDATE and DELETE...
  std::string why;
  CHECK(db.try_exec("UPDATE audit_log SET detail = '{}' WHERE seq = 2", &why) != SQLITE_OK);
  CHECK(contains(why, "append-only"));
  CHECK(db.try_exec("DELETE FROM audit_log WHERE seq = 2") != SQLITE_OK);
  // ...and verify names the first altered record once the trigger is gone.
  const std::int64_t altered = cmds[1].seq;
  db.exec("DROP TRIGGER audit_log_no_update");
  db.exec("UPDATE audit_log SET detail = replace(detail, 'looks good', 'looks bad') WHERE seq = " +
          std::to_string(altered));
  CHECK(first_bad_seq(db) == altered);
  auto bad = inst.audit("verify");
  INFO(transcript(bad));
  CHECK(bad.status != 0);
  CHECK(contains(bad.out + bad.err, "seq " + std::to_string(altered)));
}

TEST_CASE("shell: /hold show previews without posting, values are never re-expanded",
          "[integration][shell]") {
  auto inst = make();
  auto r = inst.shell(
      "/hold show data-breach system=portal\n"
      "@frank /hold issue data-breach system={next_update} next_update=\"14:00 UTC\"\n"
      "@frank /hold issue data-breach system=app next_update=15:00 colour=red\n");
  INFO(transcript(r));
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "Preview (nothing posted)"));
  CHECK(contains(r.out, "colour"));
  const std::string text = "We are aware of an incident affecting {next_update}. Next update by 14:00 UTC.";
  CHECK(count_of(r.out, "[#statements] ") == 1);
  CHECK(contains(r.out, "[#statements] " + text));
  auto db = inst.db();
  auto cmds = command_rows(db);
  REQUIRE(cmds.size() == 3);
  CHECK(outcomes(cmds) == std::vector<std::string>{"ok", "ok", "invalid"});
  CHECK(cmds[0].action == "hold.show");
  CHECK(detail_of(db, cmds[1].seq, "text_sha256") == sha256_hex(text));
  CHECK(db.rows("SELECT kind, text FROM outbox") == std::vector<sqlite_db::row>{{"statement", text}});
  CHECK(count(db, "SELECT count(*) FROM crises") == 1);
}

// --- 2. refusals --------------------------------------------------------------

TEST_CASE("shell: refusals are recorded with the outcome SPEC's order gives", "[integration][shell]") {
  auto inst = make();

  SECTION("an unknown verb is command.invalid and the session goes on") {
    auto r = inst.shell("/frobnicate now\n/draft new Still here\n");
    REQUIRE(r.status == 0);
    CHECK(contains(r.out, "frobnicate"));
    CHECK(contains(r.out, "D-1 created"));
    auto db = inst.db();
    auto cmds = command_rows(db);
    REQUIRE(cmds.size() == 2);
    CHECK(cmds[0].action == "command.invalid");
    CHECK(cmds[0].outcome == "invalid");
    CHECK(contains(detail_of(db, cmds[0].seq, "error").value_or(""), "frobnicate"));
    CHECK(cmds[1].action == "draft.new");
    CHECK(cmds[1].outcome == "ok");
  }

  SECTION("an unknown @name is an unknown actor, denied before the subject is looked up") {
    auto r = inst.shell("/draft new Post\n@mallory /approve D-1\n@mallory /approve D-9\n@bob /approve D-9\n"
                        "@mallory /help\n");
    REQUIRE(r.status == 0);
    CHECK(contains(r.out, "Denied"));
    auto db = inst.db();
    auto cmds = command_rows(db);
    REQUIRE(cmds.size() == 5);
    CHECK(cmds[1].actor == "unknown:mallory");
    CHECK(cmds[1].action == "draft.approve");
    CHECK(cmds[1].outcome == "denied");
    CHECK(detail_of(db, cmds[1].seq, "platform_user") == "mallory");
    CHECK(cmds[2].outcome == "denied");  // step 2 (unknown actor) before step 3 (no D-9)
    CHECK(cmds[3].outcome == "invalid");  // a known approver: D-9 does not exist
    CHECK(cmds[4].action == "help");      // an unknown user may ask for help
    CHECK(cmds[4].outcome == "ok");
    CHECK(db.text("SELECT status FROM drafts WHERE id = 1") == "pending");
    CHECK(count(db, "SELECT count(*) FROM approvals") == 0);
  }

  SECTION("an author never approves their own draft") {
    auto r = inst.shell("@bob /draft new Bob's own post\n@bob /approve D-1\n@carol /approve D-1\n");
    REQUIRE(r.status == 0);
    auto db = inst.db();
    auto cmds = command_rows(db);
    REQUIRE(cmds.size() == 3);
    CHECK(cmds[1].outcome == "denied");
    CHECK(cmds[1].subject == "D-1");
    CHECK(cmds[2].outcome == "ok");
    CHECK(db.rows("SELECT person FROM approvals") == std::vector<sqlite_db::row>{{"carol"}});
  }

  SECTION("one person never satisfies two stages of a regulated draft") {
    auto r = inst.shell(
        "/draft new --class regulated Quarterly results are up\n"
        "@lena /approve D-1\n"   // legal and compliance: counts toward legal (first in config order)
        "@lena /approve D-1\n"   // second stage by the same person
        "@dave /approve D-1\n"   // legal only, and legal is met
        "@erin /approve D-1\n");  // compliance: the last stage
    REQUIRE(r.status == 0);
    auto db = inst.db();
    auto cmds = command_rows(db);
    REQUIRE(cmds.size() == 5);
    CHECK(outcomes(cmds) == std::vector<std::string>{"ok", "ok", "denied", "denied", "ok"});
    CHECK(detail_of(db, cmds[1].seq, "stage") == "legal");
    CHECK(db.rows("SELECT stage, person FROM approvals ORDER BY created_at") ==
          std::vector<sqlite_db::row>{{"legal", "lena"}, {"compliance", "erin"}});
    CHECK(db.text("SELECT status FROM drafts WHERE id = 1") == "approved");
  }

  SECTION("an edit voids approvals and /approve D-n@R refuses a stale revision") {
    auto r = inst.shell(
        "/draft new First text\n"
        "@bob /approve D-1\n"
        "/draft edit D-1 Second text\n"
        "@bob /approve D-1@1\n"
        "@bob /approve D-1@2 now fine\n");
    REQUIRE(r.status == 0);
    CHECK(contains(r.out, "revision 2"));
    auto db = inst.db();
    auto cmds = command_rows(db);
    REQUIRE(cmds.size() == 5);
    CHECK(outcomes(cmds) == std::vector<std::string>{"ok", "ok", "ok", "invalid", "ok"});
    CHECK(cmds[2].revision == 2);
    CHECK(cmds[4].revision == 2);
    CHECK(db.rows("SELECT rev, person FROM approvals ORDER BY rev") ==
          std::vector<sqlite_db::row>{{"1", "bob"}, {"2", "bob"}});
    CHECK(db.rows("SELECT status, current_rev FROM drafts") == std::vector<sqlite_db::row>{{"approved", "2"}});
  }

  SECTION("a rejection needs a reason; the reply shows the usage") {
    auto r = inst.shell("/draft new Post\n@bob /reject D-1\n@bob /reject D-1 Off brand\n");
    REQUIRE(r.status == 0);
    CHECK(contains(r.out, "Usage: /reject D-n"));
    auto db = inst.db();
    auto cmds = command_rows(db);
    REQUIRE(cmds.size() == 3);
    CHECK(cmds[1].action == "draft.reject");
    CHECK(cmds[1].outcome == "invalid");
    CHECK(cmds[2].outcome == "ok");
    CHECK(detail_of(db, cmds[2].seq, "reason") == "Off brand");
    CHECK(db.rows("SELECT status, status_note FROM drafts") == std::vector<sqlite_db::row>{{"rejected", "Off brand"}});
  }

  SECTION("an active crisis freezes approvals except of crisis-class drafts") {
    auto r = inst.shell(
        "/draft new Regular post\n"
        "/draft new --class crisis We are on it\n"
        "@frank /crisis start sev2 Outage\n"
        "@bob /approve D-1\n"
        "@frank /approve D-2\n");
    REQUIRE(r.status == 0);
    CHECK(contains(r.out, "frozen"));
    auto db = inst.db();
    auto cmds = command_rows(db);
    REQUIRE(cmds.size() == 5);
    CHECK(outcomes(cmds) == std::vector<std::string>{"ok", "ok", "ok", "invalid", "ok"});
    CHECK(detail_of(db, cmds[3].seq, "crisis") == "C-1");
    CHECK(db.rows("SELECT id, status FROM drafts ORDER BY id") ==
          std::vector<sqlite_db::row>{{"1", "pending"}, {"2", "approved"}});
  }

  SECTION("a holding statement with a missing placeholder is refused and nothing is posted") {
    auto r = inst.shell("@frank /hold issue data-breach system=portal\n");
    REQUIRE(r.status == 0);
    CHECK(contains(r.out, "next_update"));
    CHECK_FALSE(contains(r.out, "We are aware"));
    auto db = inst.db();
    auto cmds = command_rows(db);
    REQUIRE(cmds.size() == 1);
    CHECK(cmds[0].action == "hold.issue");
    CHECK(cmds[0].outcome == "invalid");
    CHECK(contains(detail_of(db, cmds[0].seq, "error").value_or(""), "next_update"));
    CHECK(count(db, "SELECT count(*) FROM outbox") == 0);
    CHECK(count(db, "SELECT count(*) FROM crises") == 0);
  }

  SECTION("a line that is not UTF-8 is command.invalid with raw_hex") {
    auto r = inst.shell("\xff\xfe oops\n/crisis status\n");
    REQUIRE(r.status == 0);
    auto db = inst.db();
    auto cmds = command_rows(db);
    REQUIRE(cmds.size() == 2);
    CHECK(cmds[0].action == "command.invalid");
    CHECK(cmds[0].outcome == "invalid");
    CHECK(detail_of(db, cmds[0].seq, "raw_hex") == "fffe206f6f7073");
    CHECK_FALSE(detail_of(db, cmds[0].seq, "raw").has_value());
    CHECK(cmds[1].outcome == "ok");
  }

  SECTION("text over [limits] max_text (code points) is invalid") {
    const std::string fifty_one(51, 'x');
    std::string fifty_accented;
    for (int i = 0; i < 50; ++i) fifty_accented += "\xc3\xa9";  // é: 50 code points, 100 bytes
    auto r = inst.shell("/draft new " + fifty_one + "\n/draft new " + fifty_accented + "\n");
    REQUIRE(r.status == 0);
    CHECK(contains(r.out, "longer than 50"));
    auto db = inst.db();
    auto cmds = command_rows(db);
    REQUIRE(cmds.size() == 2);
    CHECK(cmds[0].action == "draft.new");
    CHECK(cmds[0].outcome == "invalid");
    CHECK(cmds[1].outcome == "ok");
    CHECK(db.rows("SELECT text FROM revisions") == std::vector<sqlite_db::row>{{fifty_accented}});
  }

  SECTION("outcome order: malformed, then unknown actor, then no subject, then permission, then state") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"@mallory /reject D-1", "invalid"},          // 1 (no reason) before 2 (unknown actor)
        {"@alice /approve D-9", "invalid"},           // 3 (no D-9) before 4 (alice may not approve)
        {"@alice /hold issue no-such-key", "invalid"},  // 3 before 4
        {"@alice /hold issue data-breach", "denied"},   // 4 (not a crisis lead) before 5 (placeholders)
        {"@bob /crisis end", "denied"},                 // 4 before 5 (no active crisis)
        {"@frank /crisis end", "invalid"},              // 5: no active crisis
        {"@alice /ack E-9", "invalid"},                 // 3
        {"@dave /draft show D-1", "denied"},            // not an author nor a stage role of standard
        {"@alice /audit D-1", "denied"},                // auditors and admins only
        {"@ivan /audit D-1", "ok"},
        {"/draft withdraw D-1 Changed our minds", "ok"},
        {"/draft edit D-1 Try again", "invalid"},       // a withdrawn draft is final
        {"@bob /approve D-1", "invalid"},
    };
    std::string input = "/draft new Post\n";
    for (const auto& c : cases) input += c.first + "\n";
    auto r = inst.shell(input);
    REQUIRE(r.status == 0);
    auto db = inst.db();
    auto cmds = command_rows(db);
    REQUIRE(cmds.size() == cases.size() + 1);
    for (std::size_t i = 0; i < cases.size(); ++i) {
      INFO(cases[i].first);
      CHECK(cmds[i + 1].outcome == cases[i].second);
    }
    CHECK(db.rows("SELECT status, status_note FROM drafts") ==
          std::vector<sqlite_db::row>{{"withdrawn", "Changed our minds"}});
  }

  SECTION("only people paged so far may acknowledge") {
    auto r = inst.shell("@alice /escalate slow Reporter calling\n@carol /ack E-1\n@bob /ack E-1\n");
    REQUIRE(r.status == 0);
    auto db = inst.db();
    auto cmds = command_rows(db);
    REQUIRE(cmds.size() == 3);
    CHECK(outcomes(cmds) == std::vector<std::string>{"ok", "denied", "ok"});
    CHECK(db.rows("SELECT status, acked_by FROM escalations") == std::vector<sqlite_db::row>{{"acked", "bob"}});
  }
}

TEST_CASE("shell: a person over the command limit is denied", "[integration][shell]") {
  config_options o;
  o.commands_per_person = "3/1m";
  auto inst = make(o);
  auto r = inst.shell("/crisis status\n/crisis status\n/crisis status\n/crisis status\n@bob /crisis status\n");
  REQUIRE(r.status == 0);
  auto db = inst.db();
  auto cmds = command_rows(db);
  REQUIRE(cmds.size() == 5);
  CHECK(outcomes(cmds) == std::vector<std::string>{"ok", "ok", "ok", "denied", "ok"});
  CHECK(contains(detail_of(db, cmds[3].seq, "error").value_or(""), "limit"));
}

// --- 3. shell rules and start-up ----------------------------------------------

TEST_CASE("shell: blank and # lines are skipped, a trailing CR is stripped, os_user is recorded",
          "[integration][shell]") {
  auto inst = make();
  auto r = inst.shell("\n   \n# a comment\n/draft new Hello\r\n\n#/draft new Not me\n@bob /draft show D-1\r\n"
                      "/crisis status");  // last line without a newline
  INFO(transcript(r));
  REQUIRE(r.status == 0);
  CHECK(r.err.empty());
  CHECK_FALSE(contains(r.out, "signoff>"));
  CHECK_FALSE(contains(r.out, "Not me"));
  auto db = inst.db();
  auto cmds = command_rows(db);
  REQUIRE(cmds.size() == 3);
  CHECK(actions(cmds) == std::vector<std::string>{"draft.new", "draft.show", "crisis.status"});
  CHECK(detail_of(db, cmds[0].seq, "raw") == "/draft new Hello");
  CHECK(db.rows("SELECT text FROM revisions") == std::vector<sqlite_db::row>{{"Hello"}});
  CHECK(cmds[0].actor == "alice");  // the first person in the config
  CHECK(cmds[1].actor == "bob");
  for (const auto& c : cmds) CHECK(detail_of(db, c.seq, "os_user") == current_os_user());
}

TEST_CASE("shell: on a terminal it greets, prompts and ends at Ctrl-D", "[integration][shell]") {
  int master = -1, slave = -1;
  REQUIRE(::openpty(&master, &slave, nullptr, nullptr, nullptr) == 0);
  ::fcntl(master, F_SETFD, FD_CLOEXEC);
  ::fcntl(slave, F_SETFD, FD_CLOEXEC);
  auto inst = make();
  {
    auto sh = inst.start_shell_on(slave);
    ::close(slave);
    INFO(transcript(sh));
    REQUIRE(sh.wait_for_stdout("signoff> ", 5s));
    CHECK(contains(sh.out(), "acting as alice"));
    const std::string line = "/crisis status\n";
    REQUIRE(::write(master, line.data(), line.size()) == static_cast<ssize_t>(line.size()));
    REQUIRE(sh.wait_for_stdout("No active crisis.", 5s));
    CHECK(sh.wait_until([&] { return count_of(sh.out(), "signoff> ") == 2; }, 5s));
    REQUIRE(::write(master, "\x04", 1) == 1);  // Ctrl-D at the start of a line: end of input
    CHECK(sh.wait_exit(5s) == 0);
  }
  ::close(master);
  auto db = inst.db();
  CHECK(actions(command_rows(db)) == std::vector<std::string>{"crisis.status"});
}

TEST_CASE("shell: standard input may be a regular file or /dev/null, and each reply comes before its posts",
          "[integration][shell]") {
  auto inst = make();
  const auto script = inst.dir().write("script.txt",
                                       "# a script kept in a file\n"
                                       "/draft new From a file\r\n"
                                       "@bob /approve D-1\n"
                                       "/crisis status");  // no final newline
  const int fd = ::open(script.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  auto sh = inst.start_shell_on(fd);
  ::close(fd);
  const auto status = sh.wait_exit(10s);
  INFO(transcript(sh));
  REQUIRE(status == 0);
  CHECK(sh.err().empty());
  const std::string& out = sh.out();
  CHECK_FALSE(contains(out, "signoff>"));
  // Reply, then the card it posted, then the next line's reply, then its card update.
  const auto created = out.find("D-1 created (revision 1");
  const auto card = out.find("\n[#", created);
  const auto approved = out.find("D-1 revision 1 approved", created);
  const auto update = out.find("\n[#", approved);
  const auto crisis = out.find("No active crisis.", approved);
  REQUIRE(created != std::string::npos);
  REQUIRE(approved != std::string::npos);
  REQUIRE(crisis != std::string::npos);
  CHECK(card < approved);
  CHECK(update < crisis);
  auto db = inst.db();
  CHECK(actions(command_rows(db)) == std::vector<std::string>{"draft.new", "draft.approve", "crisis.status"});
  CHECK(count(db, "SELECT count(*) FROM outbox WHERE status = 'sent'") == 2);

  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE(null_fd >= 0);
  auto empty = inst.start_shell_on(null_fd);
  ::close(null_fd);
  CHECK(empty.wait_exit(10s) == 0);
  CHECK(empty.out().empty());
  CHECK(empty.err().empty());
}

TEST_CASE("shell: when standard output is gone, posts are recorded as failed and the session ends",
          "[integration][shell]") {
  auto inst = make();
  auto sh = inst.start_shell();
  sh.close_stdout();
  REQUIRE(sh.write("/draft new Nobody reads this\n/draft new Nor this\n"));
  sh.close_stdin();
  CHECK(sh.wait_exit(5s) == 0);
  auto db = inst.db();
  CHECK(actions(command_rows(db)) == std::vector<std::string>{"draft.new"});
  auto failed = audit_rows(db, "action = 'post.failed'");
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].actor == "system");
  CHECK(failed[0].outcome == "error");
  CHECK(failed[0].subject == "D-1");
  CHECK(db.rows("SELECT status FROM outbox") == std::vector<sqlite_db::row>{{"failed"}});
  CHECK(count(db, "SELECT count(*) FROM audit_log WHERE action = 'post.sent'") == 0);
}

TEST_CASE("shell: --as picks the acting person, an unknown one refuses to start", "[integration][shell]") {
  auto inst = make();
  auto r = inst.shell("/draft list\n", {"--as", "heidi"});
  REQUIRE(r.status == 0);
  {
    auto db = inst.db();
    auto cmds = command_rows(db);
    REQUIRE(cmds.size() == 1);
    CHECK(cmds[0].actor == "heidi");
  }
  auto other = make();
  auto bad = other.shell("/draft list\n", {"--as", "zed"});
  CHECK(bad.status != 0);
  CHECK(contains(bad.err, "zed"));
  CHECK(bad.out.empty());
  CHECK_FALSE(std::filesystem::exists(other.db_path()));
}

TEST_CASE("check-config and shell name each problem of an invalid config by key", "[integration][shell]") {
  auto inst = make();
  auto good = run({SIGNOFF_BINARY, "check-config", "--config", inst.config_path()});
  INFO(transcript(good));
  CHECK(good.status == 0);
  CHECK(contains(good.out, "OK"));

  config_options o;
  o.extra = R"toml([escalation.broken]
channel = "nowhere"
levels = [{ notify = ["zed"], after = "5 minutes" }, { notify = ["bob"] }]
typo = 1

[approval.extra]
stages = [{ name = "x", roles = ["aprover"] }]

[[people]]
id = "bob"
roles = ["approver"]

[[holding_statement]]
key = "half"
title = "Half open"
severity = "sev2"
channel = "statements"
text = "Hello {name"
)toml";
  auto broken = make(o);
  auto r = run({SIGNOFF_BINARY, "check-config", "--config", broken.config_path()});
  INFO(transcript(r));
  CHECK(r.status != 0);
  for (const char* key : {"escalation.broken.channel", "escalation.broken.levels[0].notify[0]",
                          "escalation.broken.levels[0].after", "escalation.broken.typo",
                          "approval.extra.stages[0].roles[0]", "holding_statement[1].text",
                          "people[9].id"}) {
    INFO("key " << key);
    CHECK(contains(r.err + r.out, key));
  }

  auto s = broken.shell("/crisis status\n");
  INFO(transcript(s));
  CHECK(s.status != 0);
  CHECK(contains(s.err, "escalation.broken.levels[0].notify[0]"));
  CHECK_FALSE(contains(s.out, "crisis"));
  CHECK_FALSE(std::filesystem::exists(broken.db_path()));

  config_options w;
  w.extra = "[[people]]\nid = \"zoe\"\nroles = [\"drafterr\"]\n";
  auto warned = make(w);
  auto wr = run({SIGNOFF_BINARY, "check-config", "--config", warned.config_path()});
  INFO(transcript(wr));
  CHECK(wr.status == 0);
  CHECK(contains(wr.err + wr.out, "people[9].roles[0]"));
  CHECK(contains(wr.err + wr.out, "warning"));

  const auto syntax = inst.dir().write("syntax.toml", "[storage]\npath = \"x.db\"\n[[people]\nid = \"a\"\n");
  auto sr = run({SIGNOFF_BINARY, "check-config", "--config", syntax});
  CHECK(sr.status != 0);
  CHECK(contains(sr.err, "syntax.toml:3:"));

  auto missing = run({SIGNOFF_BINARY, "check-config", "--config", inst.dir().file("nope.toml")});
  CHECK(missing.status != 0);
  CHECK(contains(missing.err, "nope.toml"));
}

TEST_CASE("shell: a page is also a direct message to each person paged, printed as @person",
          "[integration][shell][dm]") {
  auto inst = make();
  auto r = inst.shell("@alice /escalate slow --sev sev2 Journalist asks about the portal\n@bob /ack E-1\n");
  INFO(transcript(r));
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "[#escalations] E-1 [sev2] slow: Journalist asks about the portal\n  Paging @bob (level 1 of 2"));
  CHECK(contains(r.out, "[@bob] You are paged on E-1 [sev2] slow: Journalist asks about the portal\n"
                        "  Level 1 of 2, opened by alice. Not acknowledged within 1h 00m, it goes to level 2.\n"
                        "  /ack E-1\n"));
  CHECK_FALSE(contains(r.out, "[@carol]"));  // level 2 was never paged
  CHECK(contains(r.out, "E-1 acknowledged; re-escalation stopped."));
  auto db = inst.db();
  auto dms = audit_rows(db, "action = 'post.sent' AND json_extract(detail, '$.kind') = 'dm'");
  REQUIRE(dms.size() == 1);
  CHECK(dms[0].subject == "E-1");
  CHECK(dms[0].platform == "shell");
  CHECK(detail_of(db, dms[0].seq, "person") == "bob");
  CHECK(detail_of(db, dms[0].seq, "channel_name") == "@bob");
  CHECK(db.rows("SELECT status, acked_by FROM escalations") == std::vector<sqlite_db::row>{{"acked", "bob"}});
}

TEST_CASE("shell: /handover summarises drafts, embargoes, escalations, the crisis and failed posts",
          "[integration][shell][handover]") {
  auto inst = make();
  const auto soon = rfc3339_ms(sys_clock::now() + std::chrono::hours(3));
  auto r = inst.shell("/draft new Q4 results are out\n"
                      "/draft new --class regulated --embargo " + soon + " Savings rate 4.1%\n"
                      "@dave /approve D-2\n@erin /approve D-2\n"
                      "@alice /escalate slow Reporter calling\n"
                      "@bob /handover\n"
                      "@dave /handover --hours 2\n"
                      "@bob /handover --hours 500\n"
                      "@mallory /handover\n");
  INFO(transcript(r));
  REQUIRE(r.status == 0);
  // bob: the standard draft (his stage), not the regulated one; no crisis.
  CHECK(contains(r.out, "Handover for bob at "));
  CHECK(contains(r.out, "\n  Crisis: none active.\n"
                        "  Pending drafts (1):\n"
                        "    D-1 r1 standard, waiting "));
  CHECK(contains(r.out, ": Q4 results are out | needs comms 0/1 (bob, carol)\n"
                        "  Embargoes in the next 12h (0): none.\n"
                        "  Open escalations (1):\n"
                        "    E-1 [sev3] slow: Reporter calling | level 1/2, age "));
  CHECK(contains(r.out, ", paged bob, next level in "));
  // dave: the approved regulated draft's embargo is beyond 2 hours.
  CHECK(contains(r.out, "Handover for dave at "));
  CHECK(contains(r.out, "  Pending drafts (0): none.\n  Embargoes in the next 2h (0): none.\n"));
  CHECK(contains(r.out, "--hours '500' is not a whole number of hours from 1 to 168"));
  auto db = inst.db();
  auto rows = audit_rows(db, "action = 'handover'");
  REQUIRE(rows.size() == 4);
  CHECK(outcomes(rows) == std::vector<std::string>{"ok", "ok", "invalid", "denied"});
  CHECK(rows[0].actor == "bob");
  CHECK(detail_of(db, rows[0].seq, "pending") == "1");
  CHECK(detail_of(db, rows[0].seq, "escalations") == "1");
  CHECK(detail_of(db, rows[1].seq, "hours") == "2");
  CHECK(rows[3].actor == "unknown:mallory");

  // With 24 hours dave sees the embargo, the first line naming it.
  auto wide = inst.shell("@dave /handover --hours 24\n");
  INFO(transcript(wide));
  CHECK(contains(wide.out, "  Embargoes in the next 24h (1):\n    D-2 r1 regulated: embargo " + soon + " (in 2h 5"));
}

// --- 4. timers --------------------------------------------------------------------

TEST_CASE("shell: an unacknowledged escalation moves to the next level while the shell runs",
          "[integration][shell][timers]") {
  auto inst = make();
  auto sh = inst.start_shell();
  REQUIRE(sh.write("@alice /escalate fast Server room flooded\n"));
  REQUIRE(sh.wait_for_stdout("E-1 opened on route fast", 5s));
  const auto opened = steady::now();
  REQUIRE(sh.wait_for_stdout("Paging @dave (level 1 of 3", 3s));
  const auto mark = sh.out().size();
  INFO(transcript(sh));
  REQUIRE(sh.wait_for_stdout("Paging @erin (level 2 of 3", 3s, mark));
  CHECK(steady::now() - opened >= 900ms);  // not before level 1's `after`
  {
    auto db = inst.db();
    auto lv = audit_rows(db, "action = 'escalation.level'");
    REQUIRE(lv.size() == 1);
    CHECK(lv[0].actor == "system");
    CHECK(lv[0].platform == "system");
    CHECK(lv[0].subject == "E-1");
    CHECK(lv[0].outcome == "ok");
    CHECK(detail_of(db, lv[0].seq, "level") == "2");
    CHECK(db.rows("SELECT level, status FROM escalations") == std::vector<sqlite_db::row>{{"2", "open"}});
  }
  // Level 2 was paged too: erin may acknowledge now.
  REQUIRE(sh.write("@erin /ack E-1\n"));
  REQUIRE(sh.wait_for_stdout("E-1 acknowledged", 3s, mark));
  sh.close_stdin();
  CHECK(sh.wait_exit(5s) == 0);
}

TEST_CASE("shell: an overdue escalation level fires at once after a restart", "[integration][shell][timers]") {
  auto inst = make();
  auto first = inst.shell("@alice /escalate fast Server room flooded\n@alice /escalate fast Printer on fire\n"
                          "@alice /resolve E-2 It was a toaster\n");
  REQUIRE(first.status == 0);
  std::string due;
  {
    auto db = inst.db();
    CHECK(count(db, "SELECT count(*) FROM audit_log WHERE action = 'escalation.level'") == 0);
    due = db.text("SELECT due_at FROM escalations WHERE id = 1").value_or("");
    REQUIRE_FALSE(due.empty());
    auto wait = ms_until(db, due);
    CHECK(wait <= 1000);
    std::this_thread::sleep_for(ms(std::max<std::int64_t>(wait, 0) + 30));
  }
  auto second = inst.shell("");
  INFO(transcript(second));
  REQUIRE(second.status == 0);
  CHECK(contains(second.out, "Paging @erin (level 2 of 3"));
  auto db = inst.db();
  auto lv = audit_rows(db, "action = 'escalation.level'");
  REQUIRE(lv.size() == 1);  // E-2 was resolved: its timer stopped
  CHECK(lv[0].actor == "system");
  CHECK(lv[0].subject == "E-1");
  CHECK(lv[0].ts >= due);
  CHECK(detail_of(db, lv[0].seq, "level") == "2");
  CHECK(count(db, "SELECT count(*) FROM audit_log WHERE action = 'config.load'") == 2);
  CHECK(first_bad_seq(db) == 0);
}

TEST_CASE("shell: an approved embargoed draft is cleared when the embargo passes, once",
          "[integration][shell][timers]") {
  auto inst = make();
  const std::string embargo = rfc3339_ms(sys_clock::now() + 1200ms);
  auto sh = inst.start_shell();
  REQUIRE(sh.write("/draft new --embargo " + embargo + " Embargoed results\n@bob /approve D-1\n"));
  REQUIRE(sh.wait_for_stdout("will be cleared for publication at " + embargo, 5s));
  INFO(transcript(sh));
  REQUIRE(sh.wait_for_stdout("is cleared for publication", 4s));
  sh.close_stdin();
  REQUIRE(sh.wait_exit(5s) == 0);
  {
    auto db = inst.db();
    auto cl = audit_rows(db, "action = 'draft.cleared'");
    REQUIRE(cl.size() == 1);
    CHECK(cl[0].actor == "system");
    CHECK(cl[0].subject == "D-1");
    CHECK(cl[0].ts >= embargo);
    CHECK(db.text("SELECT cleared_at FROM drafts WHERE id = 1").has_value());
  }
  auto again = inst.shell("");
  REQUIRE(again.status == 0);
  CHECK_FALSE(contains(again.out, "cleared"));
  auto db = inst.db();
  CHECK(count(db, "SELECT count(*) FROM audit_log WHERE action = 'draft.cleared'") == 1);
}

TEST_CASE("shell: an embargo release waits for the end of a crisis", "[integration][shell][timers]") {
  auto inst = make();
  const auto embargo_at = sys_clock::now() + 1500ms;
  const std::string embargo = rfc3339_ms(embargo_at);
  auto sh = inst.start_shell();
  REQUIRE(sh.write("/draft new --embargo " + embargo + " Embargoed results\n@bob /approve D-1\n"
                   "@frank /crisis start sev2 Outage\n"));
  INFO(transcript(sh));
  REQUIRE(sh.wait_for_stdout("C-1 [sev2] started", 5s));
  REQUIRE(sys_clock::now() < embargo_at);  // the freeze began before the embargo passed
  // Past the embargo (plus slack), nothing is released while the crisis holds.
  auto db = inst.db();
  const auto cleared = [&] {
    return count(db, "SELECT count(*) FROM audit_log WHERE action = 'draft.cleared'") > 0;
  };
  const auto hold_until = embargo_at + 500ms;
  CHECK_FALSE(sh.wait_until(cleared, std::chrono::duration_cast<ms>(hold_until - sys_clock::now())));
  CHECK_FALSE(contains(sh.out(), "is cleared for publication"));
  const auto mark = sh.out().size();
  REQUIRE(sh.write("@frank /crisis end All clear\n"));
  REQUIRE(sh.wait_for_stdout("is cleared for publication", 3s, mark));
  sh.close_stdin();
  REQUIRE(sh.wait_exit(5s) == 0);
  auto cl = audit_rows(db, "action = 'draft.cleared'");
  REQUIRE(cl.size() == 1);
  auto end = audit_rows(db, "action = 'crisis.end'");
  REQUIRE(end.size() == 1);
  CHECK(end[0].outcome == "ok");
  CHECK(cl[0].seq > end[0].seq);
}

namespace {

// A class whose pending drafts are reminded every `after` (SPEC "Reminders").
config_options reminding(const std::string& after) {
  config_options o;
  o.extra = "[approval.quick]\nremind_after = \"" + after +
            "\"\nstages = [{ name = \"comms\", roles = [\"approver\"] }]\n";
  return o;
}

}  // namespace

TEST_CASE("shell: a pending draft is reminded every remind_after until it is decided",
          "[integration][shell][timers][reminders]") {
  auto inst = make(reminding("1s"));
  auto sh = inst.start_shell();
  REQUIRE(sh.write("/draft new --class quick Launch post\n"));
  REQUIRE(sh.wait_for_stdout("D-1 created", 5s));
  const auto created = steady::now();
  INFO(transcript(sh));
  const std::string reminder = "[#approvals] Reminder: D-1 revision 1 (class quick) has waited";
  REQUIRE(sh.wait_for_stdout(reminder, 4s));
  CHECK(steady::now() - created >= 900ms);  // not before remind_after
  REQUIRE(sh.wait_for_stdout("comms needs 1 more: @bob @carol", 1s));
  const auto mark = sh.out().size();
  REQUIRE(sh.wait_for_stdout(reminder, 4s, mark));  // and again
  REQUIRE(sh.write("@bob /approve D-1\n"));
  REQUIRE(sh.wait_for_stdout("D-1 revision 1 approved", 3s, mark));
  auto db = inst.db();
  const auto reminders = [&] { return count(db, "SELECT count(*) FROM audit_log WHERE action = 'draft.remind'"); };
  const auto sent = reminders();
  CHECK(sent >= 2);
  // Decided: no reminder comes after the approval.
  CHECK_FALSE(sh.wait_until([&] { return reminders() > sent; }, 2500ms));
  sh.close_stdin();
  REQUIRE(sh.wait_exit(5s) == 0);
  auto rows = audit_rows(db, "action = 'draft.remind'");
  REQUIRE(rows.size() == static_cast<std::size_t>(sent));
  for (const auto& r : rows) {
    CHECK(r.actor == "system");
    CHECK(r.platform == "system");
    CHECK(r.subject == "D-1");
    CHECK(r.revision == 1);
    CHECK(r.outcome == "ok");
    CHECK(detail_of(db, r.seq, "reminded") == R"(["bob","carol"])");
  }
  auto approve = audit_rows(db, "action = 'draft.approve'");
  REQUIRE(approve.size() == 1);
  CHECK(rows.back().seq < approve[0].seq);
  CHECK_FALSE(db.text("SELECT remind_at FROM drafts WHERE id = 1").has_value());
  CHECK(first_bad_seq(db) == 0);
}

TEST_CASE("shell: a reminder's due time survives a restart and fires at once when overdue",
          "[integration][shell][timers][reminders]") {
  auto inst = make(reminding("2s"));
  auto first = inst.shell("/draft new --class quick Launch post\n");
  REQUIRE(first.status == 0);
  std::string due;
  {
    auto db = inst.db();
    CHECK(count(db, "SELECT count(*) FROM audit_log WHERE action = 'draft.remind'") == 0);
    due = db.text("SELECT remind_at FROM drafts WHERE id = 1").value_or("");
    REQUIRE_FALSE(due.empty());
    auto wait = ms_until(db, due);
    CHECK(wait <= 2000);
    std::this_thread::sleep_for(ms(std::max<std::int64_t>(wait, 0) + 30));
  }
  auto second = inst.shell("");
  INFO(transcript(second));
  REQUIRE(second.status == 0);
  CHECK(contains(second.out, "[#approvals] Reminder: D-1 revision 1 (class quick)"));
  auto db = inst.db();
  auto rows = audit_rows(db, "action = 'draft.remind'");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].ts >= due);
  CHECK(rows[0].subject == "D-1");
  // The next one counts from that reminder.
  CHECK(db.text("SELECT remind_at FROM drafts WHERE id = 1") > std::optional<std::string>(due));
}

// --- 5. storage faults ---------------------------------------------------------------

TEST_CASE("shell: a locked database refuses commands as NOT RECORDED and changes nothing",
          "[integration][shell][storage]") {
  auto inst = make();  // busy_timeout = 200ms
  auto sh = inst.start_shell();
  INFO(transcript(sh));
  REQUIRE(sh.write("/crisis status\n"));
  REQUIRE(sh.wait_for_stdout("No active crisis.", 5s));

  auto lock = inst.db();
  const auto rows_before = count(lock, "SELECT count(*) FROM audit_log");
  lock.exec("BEGIN EXCLUSIVE");
  auto mark = sh.out().size();
  REQUIRE(sh.write("/draft new Locked out\n"));
  REQUIRE(sh.wait_for_stdout("NOT RECORDED", 3s, mark));
  mark = sh.out().size();
  REQUIRE(sh.write("/crisis status\n"));  // reads are refused too
  REQUIRE(sh.wait_for_stdout("NOT RECORDED", 3s, mark));
  CHECK_FALSE(contains(sh.out().substr(mark), "No active crisis"));
  CHECK(contains(sh.err(), "not recorded"));
  lock.exec("ROLLBACK");

  mark = sh.out().size();
  REQUIRE(sh.write("/draft new After the lock\n"));
  REQUIRE(sh.wait_for_stdout("D-1 created", 3s, mark));
  sh.close_stdin();
  CHECK(sh.wait_exit(5s) == 0);

  auto db = inst.db();
  CHECK(db.rows("SELECT id, text FROM revisions JOIN drafts ON drafts.id = revisions.draft_id") ==
        std::vector<sqlite_db::row>{{"1", "After the lock"}});
  CHECK(count(db, "SELECT count(*) FROM audit_log WHERE detail LIKE '%Locked out%'") == 0);
  auto cmds = command_rows(db);
  CHECK(actions(cmds) == std::vector<std::string>{"crisis.status", "draft.new"});
  // Only the later draft.new and its post.sent were added.
  CHECK(count(db, "SELECT count(*) FROM audit_log") == rows_before + 2);
  CHECK(first_bad_seq(db) == 0);
  CHECK(inst.audit("verify").status == 0);
}

TEST_CASE("shell: a timer action postponed by a locked database fires once the lock is gone",
          "[integration][shell][storage][timers]") {
  auto inst = make();
  auto sh = inst.start_shell();
  INFO(transcript(sh));
  REQUIRE(sh.write("@alice /escalate fast Server room flooded\n"));
  REQUIRE(sh.wait_for_stdout("Paging @dave (level 1 of 3", 5s));
  auto lock = inst.db();
  // The level-1 posts (the page in the channel and dave's DM) are delivered
  // and recorded before the lock is taken. Waiting for "exactly one
  // post.sent" flaked: both deliveries can ride one group commit, so the
  // count jumps from 0 to 2. A bound, not a speed check: under ASan on a
  // loaded 2-core box the first delivery has taken over 3 s.
  REQUIRE(sh.wait_until([&] {
    return count(lock, "SELECT count(*) FROM outbox WHERE status = 'pending'") == 0 &&
           count(lock, "SELECT count(*) FROM audit_log WHERE action = 'post.sent'") >= 1;
  }, 15s));
  const auto mark = sh.out().size();
  lock.exec("BEGIN EXCLUSIVE");
  // Level 1's `after` (1 s) passes while the lock holds: the move is postponed.
  REQUIRE(sh.wait_until([&] { return contains(sh.err(), "timer actions postponed"); }, 4s));
  CHECK_FALSE(contains(sh.out().substr(mark), "Paging @erin"));
  lock.exec("ROLLBACK");
  REQUIRE(sh.wait_for_stdout("Paging @erin (level 2 of 3", 4s, mark));
  sh.close_stdin();
  CHECK(sh.wait_exit(5s) == 0);
  auto db = inst.db();
  CHECK(count(db, "SELECT count(*) FROM audit_log WHERE action = 'escalation.level'") == 1);
  CHECK(first_bad_seq(db) == 0);
}

// --- 6. audit CLI and --version ----------------------------------------------------

TEST_CASE("audit query and export return the stored rows", "[integration][shell][audit]") {
  auto inst = make();
  auto r = inst.shell(
      "/draft new First, \"quoted\" text\n"
      "@carol /reject D-1 Too vague, rewrite\n"
      "/draft edit D-1 Second text\n"
      "@bob /approve D-1\n"
      "/draft new Another post\n");
  REQUIRE(r.status == 0);
  auto db = inst.db();
  const auto total = count(db, "SELECT count(*) FROM audit_log");

  SECTION("query --format json, newest first, every column") {
    auto q = inst.audit("query", {"--subject", "D-1", "--format", "json"});
    INFO(transcript(q));
    REQUIRE(q.status == 0);
    auto v = boost::json::parse(q.out);
    REQUIRE(v.is_array());
    auto expected = db.rows("SELECT seq, action, hash FROM audit_log WHERE subject = 'D-1' ORDER BY seq DESC");
    REQUIRE(v.as_array().size() == expected.size());
    REQUIRE(expected.size() == 8);  // 4 commands on D-1, each with a post.sent
    for (std::size_t i = 0; i < expected.size(); ++i) {
      const auto& o = v.as_array()[i].as_object();
      CHECK(std::to_string(o.at("seq").as_int64()) == *expected[i][0]);
      CHECK(o.at("action").as_string() == *expected[i][1]);
      CHECK(o.at("hash").as_string() == *expected[i][2]);
      CHECK(o.at("subject").as_string() == "D-1");
      CHECK(o.at("detail").is_object());
    }
    auto reject = std::find_if(v.as_array().begin(), v.as_array().end(), [](const boost::json::value& x) {
      return x.as_object().at("action").as_string() == "draft.reject";
    });
    REQUIRE(reject != v.as_array().end());
    CHECK(reject->as_object().at("detail").as_object().at("reason").as_string() == "Too vague, rewrite");
    CHECK(reject->as_object().at("revision").as_int64() == 1);
  }

  SECTION("query --format csv holds the exact column values") {
    auto q = inst.audit("query", {"--subject", "D-1", "--format", "csv"});
    INFO(transcript(q));
    REQUIRE(q.status == 0);
    auto rows = parse_csv(q.out);
    REQUIRE(rows.size() == 9);
    CHECK(rows[0] == std::vector<std::string>{"seq", "ts", "platform", "workspace", "channel", "actor", "action",
                                              "subject", "revision", "outcome", "detail", "prev_hash", "hash"});
    auto expected = db.rows(
        "SELECT seq, ts, platform, workspace, channel, actor, action, subject, revision, outcome, detail, "
        "prev_hash, hash FROM audit_log WHERE subject = 'D-1' ORDER BY seq DESC");
    REQUIRE(expected.size() == 8);
    for (std::size_t i = 0; i < expected.size(); ++i) {
      REQUIRE(rows[i + 1].size() == 13);
      for (std::size_t c = 0; c < 13; ++c) CHECK(rows[i + 1][c] == expected[i][c].value_or(""));
    }
  }

  SECTION("query filters by actor and action, and --limit keeps the newest") {
    auto q = inst.audit("query", {"--actor", "bob", "--action", "draft.approve", "--format", "json"});
    REQUIRE(q.status == 0);
    auto v = boost::json::parse(q.out).as_array();
    REQUIRE(v.size() == 1);
    CHECK(v[0].as_object().at("revision").as_int64() == 2);
    auto lim = inst.audit("query", {"--limit", "2", "--format", "json"});
    REQUIRE(lim.status == 0);
    auto l = boost::json::parse(lim.out).as_array();
    REQUIRE(l.size() == 2);
    CHECK(l[0].as_object().at("seq").as_int64() == total);
    CHECK(l[1].as_object().at("seq").as_int64() == total - 1);
  }

  SECTION("export --format jsonl streams every record oldest first") {
    auto e = inst.audit("export", {"--format", "jsonl"});
    INFO(transcript(e));
    REQUIRE(e.status == 0);
    auto lines = split_lines(e.out);
    REQUIRE(static_cast<std::int64_t>(lines.size()) == total);
    auto hashes = db.rows("SELECT hash FROM audit_log ORDER BY seq");
    for (std::size_t i = 0; i < lines.size(); ++i) {
      auto o = boost::json::parse(lines[i]).as_object();
      CHECK(o.size() == 13);
      CHECK(o.at("seq").as_int64() == static_cast<std::int64_t>(i + 1));
      CHECK(o.at("hash").as_string() == *hashes[i][0]);
    }
    auto csv = inst.audit("export", {"--format", "csv"});
    REQUIRE(csv.status == 0);
    CHECK(static_cast<std::int64_t>(parse_csv(csv.out).size()) == total + 1);
  }

  SECTION("a missing database is an error and is not created") {
    auto missing = inst.dir().file("missing.db");
    auto q = run({SIGNOFF_BINARY, "audit", "query", "--db", missing});
    CHECK(q.status != 0);
    CHECK(contains(q.err, "missing.db"));
    auto v = run({SIGNOFF_BINARY, "audit", "verify", "--db", missing});
    CHECK(v.status != 0);
    CHECK_FALSE(std::filesystem::exists(missing));
  }
}

TEST_CASE("signoff --version prints a version", "[integration][shell]") {
  auto r = run({SIGNOFF_BINARY, "--version"});
  CHECK(r.status == 0);
  CHECK(std::regex_match(r.out, std::regex(R"(signoff \d+\.\d+\.\d+\n)")));
}

TEST_CASE("two shells sharing one database keep one gapless chain", "[integration][shell][storage]") {
  config_options o;
  o.busy_timeout = "5s";
  auto inst = make(o);
  REQUIRE(inst.shell("").status == 0);  // create and migrate once
  constexpr int per_shell = 25;
  std::string a_script, b_script;
  for (int i = 0; i < per_shell; ++i) {
    a_script += "/draft new From A " + std::to_string(i) + "\n";
    b_script += "@bob /draft new From B " + std::to_string(i) + "\n";
  }
  auto a = inst.start_shell();
  auto b = inst.start_shell();
  REQUIRE(a.write(a_script));
  REQUIRE(b.write(b_script));
  a.close_stdin();
  b.close_stdin();
  CHECK(a.wait_exit(20s) == 0);
  CHECK(b.wait_exit(20s) == 0);
  INFO(transcript(a) << transcript(b));
  CHECK_FALSE(contains(a.out() + b.out(), "NOT RECORDED"));
  CHECK(count_of(a.out() + b.out(), " created (revision 1") == 2 * per_shell);
  auto db = inst.db();
  CHECK(count(db, "SELECT count(*) FROM drafts") == 2 * per_shell);
  CHECK(count(db, "SELECT count(*) FROM audit_log WHERE action = 'draft.new' AND outcome = 'ok'") ==
        2 * per_shell);
  CHECK(first_bad_seq(db) == 0);
  CHECK(inst.audit("verify").status == 0);
  // Every post is delivered (whether once: see the next test).
  CHECK(count(db, "SELECT count(*) FROM outbox WHERE status = 'sent'") == 2 * per_shell);
}

// Known defect (reported, not fixed here): the outbox is not claimed before
// delivery, so two processes on one database may both deliver a post. The
// shell blocked writing a card (its stdout pipe full) still holds the post
// as pending; a second shell delivers it; the first then delivers it again.
TEST_CASE("a post is delivered once even when two shells share the database",
          "[integration][shell][storage]") {
  config_options o;
  o.max_text = 100000;
  auto inst = make(o);
  auto a = inst.start_shell();
  const std::size_t capacity = a.stdout_capacity();
  REQUIRE(capacity > 0);
  // One card larger than the pipe: shell A blocks in the middle of printing it.
  REQUIRE(a.write("/draft new " + std::string(capacity + 1024, 'x') + "\n", 10s));
  {
    // More unread output than a reply: A is inside the card's write, which
    // cannot finish (the card is larger than the pipe).
    auto db_ready = [&] { return a.unread_stdout() >= capacity / 2; };
    // No pumping here: reading A's output would unblock it.
    const auto deadline = steady::now() + 10s;
    while (!db_ready() && steady::now() < deadline) std::this_thread::sleep_for(10ms);
    INFO("unread " << a.unread_stdout() << " of " << capacity);
    REQUIRE(db_ready());
  }
  auto b = inst.shell("");
  REQUIRE(b.status == 0);
  a.close_stdin();
  REQUIRE(a.wait_exit(10s) == 0);
  auto db = inst.db();
  CHECK(count(db, "SELECT count(*) FROM outbox") == 1);
  CHECK(count(db, "SELECT count(*) FROM audit_log WHERE action = 'post.sent'") == 1);
  CHECK(count_of(a.out() + b.out, "New draft for approval") == 1);
}
