// The pure parts of bot/core/link.hpp: the per-link send budget (a sliding
// window, "at most N frames per window") with exact times, and the names of
// the link states that /healthz shows.
#include <catch2/catch.hpp>

#include "bot/core/link.hpp"

using namespace signoff;
using namespace std::chrono_literals;

namespace {
const link::send_budget::instant t0 = link::send_budget::instant{} + std::chrono::hours(24 * 365 * 56);
}  // namespace

TEST_CASE("link: send budget: a default or non-positive budget never holds a frame", "[link][budget]") {
  for (link::send_budget b : {link::send_budget{}, link::send_budget{0, 1000ms}, link::send_budget{-3, 1000ms}}) {
    CHECK_FALSE(b.limited());
    for (int i = 0; i < 100; ++i) b.spent(t0);
    CHECK(b.ready_at(t0) == t0);
    CHECK(b.ready_at(t0 + 5ms) == t0 + 5ms);
  }
}

TEST_CASE("link: send budget: N frames go at once, frame N+1 exactly one window after the first", "[link][budget]") {
  link::send_budget b(3, 1000ms);
  CHECK(b.limited());
  for (int i = 0; i < 3; ++i) {
    CHECK(b.ready_at(t0) == t0);
    b.spent(t0);
  }
  CHECK(b.ready_at(t0) == t0 + 1000ms);
  CHECK(b.ready_at(t0 + 999ms) == t0 + 1000ms);
  CHECK(b.ready_at(t0 + 1000ms) == t0 + 1000ms);
  CHECK(b.ready_at(t0 + 4000ms) == t0 + 4000ms);  // never before now
}

TEST_CASE("link: send budget: frames spread over the window free up one by one", "[link][budget]") {
  link::send_budget b(3, 1000ms);
  b.spent(t0);
  CHECK(b.ready_at(t0 + 100ms) == t0 + 100ms);
  b.spent(t0 + 100ms);
  CHECK(b.ready_at(t0 + 250ms) == t0 + 250ms);
  b.spent(t0 + 250ms);
  // Full: each slot frees a window after the frame that took it.
  CHECK(b.ready_at(t0 + 300ms) == t0 + 1000ms);
  b.spent(t0 + 1000ms);
  CHECK(b.ready_at(t0 + 1000ms) == t0 + 1100ms);
  b.spent(t0 + 1100ms);
  CHECK(b.ready_at(t0 + 1100ms) == t0 + 1250ms);
  b.spent(t0 + 1250ms);
  CHECK(b.ready_at(t0 + 1250ms) == t0 + 2000ms);
}

TEST_CASE("link: send budget: the window slides, only the last N frames count", "[link][budget]") {
  link::send_budget b(2, 500ms);
  b.spent(t0);
  b.spent(t0 + 10ms);
  CHECK(b.ready_at(t0 + 20ms) == t0 + 500ms);
  // After a quiet spell the whole budget is there again.
  CHECK(b.ready_at(t0 + 2000ms) == t0 + 2000ms);
  b.spent(t0 + 2000ms);
  CHECK(b.ready_at(t0 + 2000ms) == t0 + 2000ms);  // the frames at t0 and t0+10 left the window
  b.spent(t0 + 2000ms);
  CHECK(b.ready_at(t0 + 2000ms) == t0 + 2500ms);
  // A frame that left the window does not come back: t0+10 is long gone.
  CHECK(b.ready_at(t0 + 2499ms) == t0 + 2500ms);
}

TEST_CASE("link: state names are the ones /healthz shows", "[link]") {
  CHECK(link::to_string(link::state::connecting) == "connecting");
  CHECK(link::to_string(link::state::connected) == "connected");
  CHECK(link::to_string(link::state::degraded) == "degraded");
  CHECK(link::to_string(link::state::disabled) == "disabled");
  CHECK(link::to_string(link::state::stopped) == "stopped");
}
