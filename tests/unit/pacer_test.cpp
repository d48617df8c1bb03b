// Outbound pacing: per-channel interval and a platform-wide Retry-After.
#include <catch2/catch.hpp>

#include "bot/core/pacer.hpp"

using namespace signoff;
using namespace std::chrono_literals;

namespace {
const time_point t0 = time_point{} + std::chrono::hours(24 * 365 * 56);
}  // namespace

TEST_CASE("a channel never seen is ready now", "[pacer]") {
  pacer p(1000ms);
  CHECK(p.ready_at("C1", t0) == t0);
}

TEST_CASE("posts to one channel are spaced by the interval; other channels are not held", "[pacer]") {
  pacer p(1000ms);
  p.sent("C1", t0);
  CHECK(p.ready_at("C1", t0) == t0 + 1000ms);
  CHECK(p.ready_at("C1", t0 + 400ms) == t0 + 1000ms);
  CHECK(p.ready_at("C1", t0 + 1000ms) == t0 + 1000ms);
  CHECK(p.ready_at("C1", t0 + 5000ms) == t0 + 5000ms);  // never before now
  CHECK(p.ready_at("C2", t0) == t0);
  p.sent("C1", t0 + 1000ms);
  CHECK(p.ready_at("C1", t0 + 1000ms) == t0 + 2000ms);
  p.sent("C1", t0 + 500ms);  // out of order: the later send stands
  CHECK(p.ready_at("C1", t0 + 1000ms) == t0 + 2000ms);
}

TEST_CASE("Retry-After holds every channel; a shorter one never shortens it", "[pacer]") {
  pacer p(1000ms);
  p.sent("C1", t0);
  p.throttled(30s, t0 + 100ms);
  CHECK(p.ready_at("C1", t0 + 200ms) == t0 + 30100ms);
  CHECK(p.ready_at("C2", t0 + 200ms) == t0 + 30100ms);
  p.throttled(1s, t0 + 200ms);
  CHECK(p.ready_at("C2", t0 + 200ms) == t0 + 30100ms);
  CHECK(p.ready_at("C2", t0 + 40s) == t0 + 40s);
  // After the pause the channel interval still applies.
  p.sent("C2", t0 + 40s);
  CHECK(p.ready_at("C2", t0 + 40s) == t0 + 41s);
}

TEST_CASE("many channels: old entries are dropped without losing pacing", "[pacer]") {
  pacer p(1000ms);
  for (int i = 0; i < 3000; ++i) p.sent("C" + std::to_string(i), t0 + std::chrono::milliseconds(i));
  CHECK(p.ready_at("C2999", t0 + 2999ms) == t0 + 3999ms);
  CHECK(p.ready_at("C2500", t0 + 2999ms) == t0 + 3500ms);
  CHECK(p.ready_at("C0", t0 + 2999ms) == t0 + 2999ms);
}
