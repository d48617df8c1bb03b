#pragma once
// What every websocket platform adapter (Slack, Discord; Mattermost next)
// does the same way around its link driver and outbox worker: count the
// commands read and not yet answered, run SIGTERM's sequence, and show its
// links in /healthz. The platform keeps only its protocol.
// Threads: everything on the io executor.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <functional>
#include <memory>

#include "bot/runtime/adapter.hpp"
#include "bot/runtime/event.hpp"

namespace signoff::runtime {

class link_driver;
class outbox_worker;

class in_flight {
 public:
  explicit in_flight(boost::asio::any_io_executor ex) : ex_(ex), idle_(ex) {}
  // A command was read (begin) / answered, or given up (end).
  void begin() { ++count_; }
  void end() {
    --count_;
    idle_.notify();
  }
  std::size_t count() const { return count_; }
  bool stopping() const { return stopping_; }
  // SIGTERM: stops delivering at once (queued posts stay in the outbox);
  // once every command already read is answered, closes the links (5 s at
  // most), gives the outbox leases back (the next start delivers at once),
  // then calls `done`. `owner` (the adapter's state) is kept alive until then.
  void stop(std::shared_ptr<void> owner, link_driver& links, outbox_worker& outbox, std::function<void()> done);

 private:
  boost::asio::awaitable<void> finish(std::shared_ptr<void> owner, link_driver& links, outbox_worker& outbox,
                                      std::function<void()> done);
  boost::asio::any_io_executor ex_;
  event idle_;
  std::size_t count_ = 0;
  bool stopping_ = false;
};

// /healthz for a link-driven platform: the driver's state and detail, and
// how many links serve.
adapter_status link_status(const link_driver& links, int live_links);

}  // namespace signoff::runtime
