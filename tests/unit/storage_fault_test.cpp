// When the database cannot record (disk full, failed fsync, locked past the
// busy timeout), every command is refused as NOT RECORDED, nothing is
// half-done, and the process goes on (SPEC "Commands", last paragraphs).
#include <catch2/catch.hpp>


#include "bot/core/time.hpp"
#include "handlers/executor.hpp"
#include "storage/audit_log.hpp"
#include "storage/sqlite_store.hpp"
#include "support/commands.hpp"
#include "support/enum_output.hpp"
#include "support/faulty_vfs.hpp"
#include "support/process.hpp"

using namespace signoff;

namespace {

using test::as;
constexpr const char* toml = test::small_team_toml;

std::int64_t count(sql::db& d, const char* q) {
  auto s = d.prepare(q);
  s.step();
  return s.i64(0);
}

}  // namespace

TEST_CASE("disk full, failed fsync or a lock: NOT RECORDED and nothing half-done", "[storage][vfs]") {
  auto loaded = conf::load_string(toml);
  REQUIRE(loaded.ok());
  const auto& cfg = *loaded.cfg;
  test::temp_dir dir;
  const auto path = dir.file("signoff.db");
  auto now = *parse_rfc3339("2026-11-22T12:00:00Z");
  auto& faults = test::faults();
  faults.clear();
  {
    sqlite_store db(path, sqlite_store::options{100, test::faulty_vfs_name()});
    executor ex(cfg, db, {platform::slack});
    REQUIRE(ex.execute(as("alice", "/draft new first"), now).recorded);

    auto which = GENERATE(0, 1, 2);
    if (which == 0) faults.fail_writes = true;
    if (which == 1) faults.fail_syncs = true;
    if (which == 2) faults.fail_locks = true;
    INFO("fault " << which);
    const std::pair<const char*, const char*> lines[] = {{"/draft new second", "draft.new"},
                                                         {"/approve D-1", "draft.approve"},
                                                         {"/draft show D-1", "draft.show"},
                                                         {"/nonsense", "command.invalid"}};
    for (const auto& [line, action] : lines) {
      auto e = ex.execute(as(line[1] == 'a' ? "bob" : "alice", line), now);
      CHECK_FALSE(e.recorded);
      CHECK(e.action == action);  // the operator's log line names the command
      CHECK_THAT(e.reply, Catch::StartsWith("NOT RECORDED"));
      CHECK_FALSE(e.error.empty());
    }
    CHECK(ex.stats().not_recorded == 4);
    faults.clear();
    // The process goes on: the next command works.
    auto ok = ex.execute(as("bob", "/approve D-1"), now);
    CHECK(ok.recorded);
    CHECK(ok.outcome == outcome::ok);
  }
  // Reopen without the shim: only what was acked is there.
  sql::db check(path);
  CHECK(count(check, "SELECT count(*) FROM drafts") == 1);
  CHECK(count(check, "SELECT count(*) FROM approvals") == 1);
  CHECK(count(check, "SELECT count(*) FROM audit_log WHERE action IN ('draft.new','draft.approve','draft.show','command.invalid')") == 2);
  CHECK(count(check, "SELECT count(*) FROM outbox") == 2);
  CHECK(audit::verify(check).ok);
}

TEST_CASE("a command waiting on another process's lock is refused after the busy timeout", "[storage]") {
  auto loaded = conf::load_string(toml);
  REQUIRE(loaded.ok());
  test::temp_dir dir;
  const auto path = dir.file("signoff.db");
  auto now = *parse_rfc3339("2026-11-22T12:00:00Z");
  sqlite_store db(path, sqlite_store::options{50, nullptr});
  executor ex(*loaded.cfg, db, {platform::slack});
  sql::db other(path);
  other.exec("BEGIN EXCLUSIVE");
  auto e = ex.execute(as("alice", "/draft new blocked"), now);
  CHECK_FALSE(e.recorded);
  CHECK_THAT(e.reply, Catch::StartsWith("NOT RECORDED"));
  other.exec("ROLLBACK");
  CHECK(ex.execute(as("alice", "/draft new unblocked"), now).recorded);
  CHECK(db.get_draft(1)->text == "unblocked");
}
