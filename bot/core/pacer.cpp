#include "bot/core/pacer.hpp"

#include <algorithm>

namespace signoff {

namespace {
// Past this many channels, entries whose interval is over are dropped: they
// no longer delay anything.
constexpr std::size_t prune_above = 1024;
}  // namespace

pacer::pacer(std::chrono::milliseconds per_channel_interval)
    : interval_(std::max(per_channel_interval, std::chrono::milliseconds::zero())) {}

time_point pacer::ready_at(const std::string& channel, time_point now) const {
  time_point at = std::max(now, paused_until_);
  if (auto it = last_sent_.find(channel); it != last_sent_.end()) at = std::max(at, it->second + interval_);
  return at;
}

void pacer::sent(const std::string& channel, time_point now) {
  auto [it, fresh] = last_sent_.try_emplace(channel, now);
  if (!fresh) it->second = std::max(it->second, now);
  if (last_sent_.size() > prune_above)
    std::erase_if(last_sent_, [&](const auto& e) { return e.second + interval_ <= now; });
}

void pacer::throttled(std::chrono::milliseconds retry_after, time_point now) {
  paused_until_ = std::max(paused_until_, now + std::max(retry_after, std::chrono::milliseconds::zero()));
}

}  // namespace signoff
