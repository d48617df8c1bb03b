#pragma once
// Live config reload on SIGHUP (SPEC "Configuration"), the one mechanism
// `run` and `shell` share. The file is loaded as by check-config on the io
// thread; the swap is a job on the pipeline's database thread, so it lands
// between two group commits and every command and timer runs wholly under
// the old config or wholly under the new one (executor::reload records
// config.reload there). Afterwards `applied` runs on the io executor with
// the new config, for the adapters' own snapshots. A file with errors, or a
// reload that cannot be recorded, changes nothing.
// Threads: every member is called on the io executor.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/signal_set.hpp>

#include <functional>
#include <memory>
#include <string>

namespace spdlog {
class logger;
}

namespace signoff {
class executor;
namespace conf {
struct config;
}
}  // namespace signoff

namespace signoff::runtime {

class command_pipeline;

class config_reloader {
 public:
  using applied_fn = std::function<void(std::shared_ptr<const conf::config>)>;
  // `pipe` and `exec` (the pipeline's executor, used only in its database
  // jobs) outlive the reloader. `log`: the outcome at info (a reload) or
  // error (a refused file), its warnings at warn.
  config_reloader(boost::asio::any_io_executor io, command_pipeline& pipe, executor& exec, std::string path,
                  std::shared_ptr<spdlog::logger> log, applied_fn applied);
  config_reloader(const config_reloader&) = delete;
  config_reloader& operator=(const config_reloader&) = delete;

  // Reloads on every SIGHUP from now on (one at a time: a SIGHUP during a
  // reload starts another after it).
  void start();
  // No reload after this (one in flight completes).
  void stop();
  // One reload now; resumes once it is in force (true) or refused (false).
  boost::asio::awaitable<bool> reload();

 private:
  boost::asio::awaitable<void> run();

  command_pipeline& pipe_;
  executor& exec_;
  std::string path_;
  std::shared_ptr<spdlog::logger> log_;
  applied_fn applied_;
  boost::asio::signal_set hup_;
  bool stopping_ = false;
};

}  // namespace signoff::runtime
