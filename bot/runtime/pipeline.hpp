#pragma once
// The command pipeline: one per process, the only owner of the database
// (ARCHITECTURE "One command pipeline per process owns the database").
//
// - One database thread runs every database operation, one at a time: group
//   commits of commands and any other work (`run`, `call`). Nothing else
//   touches the executor or the store, so there is no lock to take.
// - Adapters `submit` commands from the io executor. Commands that arrive
//   while a commit runs form the next group, so one fsync serves many. Each
//   command's completion runs on the io executor after the commit is durable
//   (or reports that the database could not record it): no reply can leave
//   before its decision is durable.
// - Confirmations (a reply reached its user) ride the next group commit, or
//   a commit of their own after half a second of quiet.
// Threads: every public member is called on the io executor's thread.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "bot/core/command.hpp"
#include "bot/runtime/event.hpp"

namespace signoff {
class executor;
class store;
}  // namespace signoff

namespace signoff::runtime {

class outbox_worker;

// Unconfirmed executions found at start (see late_confirmations).
struct unconfirmed {
  std::vector<unconfirmed_envelope> rows;
  std::string error;  // the database could not be read
};

class command_pipeline {
 public:
  using done_fn = std::function<void(execution)>;

  // `exec` and `db` (the store behind it) are used only on the database
  // thread from here on. Starts that thread.
  command_pipeline(boost::asio::any_io_executor io, executor& exec, store& db);
  // Joins the database thread after the job in hand.
  ~command_pipeline();
  command_pipeline(const command_pipeline&) = delete;
  command_pipeline& operator=(const command_pipeline&) = delete;

  // Queues one command; `done` runs on the io executor after its group
  // commit (execution.recorded says whether it is durable).
  void submit(incoming in, done_fn done);

  // The reply of delivery `id` on `on` reached its user.
  void confirmed(platform on, std::string id);

  // A post's delivery (post.sent / post.failed), recorded with the next group
  // commit. Resumes after it: true once recorded (or found finished by
  // another process), false when the database could not record it.
  boost::asio::awaitable<bool> record_delivery(outbox_post p, bool sent, std::string result) {
    return boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(bool)>(
        [this](auto handler, delivery_record d) {
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          deliveries_.push_back({std::move(d), [h](bool ok) { std::move (*h)(ok); }});
          wake_.notify();
        },
        boost::asio::use_awaitable, delivery_record{std::move(p), sent, std::move(result)});
  }
  // Claims up to `limit` of `on`'s pending posts for `owner` (a lease
  // of `lease`), with the next group commit: a post a command in that commit
  // enqueued is among them. Empty when the database could not record.
  boost::asio::awaitable<std::vector<outbox_post>> claim(platform on, std::string owner,
                                                         std::chrono::milliseconds lease, int limit) {
    return boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(std::vector<outbox_post>)>(
        [this](auto handler, claim_request c) {
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          claims_.push_back({std::move(c), [h](std::vector<outbox_post> v) { std::move (*h)(std::move(v)); }});
          wake_.notify();
        },
        boost::asio::use_awaitable, claim_request{on, std::move(owner), lease, limit});
  }

  // At start: the executions on `on` since `since` whose reply may not
  // have reached its user (late confirmation), after forgetting deliveries
  // seen before `forget_before`.
  boost::asio::awaitable<unconfirmed> late_confirmations(platform on, time_point since,
                                                         time_point forget_before);
  // When the newest delivery on `on` still remembered was seen; nullopt when
  // none is, or the database could not be read.
  boost::asio::awaitable<std::optional<time_point>> last_delivery_seen(platform on);
  // `on`'s saved stream position (store::stream_position); nullopt when
  // none was saved or the database could not be read.
  boost::asio::awaitable<std::optional<std::string>> stream_position(platform on);
  // Saves it, in a commit of its own; false when the database refused.
  boost::asio::awaitable<bool> save_stream_position(platform on, std::string position);
  // Gives `owner`'s outbox leases back (a clean shutdown).
  boost::asio::awaitable<void> release_posts(std::string owner);

  // Runs `job()` on the database thread between group commits, then
  // `done(result)` on the io executor. `job` may use the executor and the
  // store; exceptions it throws are its own to catch.
  template <class Job, class Done>
  void run(Job job, Done done) {
    using R = std::invoke_result_t<Job&>;
    boost::asio::post(db_ioc_, [this, job = std::move(job), done = std::move(done)]() mutable {
      R r = job();
      boost::asio::post(io_, [this, r = std::move(r), done = std::move(done), st = stats_now()]() mutable {
        stats_ = st;
        done(std::move(r));
      });
    });
  }
  // The same as a coroutine: resumes on the io executor with the result.
  // Capture by reference (`[&]`, `[this, &p]`): the coroutine's frame
  // outlives the job, and g++ 12 mis-copies a lambda temporary with
  // non-trivial by-value captures inside a co_await expression (its strings
  // were freed twice: seen under valgrind).
  template <class Job>
  boost::asio::awaitable<std::invoke_result_t<Job&>> call(Job job) {
    using R = std::invoke_result_t<Job&>;
    return boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(R)>(
        [this](auto handler, Job j) mutable {
          run(std::move(j), [h = std::move(handler)](R r) mutable { std::move(h)(std::move(r)); });
        },
        boost::asio::use_awaitable, std::move(job));
  }

  // Calls `hook` on the io executor after a group commit in which a command
  // may have brought a due time forward (opened or paged an escalation,
  // approved a draft, ended a crisis): the scheduler looks again then, and
  // not after every commit.
  void on_due_changed(std::function<void()> hook) { due_hooks_.push_back(std::move(hook)); }
  // Calls `hook` on the io executor after every group commit, with stats()
  // (log_size included) already updated: the checkpointer counts records.
  void on_committed(std::function<void()> hook) { commit_hooks_.push_back(std::move(hook)); }
  // A job run through call() brought a due time forward (a reload started
  // reminders): the same hooks run.
  void due_changed() {
    for (auto& hook : due_hooks_) hook();
  }

  // Shutdown, once the adapters stopped reading: commits what is queued
  // (also what arrives meanwhile) and the pending confirmations, then calls
  // `done` on the io executor. A submission after that is refused as not
  // recorded.
  void drain(std::function<void()> done);

  // As of the last database job, on the io thread.
  const executor_stats& stats() const { return stats_; }
  // False while the last group commit could not be recorded.
  bool database_ok() const { return database_ok_; }
  std::uint64_t batches() const { return batches_; }

 private:
  struct pending {
    incoming in;
    done_fn done;
  };
  friend class outbox_worker;  // its jobs read the store (card look-ups)
  // executor_stats as of now, on the database thread.
  executor_stats stats_now() const;

  struct pending_delivery {
    delivery_record rec;
    std::function<void(bool)> done;
  };
  struct pending_claim {
    claim_request req;
    std::function<void(std::vector<outbox_post>)> done;
  };
  boost::asio::awaitable<void> committer();
  void start_batch();

  boost::asio::any_io_executor io_;
  executor& exec_;
  store& db_;
  boost::asio::io_context db_ioc_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> db_work_{db_ioc_.get_executor()};
  std::thread db_thread_;
  std::deque<pending> queue_;
  std::vector<pending_delivery> deliveries_;
  std::vector<pending_claim> claims_;
  std::map<platform, std::vector<std::string>> confirmations_;  // delivery IDs per platform
  bool in_flight_ = false, draining_ = false, finished_ = false;
  std::function<void()> drained_;
  event wake_;
  std::vector<std::function<void()>> due_hooks_, commit_hooks_;
  executor_stats stats_;
  bool database_ok_ = true;
  std::uint64_t batches_ = 0;
};

}  // namespace signoff::runtime
