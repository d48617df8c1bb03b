#pragma once
// A one-waiter wake-up flag on a timer: notify() before wait() is not lost.
// For coroutines on one executor (not thread-safe).
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bot/core/time.hpp"

namespace signoff::runtime {

// The steady-clock instant of wall-clock time `at` (now when it has passed),
// for timers that wait until a due time.
inline std::chrono::steady_clock::time_point steady_at(time_point at) {
  const auto d = at - clock_now();
  return std::chrono::steady_clock::now() +
         (d.count() > 0 ? std::chrono::duration_cast<std::chrono::steady_clock::duration>(d)
                        : std::chrono::steady_clock::duration{});
}

class event {
 public:
  explicit event(boost::asio::any_io_executor ex) : t_(ex) {}
  void notify() {
    set_ = true;
    t_.cancel();
  }
  boost::asio::awaitable<void> wait() { return wait_until(std::chrono::steady_clock::time_point::max()); }
  // Returns when notified (now or earlier) or at `at`, whichever is first.
  boost::asio::awaitable<void> wait_until(std::chrono::steady_clock::time_point at) {
    if (!set_) {
      t_.expires_at(at);
      co_await t_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
    set_ = false;
  }

 private:
  boost::asio::steady_timer t_;
  bool set_ = false;
};

}  // namespace signoff::runtime
