#pragma once
// The scheduler (ARCHITECTURE "Escalation and embargo timers live in the
// database; one scheduler sleeps until the earliest due time"): escalation
// levels and embargo releases are rows in the database. A round fires what
// is due, on the pipeline's database thread, and reads the next due time;
// the loop then sleeps until that time, capped at 30 s (another process may
// share the database and arm a timer), or until a group commit in which a
// command may have brought a due time forward (command_pipeline::
// on_due_changed), or 1 s after a database failure.
// When a round fired something, `posts_enqueued` tells the adapters.
// Used by `run` and by the shell.
// Threads: every member is called on the io executor.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <functional>
#include <memory>

#include "bot/runtime/event.hpp"

namespace spdlog {
class logger;
}

namespace signoff {
class executor;
}

namespace signoff::runtime {

class command_pipeline;

class scheduler {
 public:
  // `pipe`, `exec` (the pipeline's executor, used only inside its database
  // jobs) and the scheduler outlive the loop. Registers an on_due_changed
  // hook on `pipe`. `log`: "timer: …" at info, skipped rows and database
  // failures at error.
  scheduler(boost::asio::any_io_executor io, command_pipeline& pipe, executor& exec,
            std::shared_ptr<spdlog::logger> log, std::function<void()> posts_enqueued);
  scheduler(const scheduler&) = delete;
  scheduler& operator=(const scheduler&) = delete;

  // Starts the loop; its first round runs at once (what fell due while
  // signoff was down fires now).
  void start();
  // Ends the loop at its next wake-up (a round in flight completes).
  void stop();
  // One round now, outside the loop's rhythm: resumes once what was due has
  // fired and been reported (the shell runs one before it ends).
  boost::asio::awaitable<void> tick();

 private:
  // Fires what is due; returns how long the loop may sleep.
  boost::asio::awaitable<std::chrono::milliseconds> round();
  boost::asio::awaitable<void> run();

  command_pipeline& pipe_;
  executor& exec_;
  std::shared_ptr<spdlog::logger> log_;
  std::function<void()> posts_enqueued_;
  event wake_;
  bool stopping_ = false;
  boost::asio::any_io_executor io_;
};

}  // namespace signoff::runtime
