#pragma once
// The outbox worker: one per delivering platform. It claims that platform's
// posts from the durable outbox (a lease, so two processes never send one
// post both), sends the first post of each channel once the pacer allows
// it, pauses everything after a 429, retries transient errors, and records
// every delivery as post.sent / post.failed through the command pipeline.
// A post that fails for good is reported to whoever caused it.
//
// The platform supplies only a post_sender. Shutdown never waits for the
// pacer: what is unsent stays queued for the next start.
// Threads: everything runs on the io executor.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "bot/core/pacer.hpp"
#include "bot/runtime/event.hpp"
#include "bot/core/records.hpp"

namespace spdlog {
class logger;
}

namespace signoff::runtime {

class command_pipeline;

// What one send attempt came to.
struct delivery {
  enum class status { sent, failed, retry } outcome = status::retry;
  std::string result;  // sent: the platform message ID; failed: the error
  // retry: nothing goes to this platform before this pause ends (HTTP 429's
  // Retry-After, or a short back-off after a network error).
  std::chrono::milliseconds pause{0};
};

class post_sender {
 public:
  virtual ~post_sender() = default;
  // Sends `p`. For a card update, `card_message_id` is the platform message
  // ID of the card sent before for that subject and channel (nullopt: none;
  // post it anew).
  virtual boost::asio::awaitable<delivery> send(const outbox_post& p,
                                                std::optional<std::string> card_message_id) = 0;
  // `p` failed for good (already recorded as post.failed): tell the person
  // whose command caused it (`p.requested_by`; none for 'system'), by direct
  // message, `notice` (failure_notice's words).
  virtual void report_failure(const outbox_post& p, const std::string& notice) = 0;
};

// How a platform's HTTP answer to one send becomes a delivery, the same on
// every REST platform: 2xx is sent (result: `message_id`); 429 is a retry
// after `retry_after`; a network error or a 5xx a retry after 2 s; any other
// answer failed for good, with `error` (which must never hold a token).
delivery delivery_of(bool network_error, unsigned status, std::chrono::milliseconds retry_after,
                     std::string message_id, std::string error);

// SPEC: a failed post is also reported to the person whose command caused
// it. The words of that report, the same on every platform.
std::string failure_notice(const outbox_post& p, const std::string& error);

class outbox_worker {
 public:
  // `pipe` and `sender` outlive the worker. Claims and delivery records ride
  // the pipeline's group commits.
  outbox_worker(boost::asio::any_io_executor io, command_pipeline& pipe, platform on,
                std::chrono::milliseconds per_channel, post_sender& sender, std::shared_ptr<spdlog::logger> log);

  void start();
  // New posts may be in the outbox.
  void wake() { wake_.notify(); }
  // Stops delivering: a send in flight is abandoned (its lease expires).
  void stop();
  // Gives this process's leases back (clean shutdown), so the next start
  // delivers at once instead of after the lease.
  boost::asio::awaitable<void> release();

 private:
  boost::asio::awaitable<void> run();

  boost::asio::any_io_executor io_;
  command_pipeline& pipe_;
  platform platform_;
  std::string owner_;
  post_sender& sender_;
  std::shared_ptr<spdlog::logger> log_;
  pacer pace_;
  event wake_;
  bool stopping_ = false;
};

}  // namespace signoff::runtime
