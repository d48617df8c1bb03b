#include "bot/runtime/late_confirm.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <spdlog/spdlog.h>

#include "bot/core/time.hpp"
#include "bot/runtime/pipeline.hpp"

namespace signoff::runtime {

namespace asio = boost::asio;

std::string late_reply_text(const std::string& reply) {
  return "signoff restarted before it could answer you. Your command was recorded:\n" + reply;
}

asio::awaitable<std::size_t> confirm_late(command_pipeline& pipe, late_options o, late_reply_fn send,
                                          std::shared_ptr<spdlog::logger> log) {
  const auto now = clock_now();
  const time_point since = now - o.window, forget_before = now - o.keep;
  auto found = co_await pipe.late_confirmations(o.platform, since, forget_before);
  if (!found.error.empty()) {
    log->error("cannot read unconfirmed commands: {}", found.error);
    co_return 0;
  }
  auto ex = co_await asio::this_coro::executor;
  std::size_t started = 0;
  for (auto& row : found.rows) {
    if (row.response_url.empty()) {
      pipe.confirmed(o.platform, row.envelope_id);
      continue;
    }
    ++started;
    log->info("confirming delivery {} late: its reply may have been lost in a restart", row.envelope_id);
    asio::co_spawn(
        ex,
        [&pipe, platform = o.platform, send, row]() -> asio::awaitable<void> {
          if (co_await send(row, late_reply_text(row.reply))) pipe.confirmed(platform, row.envelope_id);
        },
        [](std::exception_ptr) {});
  }
  co_return started;
}

}  // namespace signoff::runtime
