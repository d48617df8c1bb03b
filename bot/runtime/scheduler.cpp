#include "bot/runtime/scheduler.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

#include "bot/runtime/pipeline.hpp"
#include "handlers/executor.hpp"

namespace signoff::runtime {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr auto recheck = 30s;     // another process may share the database
constexpr auto after_error = 1s;  // the database is failing: try again soon

}  // namespace

scheduler::scheduler(asio::any_io_executor io, command_pipeline& pipe, executor& exec,
                     std::shared_ptr<spdlog::logger> log, std::function<void()> posts_enqueued)
    : pipe_(pipe), exec_(exec), log_(std::move(log)), posts_enqueued_(std::move(posts_enqueued)), wake_(io),
      io_(io) {
  pipe_.on_due_changed([this] { wake_.notify(); });  // a command may have brought a due time forward
}

void scheduler::start() { asio::co_spawn(io_, run(), asio::detached); }

void scheduler::stop() {
  stopping_ = true;
  wake_.notify();
}

asio::awaitable<void> scheduler::tick() { co_await round(); }

asio::awaitable<std::chrono::milliseconds> scheduler::round() {
  struct result {
    executor::tick_result r;
    std::optional<time_point> next;
  };
  auto rd = co_await pipe_.call([&] {
    result out;
    out.r = exec_.run_due(clock_now());
    try {
      out.next = exec_.next_due();
    } catch (const std::exception&) {
      out.next = clock_now() + after_error;
    }
    return out;
  });
  for (const auto& f : rd.r.fired) log_->info("timer: {}", f.substr(0, f.find('\n')));
  if (!rd.r.fired.empty() && posts_enqueued_) posts_enqueued_();
  for (const auto& k : rd.r.skipped) log_->error("timer row {}", k);
  std::chrono::milliseconds wait = recheck;
  if (!rd.r.error.empty()) {
    log_->error("timer actions postponed, database: {}", rd.r.error);
    wait = after_error;
  }
  if (rd.next)
    wait = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(*rd.next - clock_now()), 0ms, wait);
  co_return wait;
}

asio::awaitable<void> scheduler::run() {
  while (!stopping_) {
    const auto wait = co_await round();
    if (stopping_) break;
    co_await wake_.wait_until(std::chrono::steady_clock::now() + wait);
  }
}

}  // namespace signoff::runtime
