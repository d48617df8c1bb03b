#pragma once
// The shell adapter: the whole bot with a terminal for a platform (SPEC
// "Command-line interface", `signoff shell`). It reads standard input one
// line at a time, submits each command to the command pipeline, prints the
// reply once the decision is durable, then the posts it caused (and any
// other post for the terminal: timer notices), before the next line.
// Everything runs on one executor but the reader of standard input, which
// has a thread of its own (see shell.cpp); not thread-safe.
#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "bot/runtime/adapter.hpp"

namespace signoff::runtime {
class checkpointer;
class command_pipeline;
class scheduler;
}  // namespace signoff::runtime

namespace signoff::adapters {

// Writes all of `s` to `fd`, retrying on EINTR and short writes. Returns
// false when the descriptor is closed (EPIPE) or fails.
bool write_all(int fd, std::string_view s);

struct shell_fds {
  int in = 0;   // commands: a terminal, a pipe or a regular file
  int out = 1;  // replies and posts
  int err = 2;  // what the operator should know (a command not recorded)
};

class shell_adapter final : public runtime::adapter {
 public:
  // `pipe` and `timers` outlive the adapter. `as`: the person that lines
  // without an `@name` prefix act as (checked by the caller). `ended` runs
  // on the executor once input ended, or standard output is gone, and
  // everything read was answered and printed.
  shell_adapter(boost::asio::any_io_executor ex, runtime::command_pipeline& pipe, runtime::scheduler& timers,
                std::string as, shell_fds fds, std::function<void()> ended);
  ~shell_adapter() override;
  shell_adapter(const shell_adapter&) = delete;
  shell_adapter& operator=(const shell_adapter&) = delete;

  std::string_view name() const override { return "shell"; }
  // Greets on a terminal and starts reading.
  void start() override;
  // Stops reading; `done` once the line in hand is answered and printed.
  void stop(std::function<void()> done) override;
  // SPEC: the shell signs a last checkpoint at the end of its input, and
  // prints its post like any other. `c` outlives the adapter.
  void sign_at_end(runtime::checkpointer* c);
  // A timer enqueued posts: they are printed before the next line.
  void posts_enqueued() override;
  // "connected" while reading, then "stopped".
  runtime::adapter_status status() const override;
  // The shell has no metrics of its own.
  void metrics(runtime::metrics_text&) const override {}

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace signoff::adapters
