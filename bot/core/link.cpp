#include "bot/core/link.hpp"

#include <algorithm>

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

std::chrono::milliseconds full_jitter(int failures, std::chrono::milliseconds base,
                                      std::chrono::milliseconds cap, double uniform01) {
  if (failures <= 0) return std::chrono::milliseconds::zero();
  const std::int64_t top = std::max<std::int64_t>(cap.count(), 0);
  std::int64_t ceiling = std::clamp<std::int64_t>(base.count(), 0, top);
  for (int i = 1; i < failures && ceiling > 0 && ceiling < top; ++i)
    ceiling = ceiling > top / 2 ? top : ceiling * 2;
  double u = uniform01;
  if (!(u >= 0.0)) u = 0.0;  // NaN or negative
  if (u > 1.0) u = 1.0;
  return std::chrono::milliseconds(std::min(ceiling, static_cast<std::int64_t>(u * static_cast<double>(ceiling))));
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
