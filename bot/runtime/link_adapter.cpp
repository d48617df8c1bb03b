#include "bot/runtime/link_adapter.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "bot/runtime/link_driver.hpp"
#include "bot/runtime/outbox.hpp"

namespace signoff::runtime {

void in_flight::stop(std::shared_ptr<void> owner, link_driver& links, outbox_worker& outbox,
                     std::function<void()> done) {
  stopping_ = true;
  outbox.stop();
  // The coroutine's parameters live in its frame (a lambda coroutine's
  // captures would not outlive the lambda).
  boost::asio::co_spawn(
      ex_, [this, owner, &links, &outbox, done = std::move(done)]() mutable {
        return finish(std::move(owner), links, outbox, std::move(done));
      },
      boost::asio::detached);
}

boost::asio::awaitable<void> in_flight::finish(std::shared_ptr<void> owner, link_driver& links,
                                               outbox_worker& outbox, std::function<void()> done) {
  while (count_ > 0) co_await idle_.wait();
  co_await links.stop(std::chrono::seconds(5));
  co_await outbox.release();
  if (done) done();
  owner.reset();
}

adapter_status link_status(const link_driver& links, int live_links) {
  adapter_status s;
  s.state = std::string(link::to_string(links.state()));
  s.extra["links"] = live_links;
  if (!links.detail().empty()) s.extra["detail"] = links.detail();
  return s;
}

}  // namespace signoff::runtime
