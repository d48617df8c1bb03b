// The platform-neutral outbox worker (bot/runtime/outbox.hpp) with a fake
// post_sender: no sockets. It records each delivery once (post.sent /
// post.failed), reports failures, pauses after a retry answer, and hands a
// card update the message ID of the card sent before.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <deque>

#include "bot/core/time.hpp"
#include "bot/runtime/outbox.hpp"
#include "bot/runtime/pipeline.hpp"
#include "handlers/executor.hpp"
#include "storage/audit_log.hpp"
#include "storage/sqlite_store.hpp"
#include "support/commands.hpp"
#include "support/enum_output.hpp"
#include "support/process.hpp"

using namespace signoff;
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

struct fake_sender final : runtime::post_sender {
  struct call {
    std::int64_t id;
    post_kind kind;
    std::optional<std::string> card_id;
    std::chrono::steady_clock::time_point at;
  };
  std::vector<call> calls;
  std::deque<runtime::delivery> script;  // answers in order; then "sent"
  std::vector<std::pair<std::int64_t, std::string>> failures;
  int next_ts = 1;

  asio::awaitable<runtime::delivery> send(const outbox_post& p, std::optional<std::string> card_id) override {
    calls.push_back({p.id, p.kind, card_id, std::chrono::steady_clock::now()});
    if (!script.empty()) {
      auto d = script.front();
      script.pop_front();
      co_return d;
    }
    co_return runtime::delivery{runtime::delivery::status::sent, "ts-" + std::to_string(next_ts++), {}};
  }
  void report_failure(const outbox_post& p, const std::string& error) override {
    failures.emplace_back(p.id, error);
  }
};

}  // namespace

TEST_CASE("outbox worker: sends, records each delivery once, reports failures, honours pauses",
          "[runtime][outbox]") {
  auto loaded = conf::load_string(test::small_team_toml);
  REQUIRE(loaded.ok());
  test::temp_dir dir;
  sqlite_store db(dir.file("signoff.db"));
  executor exec(*loaded.cfg, db, {platform::slack});
  const auto t0 = *parse_rfc3339("2026-12-01T10:00:00Z");
  // D-1's card, then its update (approved), and D-2's card: three posts, two channels' worth of
  // pacing on one channel.
  REQUIRE(exec.execute(test::as("alice", "/draft new first"), t0).recorded);
  REQUIRE(exec.execute(test::as("bob", "/approve D-1"), t0).recorded);
  REQUIRE(exec.execute(test::as("alice", "/draft new second"), t0).recorded);
  REQUIRE(db.pending_posts(platform::slack, 10).size() == 3);

  asio::io_context io(1);
  runtime::command_pipeline pipe(io.get_executor(), exec, db);
  fake_sender sender;
  // The first attempt of the first post: retry after a 300 ms pause (a 429);
  // D-2's card then fails for good.
  sender.script.push_back({runtime::delivery::status::retry, "", 300ms});
  sender.script.push_back({runtime::delivery::status::sent, "ts-card-1", {}});
  sender.script.push_back({runtime::delivery::status::sent, "ts-card-1", {}});
  sender.script.push_back({runtime::delivery::status::failed, "channel_not_found", {}});
  runtime::outbox_worker worker(io.get_executor(), pipe, platform::slack, 50ms, sender, spdlog::default_logger());
  worker.start();
  // Wait (through the pipeline: the store is the database thread's) until
  // nothing is pending, then shut down as `run` does.
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    asio::steady_timer poll(io);
    for (int i = 0; i < 400; ++i) {
      const auto pending = co_await pipe.call([&] { return db.pending_posts(platform::slack, 10).size(); });
      if (pending == 0) break;
      poll.expires_after(20ms);
      co_await poll.async_wait(asio::use_awaitable);
    }
    worker.stop();
    co_await worker.release();
    pipe.drain([&] { io.stop(); });
  }, asio::detached);
  asio::steady_timer guard(io, 10s);
  guard.async_wait([&](auto) { io.stop(); });
  io.run();

  REQUIRE(sender.calls.size() == 4);
  // The retry waited for the pause.
  CHECK(sender.calls[1].id == sender.calls[0].id);
  CHECK(sender.calls[1].at - sender.calls[0].at >= 290ms);
  // The card update was handed the message ID the card got.
  CHECK(sender.calls[2].kind == post_kind::card_update);
  CHECK(sender.calls[2].card_id == std::optional<std::string>("ts-card-1"));
  // Pacing: posts to one channel at least the interval apart.
  CHECK(sender.calls[3].at - sender.calls[2].at >= 45ms);
  // Each delivery recorded exactly once, the failure reported once.
  sql::db check_db(dir.file("signoff.db"));
  auto count = [&](const char* q) {
    auto s = check_db.prepare(q);
    s.step();
    return s.i64(0);
  };
  CHECK(count("SELECT count(*) FROM audit_log WHERE action = 'post.sent'") == 2);
  CHECK(count("SELECT count(*) FROM audit_log WHERE action = 'post.failed'") == 1);
  CHECK(count("SELECT count(*) FROM outbox WHERE status = 'pending'") == 0);
  REQUIRE(sender.failures.size() == 1);
  // The requester is told in the same words on every platform.
  CHECK_THAT(sender.failures[0].second, Catch::StartsWith("signoff could not post the ") &&
                                            Catch::Contains(": channel_not_found. The failure is recorded in the audit log."));
  CHECK(audit::verify(check_db).ok);
}

TEST_CASE("outbox: a platform's answer to a send maps to sent, retry or failed the same everywhere",
          "[runtime][outbox]") {
  using st = runtime::delivery::status;
  auto d = runtime::delivery_of(false, 201, {}, "m1", "unused");
  CHECK(d.outcome == st::sent);
  CHECK(d.result == "m1");
  d = runtime::delivery_of(false, 429, std::chrono::milliseconds(1500), "", "HTTP 429");
  CHECK(d.outcome == st::retry);
  CHECK(d.pause == std::chrono::milliseconds(1500));
  d = runtime::delivery_of(true, 0, {}, "", "connection refused");
  CHECK(d.outcome == st::retry);
  CHECK(d.pause == std::chrono::seconds(2));
  d = runtime::delivery_of(false, 503, {}, "", "HTTP 503");
  CHECK(d.outcome == st::retry);
  d = runtime::delivery_of(false, 403, {}, "", "HTTP 403: not a member");
  CHECK(d.outcome == st::failed);
  CHECK(d.result == "HTTP 403: not a member");
}
