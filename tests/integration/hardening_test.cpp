// Hardening (issue 7): inputs that used to leave no audit record, times out
// of range, one unreadable row silencing every timer, spoofable output,
// unbounded arguments, the command limit, the database file's mode and
// foreign databases. Each test runs the real binary, as a user would.
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "support/fixture.hpp"
#include "support/process.hpp"
#include "support/sqlite_db.hpp"

namespace {

using namespace signoff::test;

installation make(const config_options& o = {}) { return installation(SIGNOFF_BINARY, o); }


int mode_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 0777);
}

std::vector<std::string> lines_of(const std::string& s) { return split_lines(s); }

}  // namespace

// --- 1. times past year 9999 -------------------------------------------------

TEST_CASE("hardening: an escalation after beyond the maximum duration is refused by check-config",
          "[integration][hardening]") {
  config_options o;
  o.fast_level2_after = "3000000d";
  auto inst = make(o);
  auto r = run({inst.binary(), "check-config", "--config", inst.config_path()});
  INFO(transcript(r));
  CHECK(r.status != 0);
  CHECK(contains(r.err + r.out, "escalation.fast.levels[1].after"));
  CHECK(contains(r.err + r.out, "36500d"));
  // run and shell refuse the same config.
  auto s = inst.shell("/escalations\n");
  CHECK(s.status != 0);
  CHECK_FALSE(std::filesystem::exists(inst.db_path()));
}

TEST_CASE("hardening: an embargo past 9999-12-31 is an invalid, recorded command, and service goes on",
          "[integration][hardening]") {
  auto inst = make();
  auto r = inst.shell("/draft new --embargo 9999-12-31T23:59:59-23:59 x\n/draft new next one\n");
  INFO(transcript(r));
  REQUIRE(r.status == 0);
  CHECK_FALSE(contains(r.out, "NOT RECORDED"));
  CHECK(contains(r.out, "Invalid: --embargo '9999-12-31T23:59:59-23:59' is out of range"));
  CHECK(contains(r.out, "D-1 created"));
  auto db = inst.db();
  auto cmds = command_rows(db);
  REQUIRE(cmds.size() == 2);
  CHECK(cmds[0].action == "draft.new");
  CHECK(cmds[0].outcome == "invalid");
  CHECK(contains(detail_of(db, cmds[0].seq, "error").value_or(""), "out of range"));
  CHECK(cmds[1].outcome == "ok");
  CHECK(first_bad_seq(db) == 0);
}

TEST_CASE("hardening: --since and --until out of range are invalid, never all records or none",
          "[integration][hardening]") {
  auto inst = make();
  auto r = inst.shell(
      "@heidi /audit --since 36500d\n@heidi /audit --until 1969-12-31T23:59:59Z\n@heidi /audit --since 7d\n");
  INFO(transcript(r));
  REQUIRE(r.status == 0);
  CHECK(count_of(r.out, "Invalid: --since '36500d' is out of range") == 1);
  CHECK(count_of(r.out, "Invalid: --until '1969-12-31T23:59:59Z' is out of range") == 1);
  auto db = inst.db();
  auto cmds = command_rows(db);
  REQUIRE(cmds.size() == 3);
  CHECK(cmds[0].outcome == "invalid");
  CHECK(cmds[1].outcome == "invalid");
  CHECK(cmds[2].outcome == "ok");
  // The CLI refuses them too.
  auto q = inst.audit("query", {"--since", "36500d"});
  CHECK(q.status == 2);
  CHECK(contains(q.err, "--since"));
}

TEST_CASE("hardening: one unreadable timer row is reported once and skipped, other timers and commands go on",
          "[integration][hardening]") {
  auto inst = make();
  // E-1 and E-2 on the fast route (level 1 moves on after 1 s).
  auto r = inst.shell("@alice /escalate fast first\n@alice /escalate fast second\n");
  REQUIRE(r.status == 0);
  {
    auto db = inst.db();
    // A row no build of signoff writes: edited by hand. It sorts first.
    db.exec("UPDATE escalations SET due_at = '0000-garbage' WHERE id = 1");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto sh = inst.start_shell();
  REQUIRE(sh.wait_for_stdout("E-2 [sev3] fast: second\n  Paging @erin (level 2 of 3", 5s));
  REQUIRE(sh.write("/escalations\n@dave /ack E-2\n@dave /ack E-1\n"));
  REQUIRE(sh.wait_for_stdout("E-2 acknowledged", 5s));
  REQUIRE(sh.wait_for_stdout("E-1", 5s, sh.out().find("E-2 acknowledged")));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  sh.close_stdin();
  REQUIRE(sh.wait_exit(5s) == 0);
  INFO("--- stdout\n" << sh.out() << "--- stderr\n" << sh.err());
  CHECK_FALSE(contains(sh.out(), "NOT RECORDED"));
  CHECK(count_of(sh.err(), "escalation 1 skipped") == 1);  // logged once, not every pass
  CHECK(contains(sh.out(), "E-1: stored data could not be read"));
  auto db = inst.db();
  auto list = audit_rows(db, "action = 'escalation.list'");
  REQUIRE(list.size() == 1);
  CHECK(list[0].outcome == "ok");
  auto acks = audit_rows(db, "action = 'escalation.ack'");
  REQUIRE(acks.size() == 2);
  CHECK(acks[0].outcome == "ok");     // E-2
  CHECK(acks[1].outcome == "error");  // E-1: recorded, with the reason
  CHECK(contains(acks[1].detail, "unreadable timestamp"));
  CHECK(db.integer("SELECT count(*) FROM audit_log WHERE action = 'escalation.level' AND subject = 'E-2'") == 1);
  CHECK(first_bad_seq(db) == 0);
}

TEST_CASE("hardening: due times an earlier build wrote past year 9999 are repaired at start",
          "[integration][hardening]") {
  auto inst = make();
  REQUIRE(inst.shell("@alice /escalate fast poisoned\n@alice /escalate slow healthy\n").status == 0);
  {
    // What the bug left behind: a five-digit year, in a schema-2 database.
    auto db = inst.db();
    db.exec("UPDATE escalations SET due_at = '10240-08-21T10:00:00.000Z' WHERE id = 1;"
            "DROP TABLE rate_events; ALTER TABLE outbox DROP COLUMN card; DROP INDEX drafts_remind; "
            "ALTER TABLE drafts DROP COLUMN remind_at; DROP TABLE stream_positions; DROP TABLE checkpoints; "
            "DROP TABLE merkle_range; DROP TABLE console_tokens; DROP TABLE console_sessions; "
            "PRAGMA application_id = 0; "
            "PRAGMA user_version = 2;");
  }
  auto r = inst.shell("/escalations\n@bob /ack E-2\n");
  INFO(transcript(r));
  REQUIRE(r.status == 0);
  CHECK_FALSE(contains(r.out, "NOT RECORDED"));
  CHECK(contains(r.out, "E-1 [sev3] fast: poisoned"));
  CHECK(contains(r.out, "E-2 acknowledged"));
  auto db = inst.db();
  CHECK(db.text("SELECT due_at FROM escalations WHERE id = 1") == "9999-12-31T23:59:59.999Z");
  CHECK(db.integer("PRAGMA user_version") == 8);  // migrations 3 to 8 ran
  CHECK(db.integer("SELECT count(*) FROM audit_log WHERE action = 'escalation.level'") == 0);
}

// --- 2. the actor of an invalid-UTF-8 line ------------------------------------

TEST_CASE("hardening: the @name prefix of a line that is not UTF-8 still names the actor",
          "[integration][hardening]") {
  auto inst = make();
  auto r = inst.shell("/draft new hello\n@bob /approve D-1 caf\xe9\n");
  INFO(transcript(r));
  REQUIRE(r.status == 0);
  auto db = inst.db();
  auto cmds = command_rows(db);
  REQUIRE(cmds.size() == 2);
  CHECK(cmds[1].actor == "bob");
  CHECK(cmds[1].outcome == "invalid");
  CHECK(detail_of(db, cmds[1].seq, "raw_hex") == "2f617070726f766520442d3120636166e9");
  CHECK_FALSE(detail_of(db, cmds[1].seq, "raw"));
}

// --- 3. blank placeholder values ------------------------------------------------

TEST_CASE("hardening: a holding statement with blank values is refused, nothing is posted and no crisis starts",
          "[integration][hardening]") {
  auto inst = make();
  auto r = inst.shell(
      "@frank /hold issue data-breach system=\"\" next_update=\n"
      "@frank /hold issue data-breach system=\"   \" next_update=14:00\n"
      "@frank /crisis status\n");
  INFO(transcript(r));
  REQUIRE(r.status == 0);
  CHECK_FALSE(contains(r.out, "[#statements]"));
  CHECK(contains(r.out, "missing or blank value(s) for system, next_update"));
  CHECK(contains(r.out, "missing or blank value(s) for system."));
  CHECK(contains(r.out, "No active crisis."));
  auto db = inst.db();
  CHECK(db.integer("SELECT count(*) FROM crises") == 0);
  CHECK(db.integer("SELECT count(*) FROM outbox") == 0);
  auto issued = audit_rows(db, "action = 'hold.issue'");
  REQUIRE(issued.size() == 2);
  CHECK(issued[0].outcome == "invalid");
  CHECK(issued[1].outcome == "invalid");
}

// --- 4. output that could be spoofed -----------------------------------------------

TEST_CASE("hardening: a reason holding a carriage return cannot pass for an approval in /audit",
          "[integration][hardening]") {
  config_options o;
  o.max_text = 200;
  auto inst = make(o);
  auto r = inst.shell(
      "/draft new hello\n"
      "@bob /reject D-1 nope\r#4 2026-12-01T09:00:00.000Z bob draft.approve D-1 r1 ok\n"
      "@heidi /audit D-1\n");
  INFO(transcript(r));
  REQUIRE(r.status == 0);
  CHECK(r.out.find('\r') == std::string::npos);
  // The forged text stays inside the reject record's line.
  CHECK(contains(r.out, "bob draft.reject D-1 r1 ok (reason: nope?#4 2026-12-01T09:00:00.000Z bob draft.approve"));
  for (const auto& l : lines_of(r.out)) {
    INFO(l);
    CHECK_FALSE(contains(l.substr(0, 4), "#4 "));
  }
  // What was typed is kept as evidence, byte for byte.
  auto db = inst.db();
  auto rej = audit_rows(db, "action = 'draft.reject'");
  REQUIRE(rej.size() == 1);
  CHECK(contains(detail_of(db, rej[0].seq, "reason").value_or(""), "nope\r#4"));
}

TEST_CASE("hardening: draft text keeps its line breaks but forges no post line, and escapes never reach the terminal",
          "[integration][hardening]") {
  config_options o;
  o.max_text = 200;
  auto inst = make(o);
  REQUIRE(inst.shell("/draft new Line one\n").status == 0);
  // The shell reads one command per line, so multi-line text comes from a
  // chat platform; put such a revision in place the way any writer would.
  {
    auto db = inst.db();
    db.exec("UPDATE revisions SET text = 'Line one' || char(10) || '[#statements] We deny everything.' || "
            "char(10) || char(27) || '[2Jcleared' WHERE draft_id = 1");
  }
  auto r = inst.shell("@alice /draft show D-1\n@bob /approve D-1\n");
  INFO(transcript(r));
  REQUIRE(r.status == 0);
  CHECK(r.out.find('\x1b') == std::string::npos);
  CHECK(count_of(r.out, "?[2Jcleared") == 2);  // the reply and the updated card
  for (const auto& l : lines_of(r.out)) {
    INFO(l);
    CHECK_FALSE(l.starts_with("[#statements]"));
  }
  // Kept as a line of the reply and of the card, indented as part of them.
  CHECK(count_of(r.out, "\n  [#statements] We deny everything.") == 2);
  CHECK(contains(r.out, "\n[#approvals] Draft approved"));
}

// --- 6. every argument is bounded ---------------------------------------------------

TEST_CASE("hardening: oversized arguments are invalid, named with their limit and never echoed in full",
          "[integration][hardening]") {
  auto inst = make();
  const std::string huge_to(1000000, 'x');
  const std::string huge_key(100000, 'k');
  auto r = inst.shell("/draft new --to " + huge_to + " text\n" + "/draft new --class " + huge_key + " text\n" +
                      "/hold show " + huge_key + "\n", {});
  INFO("exit " << r.status << " stdout bytes " << r.out.size());
  REQUIRE(r.status == 0);
  CHECK(r.out.size() < 2000);
  CHECK(count_of(r.out, "is longer than 64 characters") == 3);
  auto db = inst.db();
  auto cmds = command_rows(db);
  REQUIRE(cmds.size() == 3);
  for (const auto& c : cmds) {
    CHECK(c.outcome == "invalid");
    CHECK(c.subject.empty());
    CHECK(detail_of(db, c.seq, "error").value_or("").size() < 200);
  }
}

// --- 7. the database file's mode, and databases that are not ours -------------------------

TEST_CASE("hardening: the database and its -wal and -shm are created 0600 whatever the umask",
          "[integration][hardening]") {
  auto inst = make();
  auto argv = inst.shell_argv();
  std::string cmd = "umask 000; exec";
  for (const auto& a : argv) cmd += " '" + a + "'";
  child sh({"/bin/sh", "-c", cmd});
  REQUIRE(sh.write("/draft new hello\n"));
  REQUIRE(sh.wait_for_stdout("D-1 created", 5s));
  CHECK(mode_of(inst.db_path()) == 0600);
  CHECK(mode_of(inst.db_path() + "-wal") == 0600);
  CHECK(mode_of(inst.db_path() + "-shm") == 0600);
  sh.close_stdin();
  CHECK(sh.wait_exit(5s) == 0);
}

TEST_CASE("hardening: shell --db refuses another application's SQLite file and leaves it untouched",
          "[integration][hardening]") {
  auto inst = make();
  const std::string other = inst.dir().file("other.db");
  {
    sqlite3* h = nullptr;
    REQUIRE(sqlite3_open(other.c_str(), &h) == SQLITE_OK);
    CHECK(sqlite3_exec(h, "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); "
                          "INSERT INTO invoices VALUES (1, 9.5);", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(h);
  }
  REQUIRE(std::filesystem::exists(other));
  auto r = run({inst.binary(), "shell", "--config", inst.config_path(), "--db", other}, "/draft new x\n");
  INFO(transcript(r));
  CHECK(r.status != 0);
  CHECK(contains(r.err, "another application"));
  CHECK(contains(r.err, "invoices"));
  sqlite_db db(other);
  CHECK(db.integer("SELECT count(*) FROM sqlite_master WHERE name = 'audit_log'") == 0);
  CHECK(db.text("PRAGMA journal_mode") == "delete");
  CHECK(db.integer("SELECT count(*) FROM invoices") == 1);
}

// --- 8. the command limit holds across processes, for every actor ---------------------------

TEST_CASE("hardening: the command limit holds across processes and restarts, malformed lines and unknown users included",
          "[integration][hardening]") {
  config_options o;
  o.commands_per_person = "3/1m";
  auto inst = make(o);
  // Two commands in one process, two in the next: the fourth is over.
  REQUIRE(inst.shell("/draft list\n/draft list\n").status == 0);
  auto r = inst.shell("/draft list\n/draft list\n");
  INFO(transcript(r));
  CHECK(count_of(r.out, "Denied: over the command limit of 3 per 1m 00s") == 1);
  // Malformed lines count too (and stay `invalid`, SPEC's first rule).
  auto junk = inst.shell("@bob /frobnicate\n@bob /frobnicate\n@bob /frobnicate\n@bob /frobnicate\n@bob /draft list\n");
  CHECK(contains(junk.out, "Denied: over the command limit"));
  // An unknown user's help requests are limited by their platform user ID.
  auto stranger = inst.shell("@mallory /signoff help\n@mallory /signoff help\n@mallory /signoff help\n@mallory /signoff help\n");
  CHECK(count_of(stranger.out, "Denied: over the command limit") == 1);
  auto db = inst.db();
  auto bob = audit_rows(db, "actor = 'bob'");
  REQUIRE(bob.size() == 5);
  CHECK(bob[3].outcome == "invalid");
  CHECK(detail_of(db, bob[3].seq, "over_limit") == "1");
  CHECK(bob[4].outcome == "denied");
  auto mallory = audit_rows(db, "actor = 'unknown:mallory'");
  REQUIRE(mallory.size() == 4);
  CHECK(mallory[3].outcome == "denied");
  CHECK(first_bad_seq(db) == 0);
}

// --- 10. options after the text ----------------------------------------------------------------

TEST_CASE("hardening: an option typed after the text is kept as text and the reply says so plainly",
          "[integration][hardening]") {
  config_options o;
  o.max_text = 200;
  auto inst = make(o);
  auto r = inst.shell("/draft new Q3 text --class regulated\n/draft new -- --class regulated in a sentence\n");
  INFO(transcript(r));
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "D-1 created (revision 1, class standard)"));
  CHECK(count_of(r.out, "Note: '--class regulated' was taken as part of the text, not as an option") == 1);
  auto db = inst.db();
  CHECK(db.text("SELECT class FROM drafts WHERE id = 1") == "standard");
  auto cmds = command_rows(db);
  REQUIRE(cmds.size() == 2);
  CHECK(db.text("SELECT json_extract(detail, '$.options_in_text[0]') FROM audit_log WHERE seq = ?",
                {std::to_string(cmds[0].seq)}) == "--class");
}

// --- 11. smaller ones -------------------------------------------------------------------------

TEST_CASE("hardening: a malformed ID is recorded with no subject, and the reply shows the hidden character",
          "[integration][hardening]") {
  auto inst = make();
  auto r = inst.shell("/draft new hello\n@bob /approve D-1\xe2\x80\x8b fine\n");
  INFO(transcript(r));
  CHECK(contains(r.out, "'D-1<U+200B>' is not a draft ID"));
  auto db = inst.db();
  auto cmds = command_rows(db);
  REQUIRE(cmds.size() == 2);
  CHECK(cmds[1].subject.empty());
  CHECK(db.integer("SELECT count(*) FROM approvals") == 0);
}

// --- 12. typographic quotes -------------------------------------------------------------------

TEST_CASE("hardening: typographic quotes hold a value with spaces, as phones type them",
          "[integration][hardening]") {
  auto inst = make();
  auto r = inst.shell(
      "@frank /hold issue data-breach system=\xe2\x80\x9c" "customer portal\xe2\x80\x9d next_update=\xe2\x80\x9c" "14:00 UTC\xe2\x80\x9d\n");
  INFO(transcript(r));
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "[#statements] We are aware of an incident affecting customer portal. Next update by 14:00 UTC."));
}
