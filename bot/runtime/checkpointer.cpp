#include "bot/runtime/checkpointer.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "bot/core/note.hpp"
#include "bot/runtime/pipeline.hpp"
#include "handlers/executor.hpp"

namespace signoff::runtime {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr auto after_error = 5s;  // the database is failing: try again, not in a loop

}  // namespace

checkpointer::checkpointer(asio::any_io_executor io, command_pipeline& pipe, executor& exec,
                           const note::signer& key, std::int64_t every, std::chrono::milliseconds interval,
                           std::shared_ptr<spdlog::logger> log, std::function<void()> posts_enqueued)
    : pipe_(pipe), exec_(exec), key_(key), every_(std::max<std::int64_t>(every, 1)), interval_(interval),
      log_(std::move(log)), posts_enqueued_(std::move(posts_enqueued)), wake_(io), io_(io) {
  // The count rule is checked against the pipeline's stats after each group
  // commit: no database work until it may be met.
  pipe_.on_committed([this] {
    if (running_ && !busy_ && pipe_.stats().log_size >= threshold_) wake_.notify();
  });
}

void checkpointer::start() {
  running_ = true;
  asio::co_spawn(io_, run(), asio::detached);
}

void checkpointer::stop() {
  stopping_ = true;
  wake_.notify();
}

asio::awaitable<bool> checkpointer::attempt(std::int64_t min_new) {
  struct outcome {
    executor::checkpoint_result r;
    std::string error;
    std::int64_t log_size = 0;
  };
  busy_ = true;
  auto o = co_await pipe_.call([&] {
    outcome out;
    try {
      out.r = exec_.checkpoint(key_, min_new, clock_now());
    } catch (const std::exception& e) {
      out.error = e.what();
    }
    return out;
  });
  busy_ = false;
  if (!o.error.empty()) {
    ++stats_.failures;
    log_->error("audit checkpoint not made: {}", o.error);
    co_return false;
  }
  const std::int64_t log_size = pipe_.stats().log_size;
  if (!o.r.made) {
    // Not enough yet: look again once the records still missing may exist.
    threshold_ = log_size + std::max<std::int64_t>(every_ - o.r.pending, 1);
    co_return false;
  }
  ++stats_.made;
  stats_.last_size = o.r.size;
  // Its own record and post deliveries do not count toward the next one.
  threshold_ = o.r.size + every_;
  log_->info("audit checkpoint: {} records, root {}{}", o.r.size, o.r.root_hash,
             o.r.posted ? "" : " (posted nowhere: no platform has an ID for [audit] channel)");
  if (o.r.posted && posts_enqueued_) posts_enqueued_();
  co_return true;
}

asio::awaitable<void> checkpointer::final_checkpoint() {
  while (busy_) co_await asio::post(io_, asio::use_awaitable);  // the loop's attempt finishes first
  co_await attempt(1);
}

asio::awaitable<void> checkpointer::run() {
  auto next_by_time = std::chrono::steady_clock::now() + interval_;
  bool failed = !co_await attempt(every_) && stats_.failures > 0;
  while (!stopping_) {
    auto until = failed ? std::min(next_by_time, std::chrono::steady_clock::now() + after_error) : next_by_time;
    co_await wake_.wait_until(until);
    if (stopping_) break;
    const bool by_time = std::chrono::steady_clock::now() >= next_by_time;
    const auto failures = stats_.failures;
    const bool made = co_await attempt(by_time ? 1 : every_);
    failed = stats_.failures != failures;
    if (made || (by_time && !failed)) next_by_time = std::chrono::steady_clock::now() + interval_;
  }
  running_ = false;
}

}  // namespace signoff::runtime
