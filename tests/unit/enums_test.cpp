// Platform, outcome and post kind (bot/core/enums.hpp): SPEC's exact strings
// both ways, those strings in the database, and a stored string signoff does
// not know read back as a corrupt row rather than a crash.
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "bot/core/enums.hpp"
#include "bot/core/time.hpp"
#include "handlers/executor.hpp"
#include "storage/audit_values.hpp"
#include "storage/sqlite_store.hpp"
#include "support/commands.hpp"
#include "support/enum_output.hpp"
#include "support/process.hpp"
#include "support/sqlite_db.hpp"

using namespace signoff;

namespace {

// Every value's string is the expected one, in order, and parses back to
// that value; the strings are distinct.
template <class E, std::size_t N>
void check_strings(const std::array<E, N>& all, const std::vector<std::string_view>& want,
                   std::optional<E> (*parse)(std::string_view) noexcept) {
  REQUIRE(all.size() == want.size());
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < all.size(); ++i) {
    INFO(want[i]);
    CHECK(to_string(all[i]) == want[i]);
    CHECK(parse(want[i]) == all[i]);
    CHECK(seen.insert(to_string(all[i])).second);
  }
  // Only the exact strings: no case folding, no padding, no empty value.
  for (std::string_view s : want) {
    std::string upper(s), padded = " " + std::string(s);
    for (auto& c : upper)
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    CHECK_FALSE(parse(upper));
    CHECK_FALSE(parse(padded));
  }
  CHECK_FALSE(parse(""));
}

const time_point t0 = *parse_rfc3339("2026-11-22T12:00:00Z");

}  // namespace

TEST_CASE("enums: to_string and parse round-trip every value with SPEC's exact strings", "[core][enums]") {
  // SPEC "Audit store": `platform` and `outcome`, in SPEC's order.
  check_strings(all_platforms, {"slack", "discord", "mattermost", "shell", "console", "system"},
                parse_platform);
  check_strings(all_outcomes, {"ok", "denied", "invalid", "error"}, parse_outcome);
  // The outbox's kinds (SPEC names cards, card updates, statements and pages).
  check_strings(all_post_kinds, {"card", "card_update", "statement", "page", "notice", "dm", "checkpoint"}, parse_post_kind);
  CHECK_FALSE(parse_platform("irc"));
  CHECK_FALSE(parse_outcome("okay"));
  CHECK_FALSE(parse_post_kind("carrd"));
  // verify's vocabulary is the enums'.
  for (auto p : all_platforms) CHECK(audit::is_spec_platform(to_string(p)));
  for (auto o : all_outcomes) CHECK(audit::is_spec_outcome(to_string(o)));
}

TEST_CASE("enums: the database holds SPEC's strings for platform, outcome and post kind", "[core][enums][storage]") {
  test::temp_dir dir;
  const auto path = dir.file("signoff.db");
  {
    sqlite_store db(path);
    write_transaction tx(db);
    std::int64_t n = 0;
    for (auto p : all_platforms)
      for (auto k : all_post_kinds) {
        outbox_post op;
        op.created_at = t0;
        op.platform = p;
        op.channel = "approvals";
        op.platform_channel = "C1";
        op.kind = k;
        op.subject = "D-" + std::to_string(++n);
        op.text = "text";
        op.requested_by = "alice";
        db.enqueue_post(op);
      }
    for (std::size_t i = 0; i < all_platforms.size(); ++i)
      db.append_audit({all_platforms[i], "", "", "system", "help", "", std::nullopt,
                       all_outcomes[i % all_outcomes.size()], "{}"},
                      t0);
    tx.commit();
  }
  test::sqlite_db raw(path);
  std::vector<test::sqlite_db::row> want_outbox, want_audit;
  for (auto p : all_platforms)
    for (auto k : all_post_kinds) want_outbox.push_back({std::string(to_string(p)), std::string(to_string(k))});
  CHECK(raw.rows("SELECT platform, kind FROM outbox ORDER BY id") == want_outbox);
  for (std::size_t i = 0; i < all_platforms.size(); ++i)
    want_audit.push_back(
        {std::string(to_string(all_platforms[i])), std::string(to_string(all_outcomes[i % all_outcomes.size()]))});
  CHECK(raw.rows("SELECT platform, outcome FROM audit_log ORDER BY seq") == want_audit);

  // And they read back as the values written.
  sqlite_store db(path);
  for (auto p : all_platforms) {
    auto posts = db.pending_posts(p, 100);
    REQUIRE(posts.size() == all_post_kinds.size());
    for (std::size_t i = 0; i < posts.size(); ++i) {
      CHECK(posts[i].platform == p);
      CHECK(posts[i].kind == all_post_kinds[i]);
    }
  }
}

TEST_CASE("enums: an outbox row with a kind signoff does not know is a corrupt row, not a crash",
          "[core][enums][storage]") {
  auto loaded = conf::load_string(test::small_team_toml);
  REQUIRE(loaded.ok());
  test::temp_dir dir;
  const auto path = dir.file("signoff.db");
  sqlite_store db(path);
  executor ex(*loaded.cfg, db, {platform::slack});
  for (int i = 0; i < 3; ++i) REQUIRE(ex.execute(test::as("alice", "/draft new post " + std::to_string(i), platform::slack), t0).outcome == outcome::ok);
  {
    test::sqlite_db raw(path);
    REQUIRE(raw.integer("SELECT count(*) FROM outbox WHERE status = 'pending'") == 3);
    raw.exec("UPDATE outbox SET kind = 'carrd' WHERE id = 1");  // edited by hand, or another build's
  }

  // Inspection names the row.
  try {
    db.pending_posts(platform::slack, 10);
    FAIL("pending_posts read an unknown kind");
  } catch (const corrupt_row& e) {
    CHECK(std::string(e.what()) == "outbox post 1: unknown post kind in the database: 'carrd'");
  }

  // A claim riding a group commit: the command is recorded, the readable
  // posts are claimed, the unreadable one is failed (naming why), so it
  // never comes back to fill a claim.
  executor::riders extra;
  extra.claims.push_back({platform::slack, "owner-1", std::chrono::seconds(60), 10});
  executor::rider_results got;
  auto out = ex.execute_batch({test::as("bob", "/draft show D-1", platform::slack)}, t0, extra, got);
  REQUIRE(got.recorded);
  REQUIRE(out.size() == 1);
  CHECK(out[0].recorded);
  CHECK(out[0].outcome == outcome::ok);
  REQUIRE(got.claimed.size() == 1);
  REQUIRE(got.claimed[0].size() == 2);
  CHECK(got.claimed[0][0].id == 2);
  CHECK(got.claimed[0][1].id == 3);
  CHECK(got.claimed[0][0].kind == post_kind::card);

  test::sqlite_db raw(path);
  CHECK(raw.rows("SELECT status, result FROM outbox WHERE id = 1") ==
        std::vector<test::sqlite_db::row>{
            {"failed", "outbox post 1: unknown post kind in the database: 'carrd'"}});
  CHECK(db.claim_posts(platform::slack, "owner-2", t0 + std::chrono::minutes(2), std::chrono::seconds(60), 10).size() ==
        2);
  CHECK(db.pending_posts(platform::slack, 10).size() == 2);  // readable again: the bad row is finished
  // ...and its failure is in the audit log, like any post that never went out.
  CHECK(raw.rows("SELECT platform, actor, outcome, json_extract(detail, '$.outbox') FROM audit_log "
                 "WHERE action = 'post.failed'") == std::vector<test::sqlite_db::row>{{"slack", "system", "error", "1"}});
}
