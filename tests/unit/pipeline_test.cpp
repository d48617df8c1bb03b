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

#include "bot/runtime/pipeline.hpp"
#include "storage/sqlite_store.hpp"
#include "support/process.hpp"

using namespace signoff;
namespace asio = boost::asio;

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
[roles]
draft = ["drafter", "approver"]
approve = ["approver"]
[approval.standard]
stages = [{ name = "comms", roles = ["approver"], count = 1 }]
[channels]
approvals = { slack = "C1" }
)";

incoming as(const std::string& who, const std::string& line, const std::string& envelope = {}) {
  incoming in;
  in.who.platform = "slack";
  in.who.platform_user = "U-" + who;
  in.who.person = who;
  in.who.envelope = envelope;
  in.line = line;
  return in;
}

}  // namespace

TEST_CASE("pipeline: commands are answered after their commit, one after another and in groups",
          "[runtime][pipeline]") {
  auto loaded = conf::load_string(toml);
  REQUIRE(loaded.ok());
  test::temp_dir dir;
  sqlite_store db(dir.file("signoff.db"));
  executor exec(*loaded.cfg, db, {"slack"});
  asio::io_context io(1);
  runtime::command_pipeline pipe(io.get_executor(), exec);
  std::vector<execution> answered;
  const auto io_thread = std::this_thread::get_id();
  int commits = 0;
  pipe.on_commit([&] { ++commits; });
  // One command, then (from its completion) a second, then a burst of ten.
  pipe.submit(as("alice", "/draft new first", "e1"), [&](execution r) {
    CHECK(std::this_thread::get_id() == io_thread);
    answered.push_back(r);
    pipe.confirmed("slack", "e1");
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
    CHECK(r.outcome == "ok");
  }
  CHECK(answered[1].reply.find("approved") != std::string::npos);
  CHECK(pipe.batches() >= 3);
  CHECK(pipe.batches() <= 12);
  CHECK(commits == static_cast<int>(pipe.batches()));
  CHECK(pipe.stats().commands == 12);
  CHECK(db.unconfirmed_envelopes("slack", time_point{}).size() == 1);  // e2 was never confirmed
}

TEST_CASE("pipeline: call runs database work on the database thread and resumes on the io thread",
          "[runtime][pipeline]") {
  auto loaded = conf::load_string(toml);
  REQUIRE(loaded.ok());
  test::temp_dir dir;
  sqlite_store db(dir.file("signoff.db"));
  executor exec(*loaded.cfg, db, {"slack"});
  asio::io_context io(1);
  runtime::command_pipeline pipe(io.get_executor(), exec);
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
