#include "bot/core/link.hpp"

namespace signoff::link {

std::string_view to_string(state s) {
  switch (s) {
    case state::connecting: return "connecting";
    case state::connected: return "connected";
    case state::degraded: return "degraded";
    case state::disabled: return "disabled";
    case state::stopped: return "stopped";
  }
  return "unknown";
}

send_budget::instant send_budget::ready_at(instant now) const {
  if (count_ <= 0 || sent_.size() < static_cast<std::size_t>(count_)) return now;
  // The oldest of the last `count_` sends leaves the window at +window.
  const auto free_at = sent_.front() + window_;
  return free_at > now ? free_at : now;
}

void send_budget::spent(instant now) {
  if (count_ <= 0) return;
  sent_.push_back(now);
  while (sent_.size() > static_cast<std::size_t>(count_)) sent_.pop_front();
}

}  // namespace signoff::link
