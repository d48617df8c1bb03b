#include "bot/runtime/reload.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <csignal>

#include "bot/core/time.hpp"
#include "bot/runtime/pipeline.hpp"
#include "config/config.hpp"
#include "handlers/executor.hpp"

namespace signoff::runtime {

namespace asio = boost::asio;

config_reloader::config_reloader(asio::any_io_executor io, command_pipeline& pipe, executor& exec,
                                 std::string path, std::shared_ptr<spdlog::logger> log, applied_fn applied)
    : pipe_(pipe), exec_(exec), path_(std::move(path)), log_(std::move(log)), applied_(std::move(applied)),
      hup_(io, SIGHUP) {}

void config_reloader::start() { asio::co_spawn(hup_.get_executor(), run(), asio::detached); }

void config_reloader::stop() {
  stopping_ = true;
  boost::system::error_code ignored;
  hup_.cancel(ignored);
}

asio::awaitable<void> config_reloader::run() {
  while (!stopping_) {
    auto [ec, sig] = co_await hup_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec || stopping_) break;
    log_->info("signal {}: reloading the config from {}", sig, path_);
    co_await reload();
  }
}

asio::awaitable<bool> config_reloader::reload() {
  // A small file, read on the io thread; the database thread only swaps.
  auto loaded = conf::load_file(path_);
  for (const auto& d : loaded.diagnostics)
    if (d.warning) log_->warn("{}", conf::format(d));
  auto job = [&] { return exec_.reload(loaded, path_, clock_now()); };
  auto r = co_await pipe_.call(job);
  if (!r.applied) {
    log_->error("config reload refused, the running config stays in force: {}", r.error);
    co_return false;
  }
  log_->info("config reloaded from {} (sha256 {}): {}", path_, r.cfg->sha256, conf::summary(r.changes));
  if (!r.changes.ignored.empty()) {
    std::string keys;
    for (const auto& k : r.changes.ignored) keys += (keys.empty() ? "" : ", ") + k;
    log_->warn("config reload: not applied until a restart: {}", keys);
  }
  if (r.due_changed) pipe_.due_changed();  // reminders started: the scheduler looks again
  if (applied_) applied_(r.cfg);
  co_return true;
}

}  // namespace signoff::runtime
