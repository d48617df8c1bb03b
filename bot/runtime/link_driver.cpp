#include "bot/runtime/link_driver.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <spdlog/spdlog.h>

#include <deque>

#include "bot/net/net.hpp"

namespace signoff::runtime {
namespace {

namespace asio = boost::asio;
using asio::awaitable;

template <class... F>
struct overloaded : F... {
  using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

}  // namespace

link_opened::link_opened() = default;
link_opened::link_opened(link_opened&&) noexcept = default;
link_opened& link_opened::operator=(link_opened&&) noexcept = default;
link_opened::~link_opened() = default;

struct link_driver::conn {
  link::link_id id = 0;
  std::unique_ptr<net::ws_client> ws;
  std::deque<std::string> outq;
  link::send_budget budget;
  event wake;
  bool closing = false;   // a close frame is to follow the queued frames (close_code 0: aborted)
  bool ended = false;     // the reader is done: the link is gone
  bool abandon = false;   // closed while its transport was still opening
  std::uint16_t close_code = 1000;
  explicit conn(asio::any_io_executor ex) : wake(ex) {}
};

link_driver::link_driver(asio::any_io_executor ex, link_protocol& proto, std::shared_ptr<spdlog::logger> log,
                         link_options o)
    : ex_(ex), proto_(proto), log_(std::move(log)), opt_(std::move(o)), timer_wake_(ex), link_ended_(ex) {}

link_driver::~link_driver() = default;

void link_driver::start(std::shared_ptr<void> owner, std::vector<link::action> first) {
  owner_ = owner;
  asio::co_spawn(ex_, [this, owner]() { return timer(); }, asio::detached);
  apply(std::move(first));
}

void link_driver::apply(std::vector<link::action> acts) {
  for (auto& a : acts)
    std::visit(overloaded{
                   [&](link::open_link& o) {
                     if (stopped_) return;
                     auto c = std::make_shared<conn>(ex_);
                     c->id = o.id;
                     c->budget = opt_.budget;
                     links_[o.id] = c;
                     auto owner = owner_.lock();
                     asio::co_spawn(ex_, [this, owner, c]() { return run_link(c); }, asio::detached);
                   },
                   [&](link::close_link& cl) {
                     auto it = links_.find(cl.id);
                     if (it == links_.end()) return;
                     auto& c = it->second;
                     if (!c->ws) {
                       c->abandon = true;
                       return;
                     }
                     // Closing either way: send() refuses the link from now
                     // on, also while an aborted socket's reader has yet to
                     // see it go.
                     c->closing = true;
                     c->close_code = cl.code;
                     if (cl.code == 0) {
                       c->outq.clear();
                       c->ws->abort();
                     } else {
                       c->wake.notify();
                     }
                   },
                   [&](link::send_frame& s) {
                     if (!send(s.id, std::move(s.text)))
                       log_->debug("link {}: frame dropped, the link cannot carry it", s.id);
                   },
                   [&](link::wake_at& w) {
                     wake_at_ = w.at;
                     timer_wake_.notify();
                   },
                   [&](link::report_health& h) { health(h); },
               },
               a);
}

void link_driver::health(const link::report_health& h) {
  if (h.st != state_ || h.detail != detail_) {
    if (h.st == link::state::disabled) log_->error("{} disabled: {}", opt_.what, h.detail);
    else if (h.st == link::state::degraded) log_->warn("no live {} link: {}", opt_.what, h.detail);
    else log_->info("state {}{}{}", link::to_string(h.st), h.detail.empty() ? "" : ": ", h.detail);
  }
  state_ = h.st;
  detail_ = h.detail;
}

bool link_driver::send(link::link_id id, std::string text) {
  auto it = links_.find(id);
  if (it == links_.end()) return false;
  auto& c = *it->second;
  if (stopped_ || c.ended || c.closing || !c.ws) return false;
  c.outq.push_back(std::move(text));
  c.wake.notify();
  return true;
}

awaitable<void> link_driver::timer() {
  while (!stopped_) {
    if (wake_at_) co_await timer_wake_.wait_until(steady_at(*wake_at_));
    else co_await timer_wake_.wait();
    if (stopped_) break;
    if (wake_at_ && clock_now() >= *wake_at_) {
      wake_at_.reset();
      apply(proto_.on_timer(clock_now()));
    }
  }
}

awaitable<void> link_driver::run_link(std::shared_ptr<conn> c) {
  ++counters_.opened;
  auto opened = co_await proto_.open_transport(c->id);
  if (!opened.ws) {
    ++counters_.open_failures;
    links_.erase(c->id);
    log_->warn("link {}: {}", c->id, opened.why);
    if (!stopped_) apply(proto_.on_open_failed(c->id, opened.why, opened.fatal, clock_now()));
    link_ended_.notify();
    co_return;
  }
  c->ws = std::move(opened.ws);
  if (c->abandon || stopped_) {
    co_await c->ws->close(1000);
    links_.erase(c->id);
    link_ended_.notify();
    co_return;
  }
  apply(proto_.on_connected(c->id, clock_now()));
  auto owner = owner_.lock();
  asio::co_spawn(ex_, [this, owner, c]() { return writer(c); }, asio::detached);

  std::string frame, why;
  std::uint16_t close_code = 0;
  for (;;) {
    if (auto ec = co_await c->ws->read(frame)) {
      why = ec.message();
      close_code = c->ws->close_code();
      if (close_code) why += " (close code " + std::to_string(close_code) + ")";
      break;
    }
    if (stopped_) continue;  // read until the socket goes; the machine hears no more
    apply(proto_.on_frame(c->id, frame, clock_now()));
  }
  c->ended = true;
  c->wake.notify();
  links_.erase(c->id);
  if (c->closing) log_->info("link {} closed", c->id);
  else log_->warn("link {} ended: {}", c->id, why);
  if (!stopped_) apply(proto_.on_closed(c->id, why, close_code, clock_now()));
  link_ended_.notify();
}

awaitable<void> link_driver::writer(std::shared_ptr<conn> c) {
  while (!c->ended) {
    if (c->outq.empty()) {
      if (c->closing) break;
      co_await c->wake.wait();
      continue;
    }
    if (c->budget.limited()) {
      const auto now = std::chrono::steady_clock::now();
      const auto ready = c->budget.ready_at(now);
      if (ready > now) {
        ++counters_.budget_waits;
        co_await c->wake.wait_until(ready);
        continue;  // re-check: the link may have ended meanwhile
      }
    }
    std::string msg = std::move(c->outq.front());
    c->outq.pop_front();
    c->budget.spent(std::chrono::steady_clock::now());
    if (auto ec = co_await c->ws->write(msg)) {
      log_->warn("link {}: write failed: {}", c->id, ec.message());
      c->ws->abort();  // the reader ends, and with it the link
      co_return;
    }
    ++counters_.frames_out;
  }
  if (c->closing && !c->ended && c->close_code != 0) co_await c->ws->close(c->close_code);
}

awaitable<void> link_driver::stop(std::chrono::milliseconds drain) {
  if (stopped_) co_return;
  apply(proto_.on_stop());
  const auto deadline = std::chrono::steady_clock::now() + drain;
  while (!links_.empty() && std::chrono::steady_clock::now() < deadline) co_await link_ended_.wait_until(deadline);
  stopped_ = true;
  timer_wake_.notify();
  for (auto& [id, c] : links_)
    if (c->ws) c->ws->abort();
}

}  // namespace signoff::runtime
