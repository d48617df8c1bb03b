#pragma once
// Outbound pacing for the outbox: per channel (Slack: about one message per
// second per channel) and a platform-wide pause after a 429's Retry-After.
#include <chrono>
#include <string>
#include <unordered_map>

#include "bot/core/types.hpp"

namespace signoff {

// Paces posts per channel (Slack: about 1 message per second per channel) and
// honours a platform's Retry-After for everything. Pure: time is a parameter.
// One pacer per platform; not thread-safe (the adapter's executor owns it).
class pacer {
 public:
  explicit pacer(std::chrono::milliseconds per_channel_interval);
  // The earliest time a post to `channel` may go: never before `now`, never
  // within the interval after the channel's last post, never before the end
  // of a Retry-After pause.
  time_point ready_at(const std::string& channel, time_point now) const;
  // A post to `channel` went out at `now` (a time earlier than one already
  // recorded for the channel is ignored).
  void sent(const std::string& channel, time_point now);
  // The platform answered 429: nothing goes before now + retry_after (a
  // shorter pause never shortens one already in force).
  void throttled(std::chrono::milliseconds retry_after, time_point now);

 private:
  std::chrono::milliseconds interval_;
  std::unordered_map<std::string, time_point> last_sent_;
  time_point paused_until_{};
};

}  // namespace signoff
