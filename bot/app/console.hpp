#pragma once
// The audit console served by `signoff run` (SPEC "Audit console"): a
// read-only web view for auditors and admins, logged into through chat.
//
// Threads: the console has a thread of its own, with its own io_context, its
// HTTP server and its own read-only SQLite connection, so a slow page never
// delays a command. What it writes (console.login and console.export
// records, sessions, logout) goes through the command pipeline, the one
// writer, like everything else. The public members are called on the main
// io executor's thread.
#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
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
namespace runtime {
class command_pipeline;
}
}  // namespace signoff

namespace signoff::app {

class audit_console {
 public:
  // `cfg` has a [console] section. `verifier_key` is shown on the chain page
  // ('' without [audit]). Binds [console] listen and starts the console's
  // thread; throws std::runtime_error naming the address or the certificate
  // problem.
  audit_console(std::shared_ptr<const conf::config> cfg, runtime::command_pipeline& pipe, executor& exec,
                boost::asio::any_io_executor io, std::string verifier_key, std::shared_ptr<spdlog::logger> log);
  ~audit_console();  // stop()
  audit_console(const audit_console&) = delete;
  audit_console& operator=(const audit_console&) = delete;

  std::uint16_t port() const;
  // A reload's config: who may audit from now on (sessions of people who
  // lost the role stop working at once; the reload also revokes them).
  void reconfigure(std::shared_ptr<const conf::config> next);
  // Stops serving and joins the console's thread. Requests in flight finish
  // first (their writes to the pipeline complete before it drains).
  void stop();

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace signoff::app
