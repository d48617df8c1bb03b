#include "bot/runtime/pipeline.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "handlers/executor.hpp"
#include "handlers/grammar.hpp"
#include "storage/store.hpp"

namespace signoff::runtime {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

time_point now() { return clock_now(); }

constexpr std::size_t max_batch = 256;
constexpr auto confirm_quiet = 500ms;  // confirmations alone wait this long for company

}  // namespace

command_pipeline::command_pipeline(asio::any_io_executor io, executor& exec, store& db)
    : io_(io), exec_(exec), db_(db), wake_(io) {
  db_thread_ = std::thread([this] { db_ioc_.run(); });
  asio::co_spawn(io_, committer(), asio::detached);
}

command_pipeline::~command_pipeline() {
  db_work_.reset();
  if (db_thread_.joinable()) db_thread_.join();
}

void command_pipeline::submit(incoming in, done_fn done) {
  if (finished_) {
    // Only after drain, when every adapter has stopped reading: nothing can
    // record it any more. The reply says so, as for a failing database.
    execution ex;
    ex.action = std::string(cmd::action_for_line(in.line));
    ex.error = "signoff is shutting down";
    ex.reply = "NOT RECORDED: signoff is shutting down, so this command did not take effect. Please send it "
               "again in a moment.";
    asio::post(io_, [done = std::move(done), ex = std::move(ex)]() mutable { done(std::move(ex)); });
    return;
  }
  queue_.push_back({std::move(in), std::move(done)});
  wake_.notify();
}

executor_stats command_pipeline::stats_now() const {
  auto st = exec_.stats();
  st.log_size = db_.log_size_hint();
  return st;
}

asio::awaitable<unconfirmed> command_pipeline::late_confirmations(platform on, time_point since,
                                                                  time_point forget_before) {
  co_return co_await call([&] {
    unconfirmed out;
    try {
      out.rows = db_.unconfirmed_envelopes(on, since);
      write_transaction tx(db_);
      db_.prune_envelopes(forget_before);
      tx.commit();
    } catch (const std::exception& e) {
      out.error = e.what();
    }
    return out;
  });
}

asio::awaitable<std::optional<time_point>> command_pipeline::last_delivery_seen(platform on) {
  co_return co_await call([&]() -> std::optional<time_point> {
    try {
      return db_.last_envelope_at(on);
    } catch (const std::exception&) {
      return std::nullopt;
    }
  });
}

asio::awaitable<std::optional<std::string>> command_pipeline::stream_position(platform on) {
  co_return co_await call([&]() -> std::optional<std::string> {
    try {
      if (auto p = db_.stream_position(on)) return p->first;
    } catch (const std::exception&) {
    }
    return std::nullopt;
  });
}

asio::awaitable<bool> command_pipeline::save_stream_position(platform on, std::string position) {
  co_return co_await call([&] {
    try {
      write_transaction tx(db_);
      db_.save_stream_position(on, position, clock_now());
      tx.commit();
      return true;
    } catch (const std::exception&) {
      return false;
    }
  });
}

asio::awaitable<void> command_pipeline::release_posts(std::string owner) {
  co_await call([&] {
    try {
      db_.release_posts(owner);
    } catch (const std::exception&) {
      return false;  // the leases expire on their own
    }
    return true;
  });
}

void command_pipeline::confirmed(platform on, std::string id) {
  confirmations_[on].push_back(std::move(id));
  wake_.notify();
}

void command_pipeline::drain(std::function<void()> done) {
  draining_ = true;
  drained_ = std::move(done);
  wake_.notify();
}

// One group commit in flight at a time, so records stay in arrival order;
// what arrives meanwhile forms the next group.
asio::awaitable<void> command_pipeline::committer() {
  for (;;) {
    if (in_flight_) {
      co_await wake_.wait();
      continue;
    }
    if (!queue_.empty() || !deliveries_.empty() || !claims_.empty()) {
      co_await asio::post(io_, asio::use_awaitable);  // let frames that already arrived join
      start_batch();
      continue;
    }
    if (!confirmations_.empty()) {
      if (!draining_) co_await wake_.wait_until(std::chrono::steady_clock::now() + confirm_quiet);
      if (!in_flight_ && ((queue_.empty() && deliveries_.empty() && claims_.empty()) || draining_)) start_batch();
      continue;
    }
    if (draining_) {  // everything queued, including what came during the drain, is committed
      finished_ = true;
      if (auto done = std::exchange(drained_, nullptr)) done();
      co_return;
    }
    co_await wake_.wait();
  }
}

void command_pipeline::start_batch() {
  auto batch = std::make_shared<std::vector<pending>>();
  while (!queue_.empty() && batch->size() < max_batch) {
    batch->push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  std::vector<incoming> ins;
  ins.reserve(batch->size());
  for (auto& p : *batch) ins.push_back(std::move(p.in));
  auto extra = std::make_shared<executor::riders>();
  for (auto& [on, ids] : confirmations_) extra->confirmed.emplace_back(on, std::move(ids));
  confirmations_.clear();
  auto delivered = std::make_shared<std::vector<std::function<void(bool)>>>();
  for (auto& d : deliveries_) {
    extra->deliveries.push_back(std::move(d.rec));
    delivered->push_back(std::move(d.done));
  }
  deliveries_.clear();
  auto claimed = std::make_shared<std::vector<std::function<void(std::vector<outbox_post>)>>>();
  for (auto& c : claims_) {
    extra->claims.push_back(std::move(c.req));
    claimed->push_back(std::move(c.done));
  }
  claims_.clear();
  in_flight_ = true;
  asio::post(db_ioc_, [this, batch, ins = std::move(ins), extra, delivered, claimed]() mutable {
    executor::rider_results rr;
    auto results = exec_.execute_batch(ins, now(), *extra, rr);
    asio::post(io_, [this, batch, results = std::move(results), extra, delivered, claimed, rr = std::move(rr),
                     st = stats_now()]() mutable {
      auto& conf = extra->confirmed;
      in_flight_ = false;
      stats_ = st;
      // A confirmations-only commit that fails leaves them unconfirmed in
      // the database: at worst a user is told twice after a restart.
      const bool recorded = rr.recorded;
      if (!batch->empty()) {
        ++batches_;
        database_ok_ = recorded;
      }
      if (!recorded) {
        for (auto& [on, ids] : conf) {
          auto& back = confirmations_[on];
          back.insert(back.end(), ids.begin(), ids.end());
        }
      }
      for (std::size_t i = 0; i < batch->size(); ++i) (*batch)[i].done(std::move(results[i]));
      for (std::size_t i = 0; i < delivered->size(); ++i) (*delivered)[i](recorded);
      for (std::size_t i = 0; i < claimed->size(); ++i)
        (*claimed)[i](recorded ? std::move(rr.claimed[i]) : std::vector<outbox_post>{});
      if (rr.due_changed)
        for (auto& hook : due_hooks_) hook();
      for (auto& hook : commit_hooks_) hook();
      wake_.notify();
    });
  });
}

}  // namespace signoff::runtime
