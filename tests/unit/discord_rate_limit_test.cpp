// Discord REST rate limits: headers, 429 bodies, route keys and the limiter,
// with steady time as a parameter (no sleeping).
#include <catch2/catch.hpp>

#include "bot/protocol/discord/rate_limit.hpp"

using namespace signoff::discord;
using namespace std::chrono_literals;
using headers = std::vector<std::pair<std::string, std::string>>;
using instant = rest_limiter::instant;

namespace {
const instant t0 = instant{} + 1000h;
std::int64_t ms_after(instant t) { return std::chrono::duration_cast<std::chrono::milliseconds>(t - t0).count(); }
}  // namespace

TEST_CASE("X-RateLimit headers are read, bad values read as absent", "[discord][rate_limit]") {
  auto h = read_rate_headers({{"x-ratelimit-limit", "5"},
                              {"x-ratelimit-remaining", "4"},
                              {"x-ratelimit-reset", "1470173023.123"},
                              {"x-ratelimit-reset-after", "1.234"},
                              {"x-ratelimit-bucket", "abcd1234"},
                              {"x-ratelimit-scope", "user"},
                              {"content-type", "application/json"}});
  CHECK(h.limit == 5);
  CHECK(h.remaining == 4);
  REQUIRE(h.reset_after);
  CHECK(*h.reset_after == Approx(1.234));
  CHECK(h.bucket == "abcd1234");
  CHECK(h.scope == "user");
  CHECK_FALSE(h.global);
  auto bad = read_rate_headers({{"x-ratelimit-remaining", "many"}, {"x-ratelimit-reset-after", "nan"},
                                {"x-ratelimit-global", "true"}, {"retry-after", " 3 "}});
  CHECK_FALSE(bad.remaining);
  CHECK_FALSE(bad.reset_after);
  CHECK(bad.global);
  CHECK(bad.retry_after == 3.0);
}

TEST_CASE("429 bodies", "[discord][rate_limit]") {
  auto r = decode_rate_limited(R"({"message":"You are being rate limited.","retry_after":64.57,"global":false})");
  REQUIRE(r);
  CHECK(r->retry_after == Approx(64.57));
  CHECK_FALSE(r->global);
  auto g = decode_rate_limited(R"({"message":"x","retry_after":1,"global":true,"code":0})");
  REQUIRE(g);
  CHECK(g->global);
  CHECK_FALSE(decode_rate_limited(R"({"message":"x"})"));
  CHECK_FALSE(decode_rate_limited(R"({"retry_after":"5"})"));
  CHECK_FALSE(decode_rate_limited("<html>"));
  CHECK(decode_rate_limited(R"({"retry_after":-4})")->retry_after == 0);
}

TEST_CASE("route keys keep the top-level major parameter", "[discord][rate_limit]") {
  CHECK(route_key("POST", "channels/123/messages") == "POST channels/123/messages");
  CHECK(route_key("patch", "/channels/123/messages/456") == "PATCH channels/123/messages/:id");
  CHECK(route_key("PUT", "applications/111/guilds/222/commands") == "PUT applications/:id/guilds/:id/commands");
  CHECK(route_key("POST", "interactions/999/tok.en-x/callback") == "POST interactions/999/tok.en-x/callback");
  CHECK(route_key("PATCH", "webhooks/111/tok/messages/@original") == "PATCH webhooks/111/tok/messages/@original");
  CHECK(route_key("POST", "users/@me/channels") == "POST users/@me/channels");
  CHECK(route_key("GET", "guilds/5/members/6?limit=1") == "GET guilds/5/members/:id");
  CHECK(route_key("POST", "/api/v10/channels/1/messages") == "POST channels/1/messages");
  CHECK(route_key("GET", "") == "GET ");
}

TEST_CASE("remaining 0 holds the bucket until its reset, per channel", "[discord][rate_limit]") {
  rest_limiter l;
  const auto ch1 = route_key("POST", "channels/1/messages");
  const auto ch2 = route_key("POST", "channels/2/messages");
  CHECK(l.ready_at(ch1, t0) == t0);  // nothing known: go
  l.sent(ch1, t0);
  l.on_response(ch1, 200, read_rate_headers({{"x-ratelimit-bucket", "msg"}, {"x-ratelimit-limit", "5"},
                                              {"x-ratelimit-remaining", "1"}, {"x-ratelimit-reset-after", "2.5"}}),
                std::nullopt, t0);
  CHECK(l.ready_at(ch1, t0 + 10ms) == t0 + 10ms);  // one left
  l.sent(ch1, t0 + 10ms);
  // Spent locally before the response says so: requests in flight cannot overrun it.
  CHECK(ms_after(l.ready_at(ch1, t0 + 20ms)) == 2500);
  l.on_response(ch1, 200, read_rate_headers({{"x-ratelimit-bucket", "msg"}, {"x-ratelimit-remaining", "0"},
                                              {"x-ratelimit-reset-after", "2.49"}}),
                std::nullopt, t0 + 10ms);
  CHECK(ms_after(l.ready_at(ch1, t0 + 30ms)) == 2500);
  // Another channel: the same bucket hash, its own limit.
  CHECK(l.ready_at(ch2, t0 + 30ms) == t0 + 30ms);
  // After the reset it may go again.
  CHECK(l.ready_at(ch1, t0 + 3s) == t0 + 3s);
  l.sent(ch1, t0 + 3s);
  CHECK(l.ready_at(ch1, t0 + 3s) == t0 + 3s);
}

TEST_CASE("routes sharing a bucket hash share the limit", "[discord][rate_limit]") {
  rest_limiter l;
  const auto post = route_key("POST", "channels/1/messages");
  const auto patch = route_key("PATCH", "channels/1/messages/77");
  auto h = read_rate_headers({{"x-ratelimit-bucket", "shared"}, {"x-ratelimit-remaining", "0"},
                              {"x-ratelimit-reset-after", "1"}});
  l.on_response(post, 200, h, std::nullopt, t0);
  CHECK(l.ready_at(patch, t0) == t0);  // not known to share yet
  l.on_response(patch, 200, h, std::nullopt, t0);
  CHECK(ms_after(l.ready_at(post, t0)) == 1000);
  CHECK(ms_after(l.ready_at(patch, t0)) == 1000);
}

TEST_CASE("a 429 holds its bucket for retry_after, a global one holds every route", "[discord][rate_limit]") {
  rest_limiter l;
  const auto ch1 = route_key("POST", "channels/1/messages");
  const auto ch2 = route_key("POST", "channels/2/messages");
  const auto cb = route_key("POST", "interactions/5/tok/callback");
  l.on_response(ch1, 429, read_rate_headers({{"x-ratelimit-bucket", "msg"}, {"x-ratelimit-scope", "user"}}),
                decode_rate_limited(R"({"message":"slow","retry_after":3.5,"global":false})"), t0);
  CHECK(ms_after(l.ready_at(ch1, t0)) == 3500);
  CHECK(l.ready_at(ch2, t0) == t0);

  l.on_response(ch2, 429, read_rate_headers({{"x-ratelimit-global", "true"}}),
                decode_rate_limited(R"({"message":"slow","retry_after":10,"global":true})"), t0 + 1s);
  CHECK(ms_after(l.ready_at(ch2, t0 + 1s)) == 11000);
  CHECK(ms_after(l.ready_at(route_key("GET", "users/@me"), t0 + 1s)) == 11000);
  // Interaction responses are not bound to the global limit.
  CHECK(l.ready_at(cb, t0 + 1s) == t0 + 1s);
  CHECK(l.ready_at(ch2, t0 + 12s) == t0 + 12s);

  SECTION("no body: Retry-After, then reset_after, then 1 s") {
    rest_limiter m;
    m.on_response(ch1, 429, read_rate_headers({{"retry-after", "7"}}), std::nullopt, t0);
    CHECK(ms_after(m.ready_at(ch1, t0)) == 7000);
    m.on_response(ch2, 429, {}, std::nullopt, t0);
    CHECK(ms_after(m.ready_at(ch2, t0)) == 1000);
  }
  SECTION("absurd delays are clamped to a day") {
    rest_limiter m;
    m.on_response(ch1, 429, {}, rate_limited{1e300, false, 0}, t0);
    CHECK(m.ready_at(ch1, t0) == t0 + 24h);
  }
}

TEST_CASE("buckets of one-off routes (every interaction has its own) are dropped once reset, live ones kept",
          "[discord][rate_limit]") {
  rest_limiter l;
  rate_headers spent;  // what Discord answers a callback: one use, resets after a second
  spent.bucket = "cb";
  spent.remaining = 0;
  spent.reset_after = 1.0;
  auto route = [](int i) { return route_key("POST", "interactions/" + std::to_string(1000 + i) + "/tok" + std::to_string(i) + "/callback"); };
  for (int i = 0; i < 1500; ++i) l.on_response(route(i), 204, spent, std::nullopt, t0);
  CHECK(l.buckets() == 1500);  // all still within their second
  CHECK(ms_after(l.ready_at(route(0), t0)) == 1000);
  const instant later = t0 + 2s;
  for (int i = 1500; i < 4500; ++i) l.on_response(route(i), 204, spent, std::nullopt, later);
  // The first 1500 had reset and went; the newer ones still hold.
  CHECK(l.buckets() <= 3000);
  CHECK(ms_after(l.ready_at(route(0), later)) == 2000);
  CHECK(ms_after(l.ready_at(route(4499), later)) == 3000);
}
