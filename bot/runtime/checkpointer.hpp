#pragma once
// Signed audit checkpoints (SPEC "Signed checkpoints"), made by `run` and
// the shell: after every `checkpoint_every` records or `checkpoint_interval`,
// whichever comes first, when there are new records, and a last one at a
// clean shutdown (or the end of the shell's input).
//
// Off the command's critical path: a checkpoint is a database job of its own
// between two group commits (the commands that arrive meanwhile form the
// next group), never part of a command's transaction, and the decision
// whether one is due reads only the pipeline's stats after each commit.
// Threads: every member is called on the io executor.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "bot/runtime/event.hpp"

namespace spdlog {
class logger;
}

namespace signoff {
class executor;
namespace note {
class signer;
}
}  // namespace signoff

namespace signoff::runtime {

class command_pipeline;

struct checkpoint_stats {
  std::uint64_t made = 0, failures = 0;
  std::int64_t last_size = 0;  // tree size of the newest checkpoint this process signed
};

class checkpointer {
 public:
  // `pipe`, `exec` (used only inside its database jobs) and `key` outlive
  // it. Registers an on_committed hook on `pipe`. `log`: each checkpoint at
  // info, failures at error (never key material: the signer holds none in
  // its messages).
  checkpointer(boost::asio::any_io_executor io, command_pipeline& pipe, executor& exec, const note::signer& key,
               std::int64_t every, std::chrono::milliseconds interval, std::shared_ptr<spdlog::logger> log,
               std::function<void()> posts_enqueued);
  checkpointer(const checkpointer&) = delete;
  checkpointer& operator=(const checkpointer&) = delete;

  // Starts the loop. Its first look is at once: records written while no
  // process signed (a crash, an older build) count toward `every`.
  void start();
  // Ends the loop at its next wake-up (a checkpoint in flight completes).
  void stop();
  // Signs one now if any record needs it (shutdown, end of input); resumes
  // when it is stored, or failed (logged).
  boost::asio::awaitable<void> final_checkpoint();

  const checkpoint_stats& stats() const { return stats_; }

 private:
  // One attempt; `min_new` records must be waiting. True when one was made.
  boost::asio::awaitable<bool> attempt(std::int64_t min_new);
  boost::asio::awaitable<void> run();

  command_pipeline& pipe_;
  executor& exec_;
  const note::signer& key_;
  std::int64_t every_;
  std::chrono::milliseconds interval_;
  std::shared_ptr<spdlog::logger> log_;
  std::function<void()> posts_enqueued_;
  event wake_;
  boost::asio::any_io_executor io_;
  bool stopping_ = false, running_ = false, busy_ = false;
  // log_size (pipeline stats) at which the count rule may be met.
  std::int64_t threshold_ = 0;
  checkpoint_stats stats_;
};

}  // namespace signoff::runtime
