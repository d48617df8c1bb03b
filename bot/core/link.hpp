#pragma once
// What a websocket session state machine asks of the link driver
// (runtime::link_driver), for every platform: open a link, close one, send a
// frame on one, wake me at, and "my health changed". Plus the send budget
// some platforms put on each connection (Discord Gateway: 120 frames per 60 s).
// Pure values: no sockets, no clock of their own.
#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <variant>

#include "bot/core/types.hpp"

namespace signoff::link {

using link_id = std::uint64_t;

// A platform's health as /healthz shows it (`platforms.<name>.state`).
// connecting: from start until the first link serves or fails;
// connected: some link serves; degraded: none serves and a reconnect is
// under way; disabled: the platform refused us for good (bad token, a link
// the platform disabled): nothing is retried; stopped: after SIGTERM.
enum class state { connecting, connected, degraded, disabled, stopped };
std::string_view to_string(state s);

struct open_link { link_id id; };                        // connect a new link with this id
struct close_link { link_id id; std::uint16_t code; };  // close frame with code; abort when code == 0
struct send_frame { link_id id; std::string text; };    // one text message, through the link's one writer
struct wake_at { time_point at; };                       // call on_timer at (or after) this time
struct report_health { state st; std::string detail; };
using action = std::variant<open_link, close_link, send_frame, wake_at, report_health>;

// Full-jitter exponential backoff, shared by every session machine: the
// k-th consecutive failure (k = `failures` >= 1) waits
// uniform(0, min(cap, base * 2^(k-1))) with u = `uniform01` in [0, 1); k <= 0
// waits nothing. A u outside [0, 1] (NaN, a broken source) is clamped, and
// the doubling saturates at the cap, so no input overflows.
std::chrono::milliseconds full_jitter(int failures, std::chrono::milliseconds base,
                                      std::chrono::milliseconds cap, double uniform01);

// At most `count` frames in any `window` (a sliding window): the writer
// holds a frame back until the budget has room. count <= 0: no budget.
// Steady time: a wall clock set back must not hold the writer up.
class send_budget {
 public:
  using instant = std::chrono::steady_clock::time_point;
  send_budget() = default;
  send_budget(int count, std::chrono::milliseconds window) : count_(count), window_(window) {}
  bool limited() const { return count_ > 0; }
  // The earliest time a frame may go (never before `now`).
  instant ready_at(instant now) const;
  // A frame went out at `now`.
  void spent(instant now);

 private:
  int count_ = 0;
  std::chrono::milliseconds window_{0};
  std::deque<instant> sent_;  // the last `count_` sends, oldest first
};

}  // namespace signoff::link
