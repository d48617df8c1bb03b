// The command pipeline (bot/runtime/pipeline.hpp): commands from the io
// thread are executed in group commits on the database thread and answered
// back on the io thread after the commit; other database work runs between
// commits; drain commits what is queued.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <catch2/catch.hpp>

#include <thread>

#include "bot/core/time.hpp"
#include "bot/runtime/pipeline.hpp"
#include "handlers/executor.hpp"
#include "storage/sqlite_store.hpp"
#include "support/commands.hpp"
#include "support/enum_output.hpp"
#include "support/faulty_vfs.hpp"
#include "support/process.hpp"

using namespace signoff;
namespace asio = boost::asio;

namespace {

constexpr const char* toml = test::small_team_toml;

incoming as(const std::string& who, const std::string& line, const std::string& envelope = {}) {
  return test::as(who, line, platform::slack, envelope);
}

}  // namespace

TEST_CASE("pipeline: commands are answered after their commit, one after another and in groups",
          "[runtime][pipeline]") {
  auto loaded = conf::load_string(toml);
  REQUIRE(loaded.ok());
  test::temp_dir dir;
  sqlite_store db(dir.file("signoff.db"));
  executor exec(*loaded.cfg, db, {platform::slack});
  asio::io_context io(1);
  runtime::command_pipeline pipe(io.get_executor(), exec, db);
  std::vector<execution> answered;
  const auto io_thread = std::this_thread::get_id();
  int due_changes = 0;  // only the approval can bring a due time (its embargo) forward
  pipe.on_due_changed([&] { ++due_changes; });
  // One command, then (from its completion) a second, then a burst of ten.
  pipe.submit(as("alice", "/draft new first", "e1"), [&](execution r) {
    CHECK(std::this_thread::get_id() == io_thread);
    answered.push_back(r);
    pipe.confirmed(platform::slack, "e1");
    pipe.submit(as("bob", "/approve D-1", "e2"), [&](execution r2) {
      answered.push_back(r2);
      for (int i = 0; i < 10; ++i)
        pipe.submit(as("alice", "/draft new burst " + std::to_string(i)), [&](execution r3) {
          answered.push_back(r3);
          if (answered.size() == 12) pipe.drain([&] { io.stop(); });
        });
    });
  });
  asio::steady_timer guard(io, std::chrono::seconds(20));
  guard.async_wait([&](auto) { io.stop(); });
  io.run();
  REQUIRE(answered.size() == 12);
  for (const auto& r : answered) {
    CHECK(r.recorded);
    CHECK(r.outcome == outcome::ok);
  }
  CHECK(answered[1].reply.find("approved") != std::string::npos);
  CHECK(pipe.batches() >= 3);
  CHECK(pipe.batches() <= 12);
  CHECK(due_changes == 1);
  CHECK(pipe.stats().commands == 12);
  CHECK(db.unconfirmed_envelopes(platform::slack, time_point{}).size() == 1);  // e2 was never confirmed
}

TEST_CASE("pipeline: call runs database work on the database thread and resumes on the io thread",
          "[runtime][pipeline]") {
  auto loaded = conf::load_string(toml);
  REQUIRE(loaded.ok());
  test::temp_dir dir;
  sqlite_store db(dir.file("signoff.db"));
  executor exec(*loaded.cfg, db, {platform::slack});
  asio::io_context io(1);
  runtime::command_pipeline pipe(io.get_executor(), exec, db);
  const auto io_thread = std::this_thread::get_id();
  std::thread::id job_thread, resumed_thread;
  std::int64_t drafts = -1;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    drafts = co_await pipe.call([&] {
      job_thread = std::this_thread::get_id();
      return static_cast<std::int64_t>(db.list_drafts(std::nullopt).size());
    });
    resumed_thread = std::this_thread::get_id();
    pipe.drain([&] { io.stop(); });
  }, asio::detached);
  io.run();
  CHECK(drafts == 0);
  CHECK(job_thread != io_thread);
  CHECK(resumed_thread == io_thread);
}

TEST_CASE("pipeline: a command, a delivery record and an outbox claim ride one group commit and one fsync",
          "[runtime][pipeline]") {
  auto loaded = conf::load_string(toml);
  REQUIRE(loaded.ok());
  test::temp_dir dir;
  auto& faults = test::faults();
  faults.clear();
  sqlite_store db(dir.file("signoff.db"), sqlite_store::options{5000, test::faulty_vfs_name()});
  executor exec(*loaded.cfg, db, {platform::slack});
  asio::io_context io(1);
  runtime::command_pipeline pipe(io.get_executor(), exec, db);
  // A card to deliver: enqueued by a first command.
  REQUIRE(exec.execute(as("alice", "/draft new first"), *parse_rfc3339("2026-12-01T10:00:00Z")).recorded);
  auto pending = db.pending_posts(platform::slack, 10);
  REQUIRE(pending.size() == 1);
  long syncs = 0;
  std::vector<outbox_post> claimed;
  bool delivered = false;
  execution second;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    const long before = faults.syncs.load();
    // All three queued before the committer runs: one group.
    pipe.submit(as("alice", "/draft new second"), [&](execution r) { second = std::move(r); });
    auto claim = [&]() -> asio::awaitable<void> {
      claimed = co_await pipe.claim(platform::slack, "test-owner", std::chrono::seconds(60), 10);
    };
    asio::co_spawn(io, claim(), asio::detached);
    delivered = co_await pipe.record_delivery(pending[0], true, "1700000000.000100");
    while (claimed.empty()) co_await asio::post(io, asio::use_awaitable);
    syncs = faults.syncs.load() - before;
    pipe.drain([&] { io.stop(); });
  }, asio::detached);
  io.run();
  CHECK(second.recorded);
  CHECK(delivered);
  CHECK(pipe.batches() == 1);
  CHECK(syncs == 1);
  // The claim ran after the command in that commit: the new card is in it.
  REQUIRE(claimed.size() == 1);
  CHECK(claimed[0].subject == "D-2");
  CHECK(db.sent_card(platform::slack, "C1", "D-1") == std::optional<std::string>("1700000000.000100"));
}

TEST_CASE("executor: a refused delivery is recorded as denied each time and changes nothing", "[runtime][executor]") {
  auto loaded = conf::load_string(toml);
  REQUIRE(loaded.ok());
  test::temp_dir dir;
  sqlite_store db(dir.file("signoff.db"));
  executor exec(*loaded.cfg, db, {platform::slack});
  const auto t0 = clock_now();
  REQUIRE(exec.execute(as("alice", "/draft new hello", "m1"), t0).outcome == outcome::ok);
  // A forged click: bob's approval, refused by the adapter; then the same one replayed.
  for (int i = 0; i < 2; ++i) {
    auto in = as("bob", "/approve D-1@1", "trigger-1");
    in.refusal = "the button's signature does not check out";
    auto r = exec.execute(in, t0);
    CHECK(r.recorded);
    CHECK_FALSE(r.duplicate);
    CHECK(r.outcome == outcome::denied);
    CHECK(r.reply.find("signature") != std::string::npos);
  }
  audit::filter f;
  f.action = "draft.approve";
  auto rows = db.query_audit(f);
  REQUIRE(rows.size() == 2);
  for (const auto& row : rows) {
    CHECK(row.outcome == "denied");
    CHECK(row.actor == "bob");
    CHECK(row.subject == "D-1");
    CHECK(row.detail.find("signature") != std::string::npos);
    CHECK(row.detail.find("trigger-1") != std::string::npos);  // detail.envelope still names the click
  }
  // The draft is still pending: nothing ran.
  auto show = exec.execute(as("alice", "/draft show D-1"), t0);
  CHECK(show.reply.find("pending") != std::string::npos);
  // The envelope was not remembered: the real click with that ID still runs.
  auto real = exec.execute(as("bob", "/approve D-1@1", "trigger-1"), t0);
  CHECK_FALSE(real.duplicate);
  CHECK(real.outcome == outcome::ok);
}

TEST_CASE("pipeline: the newest delivery seen on a platform", "[runtime][pipeline]") {
  auto loaded = conf::load_string(toml);
  REQUIRE(loaded.ok());
  test::temp_dir dir;
  sqlite_store db(dir.file("signoff.db"));
  executor exec(*loaded.cfg, db, {platform::slack});
  CHECK_FALSE(db.last_envelope_at(platform::mattermost));
  const auto t0 = clock_now() - std::chrono::minutes(5);
  REQUIRE(exec.execute(test::as("alice", "/draft new a", platform::mattermost, "p1"), t0).recorded);
  REQUIRE(exec.execute(test::as("alice", "/draft new b", platform::mattermost, "p2"), t0 + std::chrono::seconds(7)).recorded);
  REQUIRE(exec.execute(test::as("alice", "/draft new c", platform::slack, "s1"), t0 + std::chrono::seconds(9)).recorded);
  auto at = db.last_envelope_at(platform::mattermost);
  REQUIRE(at);
  CHECK(std::chrono::abs(*at - (t0 + std::chrono::seconds(7))) < std::chrono::milliseconds(2));
  asio::io_context io(1);
  runtime::command_pipeline pipe(io.get_executor(), exec, db);
  std::optional<time_point> seen;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    seen = co_await pipe.last_delivery_seen(platform::slack);
    pipe.drain([&] { io.stop(); });
  }, asio::detached);
  io.run();
  REQUIRE(seen);
  CHECK(std::chrono::abs(*seen - (t0 + std::chrono::seconds(9))) < std::chrono::milliseconds(2));
}

TEST_CASE("pipeline: a platform's stream position is saved and read back, one per platform", "[runtime][pipeline]") {
  auto loaded = conf::load_string(toml);
  REQUIRE(loaded.ok());
  test::temp_dir dir;
  const auto path = dir.file("signoff.db");
  std::optional<std::string> before, after, other;
  bool saved = false;
  {
    sqlite_store db(path);
    executor exec(*loaded.cfg, db, {platform::slack});
    asio::io_context io(1);
    runtime::command_pipeline pipe(io.get_executor(), exec, db);
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
      before = co_await pipe.stream_position(platform::mattermost);
      saved = co_await pipe.save_stream_position(platform::mattermost, "1764612000000");
      saved = saved && co_await pipe.save_stream_position(platform::mattermost, "1764612000123");
      other = co_await pipe.stream_position(platform::slack);
      pipe.drain([&] { io.stop(); });
    }, asio::detached);
    io.run();
  }
  CHECK_FALSE(before);
  CHECK(saved);
  CHECK_FALSE(other);
  // Durable: a new process on the same file reads the newest one.
  sqlite_store db(path);
  auto p = db.stream_position(platform::mattermost);
  REQUIRE(p);
  CHECK(p->first == "1764612000123");
  CHECK(std::chrono::abs(p->second - clock_now()) < std::chrono::minutes(1));
}
