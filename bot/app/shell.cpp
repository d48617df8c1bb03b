#include "bot/app/shell.hpp"

#include <boost/asio/io_context.hpp>
#include <spdlog/details/log_msg.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>

#include <csignal>
#include <memory>
#include <mutex>

#include "bot/adapters/shell.hpp"
#include "bot/app/signing.hpp"
#include "bot/core/time.hpp"
#include "bot/runtime/checkpointer.hpp"
#include "bot/runtime/pipeline.hpp"
#include "bot/runtime/reload.hpp"
#include "bot/runtime/scheduler.hpp"
#include "config/config.hpp"
#include "handlers/executor.hpp"
#include "storage/sqlite_store.hpp"

namespace signoff {
namespace {

using adapters::write_all;

// The scheduler's messages on the shell's standard error, as the shell's own
// ("signoff shell: timer row …"), never on standard output.
class fd_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit fd_sink(int fd) : fd_(fd) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t buf;
    formatter_->format(msg, buf);
    write_all(fd_, std::string_view(buf.data(), buf.size()));
  }
  void flush_() override {}

 private:
  int fd_;
};

std::shared_ptr<spdlog::logger> shell_logger(int fd, spdlog::level::level_enum level = spdlog::level::warn) {
  auto log = std::make_shared<spdlog::logger>("shell", std::make_shared<fd_sink>(fd));
  log->set_pattern("signoff shell: %v");
  log->set_level(level);  // the scheduler's: what fired is printed as posts, not logged
  return log;
}

}  // namespace

int run_shell(const shell_options& o) {
  std::signal(SIGPIPE, SIG_IGN);
  auto loaded = conf::load_file(o.config_path);
  for (const auto& d : loaded.diagnostics) write_all(o.err_fd, conf::format(d) + "\n");
  if (!loaded.ok()) {
    write_all(o.err_fd, "signoff shell: refusing to start on an invalid config (" + o.config_path + ")\n");
    return 2;
  }
  // Shared: a SIGHUP reload replaces it whole (runtime::config_reloader).
  auto shared = std::make_shared<const conf::config>(std::move(*loaded.cfg));
  const auto& cfg = *shared;
  std::string as = o.as.empty() ? (cfg.people.empty() ? "" : cfg.people.front().id) : o.as;
  if (!cfg.find_person(as)) {
    write_all(o.err_fd, "signoff shell: --as '" + as + "' is not a person in " + o.config_path + "\n");
    return 2;
  }
  std::string key_problem;
  auto signer = app::load_signer(cfg, key_problem);
  if (!key_problem.empty()) {
    write_all(o.err_fd, "signoff shell: cannot load the audit signing key: " + key_problem + "\n");
    return 2;
  }
  std::string path = o.db_path.empty() ? cfg.storage.path : o.db_path;
  try {
    sqlite_store db(path, sqlite_store::options{static_cast<int>(cfg.storage.busy_timeout.count()), nullptr});
    if (auto w = db.permission_warning(); !w.empty())
      write_all(o.err_fd, "signoff shell: warning: " + w + "\n");
    executor exec(shared, db, {platform::shell});
    try {
      exec.record_config(false, o.config_path, clock_now());
    } catch (const std::exception& e) {
      write_all(o.err_fd, std::string("signoff shell: cannot record config.load: ") + e.what() + "\n");
      return 1;
    }

    boost::asio::io_context ioc(1);
    // From here on every database operation runs on the pipeline's thread.
    runtime::command_pipeline pipe(ioc.get_executor(), exec, db);
    std::unique_ptr<adapters::shell_adapter> shell;
    runtime::scheduler timers(ioc.get_executor(), pipe, exec, shell_logger(o.err_fd),
                              [&] { shell->posts_enqueued(); });
    // Reloads are reported on standard error, as the shell's own messages.
    auto reload_log = shell_logger(o.err_fd, spdlog::level::info);
    runtime::config_reloader reloader(ioc.get_executor(), pipe, exec, o.config_path, reload_log,
                                      [&](std::shared_ptr<const conf::config> next) {
                                        if (!next->find_person(as))
                                          reload_log->warn("--as '{}' is no longer a person in {}: lines "
                                                           "without @name now act as an unknown user",
                                                           as, o.config_path);
                                      });
    std::unique_ptr<runtime::checkpointer> checkpoints;
    shell = std::make_unique<adapters::shell_adapter>(
        ioc.get_executor(), pipe, timers, as, adapters::shell_fds{o.in_fd, o.out_fd, o.err_fd}, [&] {
          // End of input: stop the timers, commit what is queued, exit 0.
          timers.stop();
          if (checkpoints) checkpoints->stop();
          reloader.stop();
          shell->stop([&] { pipe.drain([&] { ioc.stop(); }); });
        });
    if (signer) {
      checkpoints = std::make_unique<runtime::checkpointer>(
          ioc.get_executor(), pipe, exec, *signer, cfg.audit->checkpoint_every,
          std::chrono::duration_cast<std::chrono::milliseconds>(cfg.audit->checkpoint_interval),
          shell_logger(o.err_fd), [&] { shell->posts_enqueued(); });
      shell->sign_at_end(checkpoints.get());
    }
    reloader.start();
    shell->start();
    if (checkpoints) checkpoints->start();
    timers.start();
    ioc.run();
    return 0;
  } catch (const std::exception& e) {
    write_all(o.err_fd, std::string("signoff shell: ") + e.what() + "\n");
    return 1;
  }
}

}  // namespace signoff
