#include "bot/runtime/outbox.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <map>
#include <vector>

#include "bot/runtime/pipeline.hpp"
#include "storage/store.hpp"

namespace signoff::runtime {
namespace {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto post_lease = std::chrono::seconds(60);
constexpr int claim_batch = 50;

time_point now() { return clock_now(); }

}  // namespace

outbox_worker::outbox_worker(asio::any_io_executor io, command_pipeline& pipe, platform on, std::chrono::milliseconds per_channel,
                             post_sender& sender, std::shared_ptr<spdlog::logger> log)
    : io_(io), pipe_(pipe), platform_(on),
      // Identifies this process's claims among others sharing the database.
      owner_(std::string(to_string(platform_)) + ":" + std::to_string(::getpid()) + ":" +
             std::to_string(steady::now().time_since_epoch().count())),
      sender_(sender), log_(std::move(log)), pace_(per_channel), wake_(io) {}

void outbox_worker::start() { asio::co_spawn(io_, run(), asio::detached); }

void outbox_worker::stop() {
  stopping_ = true;
  wake_.notify();
}

asio::awaitable<void> outbox_worker::release() { co_await pipe_.release_posts(owner_); }

asio::awaitable<void> outbox_worker::run() {
  std::deque<outbox_post> q;
  std::map<std::int64_t, std::string> recorded_pending;  // delivered, recording failed: post id -> result
  while (!stopping_) {
    if (q.empty()) {
      auto posts = co_await pipe_.claim(platform_, owner_, post_lease, claim_batch);  // rides a group commit
      q.assign(posts.begin(), posts.end());
      if (q.empty()) {
        co_await wake_.wait_until(steady::now() + 5s);  // another process may enqueue too
        continue;
      }
    }
    // The first post of each channel, in order; the earliest one ready goes.
    const auto t = now();
    std::optional<std::size_t> pick;
    time_point soonest = time_point::max();
    std::vector<std::string_view> seen_channels;
    for (std::size_t i = 0; i < q.size(); ++i) {
      const auto& ch = q[i].platform_channel;
      if (std::find(seen_channels.begin(), seen_channels.end(), ch) != seen_channels.end()) continue;
      seen_channels.push_back(ch);
      const auto ready = pace_.ready_at(ch, t);
      if (ready <= t) {
        pick = i;
        break;
      }
      soonest = std::min(soonest, ready);
    }
    if (!pick) {
      co_await wake_.wait_until(steady_at(soonest));
      continue;
    }
    const outbox_post p = q[*pick];
    delivery d;
    if (auto it = recorded_pending.find(p.id); it != recorded_pending.end()) {
      d = {delivery::status::sent, it->second, {}};
    } else {
      struct lookup {
        std::optional<std::string> id;
        bool ok = true;
      };
      lookup card;
      if (p.kind == post_kind::card_update) {
        card = co_await pipe_.call([&] {
          lookup out;
          try {
            out.id = pipe_.db_.sent_card(platform_, p.platform_channel, p.subject);
          } catch (const std::exception& e) {
            log_->error("cannot look up the card of {}: {}", p.subject, e.what());
            out.ok = false;
          }
          return out;
        });
      }
      if (!card.ok) {
        pace_.throttled(1s, now());
        continue;
      }
      d = co_await sender_.send(p, card.id);
      pace_.sent(p.platform_channel, now());
      if (stopping_) co_return;  // shutdown never waits: the lease expires, the post stays queued
    }
    if (d.outcome == delivery::status::retry) {
      pace_.throttled(d.pause, now());
      continue;
    }
    const bool sent = d.outcome == delivery::status::sent;
    const bool recorded = co_await pipe_.record_delivery(p, sent, d.result);  // rides a group commit
    if (!recorded) {
      log_->error("post {} delivered but not recorded yet: the database could not record", p.id);
      if (sent) recorded_pending[p.id] = d.result;
      pace_.throttled(1s, now());
      continue;
    }
    recorded_pending.erase(p.id);
    q.erase(q.begin() + static_cast<std::ptrdiff_t>(*pick));
    if (!sent) {
      log_->error("post {} ({} {} to {}) failed: {}", p.id, to_string(p.kind), p.subject, p.platform_channel,
                  d.result);
      if (p.requested_by != "system") sender_.report_failure(p, failure_notice(p, d.result));
    }
  }
}

delivery delivery_of(bool network_error, unsigned status, std::chrono::milliseconds retry_after,
                     std::string message_id, std::string error) {
  delivery d;
  if (!network_error && status >= 200 && status < 300) {
    d.outcome = delivery::status::sent;
    d.result = std::move(message_id);
  } else if (!network_error && status == 429) {
    d.outcome = delivery::status::retry;
    d.pause = retry_after;
  } else if (network_error || status >= 500) {
    d.outcome = delivery::status::retry;
    d.pause = std::chrono::seconds(2);
  } else {
    d.outcome = delivery::status::failed;
    d.result = std::move(error);
  }
  return d;
}

std::string failure_notice(const outbox_post& p, const std::string& error) {
  // A direct message's channel is "@person".
  const std::string where = p.channel.starts_with('@') ? p.channel : "#" + p.channel;
  return "signoff could not post the " + std::string(to_string(p.kind)) + " for " + p.subject + " to " + where +
         ": " + error + ". The failure is recorded in the audit log.";
}

}  // namespace signoff::runtime
