#pragma once
// Running a coroutine test body on an io_context on the test thread, and
// waiting (polling that io_context) for a condition. Header-only: the
// coroutines are instantiated in each test's own translation unit.
// Never co_await inside a Catch macro: Catch repeats the expression in an
// unevaluated `false && ...`, and g++ 12's coroutine lowering runs it again.
#include <catch2/catch.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <exception>

namespace signoff::test {

// Runs `body` on `ioc` with whatever else runs there; stops everything when
// the body ends (suspended coroutines are destroyed with the io_context).
// Fails the test when the body has not ended within `limit` (a hang).
template <class F>
void run_io(boost::asio::io_context& ioc, F body, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  std::exception_ptr failure;
  bool done = false;
  boost::asio::co_spawn(ioc, std::move(body), [&](std::exception_ptr e) {
    failure = e;
    done = true;
    ioc.stop();
  });
  ioc.run_for(limit);
  REQUIRE(done);  // else the test hung
  if (failure) std::rethrow_exception(failure);
}

// True once `cond` holds, checked every 2 ms while the io_context runs;
// false when `limit` passes first. A template rather than std::function: a
// lambda capturing by reference is trivially destructible, so passing one
// inside a co_await is safe from GCC 12's double-destroyed temporaries.
template <class Cond>
boost::asio::awaitable<bool> eventually(Cond cond, std::chrono::milliseconds limit = std::chrono::seconds(2)) {
  boost::asio::steady_timer t(co_await boost::asio::this_coro::executor);
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > end) co_return false;
    t.expires_after(std::chrono::milliseconds(2));
    co_await t.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }
  co_return true;
}

}  // namespace signoff::test
