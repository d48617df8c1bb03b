// The lean command path (issue: "a lean durable command path"): how many SQL
// statements each verb runs, and how many fsyncs a group commit costs. A
// change that adds a re-read or a round trip fails here with the list of
// statements it ran, instead of showing up months later as a slower bot.
#include <sqlite3.h>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "bot/core/time.hpp"
#include "handlers/executor.hpp"
#include "storage/sqlite_store.hpp"
#include "support/commands.hpp"
#include "support/enum_output.hpp"
#include "support/faulty_vfs.hpp"
#include "support/process.hpp"

using namespace signoff;

namespace {

constexpr const char* toml = R"(
[storage]
path = "unused.db"
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
id = "frank"
roles = ["crisis-lead"]
[roles]
draft = ["drafter", "approver"]
approve = ["approver", "legal", "compliance", "crisis-lead"]
crisis = ["crisis-lead"]
[approval.standard]
stages = [{ name = "comms", roles = ["approver"], count = 1 }]
[approval.regulated]
stages = [{ name = "legal", roles = ["legal"] }, { name = "compliance", roles = ["compliance"] }]
remind_after = "4h"  # reminders cost no statement: remind_at rides the INSERT / UPDATE
[approval.crisis]
stages = [{ name = "lead", roles = ["crisis-lead"] }]
[escalation.legal]
channel = "approvals"
levels = [{ notify = ["dave"], after = "15m" }, { notify = ["erin"] }]
[channels]
approvals = { slack = "C1" }
statements = { slack = "C2" }
[[holding_statement]]
key = "outage"
title = "Outage"
severity = "sev2"
channel = "statements"
version = 1
approved_by = ["pr:frank"]
approved_on = "2026-10-01"
text = "We know about the {what} outage."
)";

struct counter {
  std::vector<std::string> sql;
  static int on_stmt(unsigned, void* self, void* stmt, void*) {
    const char* s = sqlite3_sql(static_cast<sqlite3_stmt*>(stmt));
    static_cast<counter*>(self)->sql.emplace_back(s ? s : "?");
    return 0;
  }
  std::string listing() const {
    std::string out;
    for (const auto& s : sql) out += "  " + s.substr(0, 100) + "\n";
    return out;
  }
};

incoming as(const std::string& who, const std::string& line) { return test::as(who, line, platform::slack); }

}  // namespace

TEST_CASE("SQL statements per command stay within their budget", "[storage][budget]") {
  auto loaded = conf::load_string(toml);
  REQUIRE(loaded.ok());
  test::temp_dir dir;
  sqlite_store db(dir.file("signoff.db"));
  executor ex(*loaded.cfg, db, {platform::slack});
  const auto now = *parse_rfc3339("2026-12-01T10:00:00Z");
  // Warm up: the first command also prunes the command limit's window.
  REQUIRE(ex.execute(as("alice", "/draft new warm-up"), now).outcome == outcome::ok);
  counter c;
  sqlite3_trace_v2(db.raw().handle(), SQLITE_TRACE_STMT, &counter::on_stmt, &c);

  // Each runs alone (BEGIN ... COMMIT included); in a group commit BEGIN,
  // COMMIT and the read of the audit chain's tail are shared.
  struct step {
    const char* who;
    const char* line;
    std::size_t budget;
  };
  const step steps[] = {
      {"alice", "/draft new hello world", 11},  // issue target: <= 12
      {"bob", "/approve D-2 fine", 14},         // issue target: <= 14 (the last stage: status too)
      {"alice", "/draft new --class regulated two stages", 11},
      {"dave", "/approve D-3 legal ok", 13},  // a stage, not yet the last
      {"alice", "/draft edit D-3 revised text", 14},
      {"bob", "/reject D-1 not like this", 12},
      {"alice", "/draft show D-3", 10},
      {"alice", "/escalate legal reporter asks", 10},
      {"dave", "/ack E-1", 11},
      {"frank", "/hold issue outage what=email", 10},
      {"alice", "/nonsense", 7},
  };
  for (const auto& s : steps) {
    c.sql.clear();
    auto e = ex.execute(as(s.who, s.line), now);
    INFO(s.line << " -> " << e.outcome << ": " << e.reply << "\n" << c.sql.size() << " statements:\n" << c.listing());
    CHECK(e.recorded);
    CHECK(c.sql.size() <= s.budget);
  }
  sqlite3_trace_v2(db.raw().handle(), 0, nullptr, nullptr);
}

TEST_CASE("a group commit of many commands costs one fsync", "[storage][budget]") {
  auto loaded = conf::load_string(toml);
  REQUIRE(loaded.ok());
  test::temp_dir dir;
  auto& faults = test::faults();
  faults.clear();
  sqlite_store db(dir.file("signoff.db"), sqlite_store::options{5000, test::faulty_vfs_name()});
  executor ex(*loaded.cfg, db, {platform::slack});
  const auto now = *parse_rfc3339("2026-12-01T10:00:00Z");
  REQUIRE(ex.execute(as("alice", "/draft new warm-up"), now).recorded);
  std::vector<incoming> batch;
  for (int i = 0; i < 50; ++i) batch.push_back(as(i % 2 ? "bob" : "alice", "/draft new text " + std::to_string(i)));
  const long before = faults.syncs.load();
  auto out = ex.execute_batch(batch, now, {{platform::slack, {"env-1", "env-2"}}});
  const long syncs = faults.syncs.load() - before;
  REQUIRE(out.size() == 50);
  for (const auto& e : out) CHECK(e.outcome == outcome::ok);
  CHECK(syncs == 1);  // the WAL's fsync at COMMIT (synchronous=FULL), nothing per command
}
