#pragma once
// Discord REST rate limits as pure code (Discord "Rate Limits" topic): the
// X-RateLimit-* headers, the 429 body, the route a request counts against,
// and a limiter that says when the next request on a route may go. No clock
// of its own: steady time comes in as a parameter. Tests:
// tests/unit/discord_rate_limit_test.cpp.
//
// Rules implemented:
// - A route is the method and the path with its top-level major parameter
//   kept (channels/ID, guilds/ID, webhooks/ID/TOKEN, interactions/ID/TOKEN)
//   and every other ID replaced: requests on one channel share a bucket,
//   other channels have their own.
// - Responses name the bucket (X-RateLimit-Bucket): routes that share a
//   bucket hash share one limit per major parameter; remaining and
//   reset_after say when it refills.
// - A 429 holds its bucket for retry_after (the body's, else the
//   Retry-After header, else reset_after, else 1 s); a global one (body
//   global: true, X-RateLimit-Global: true or X-RateLimit-Scope: global)
//   holds every route.
// Choices:
// - `sent` spends one of `remaining` at once, so requests in flight
//   together cannot overrun a bucket that has one left.
// - Bucket state whose reset has passed counts as refilled (Discord's
//   headers on the next response set it again).
// - Delays are clamped to [0, 1 day]; NaN and negatives read as 0.
// - Route keys of webhook and interaction routes hold tokens: never log them.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace signoff::discord {

struct rate_headers {
  std::string bucket;                   // X-RateLimit-Bucket ('' when absent)
  std::optional<int> limit, remaining;  // X-RateLimit-Limit / -Remaining
  std::optional<double> reset_after;    // X-RateLimit-Reset-After, seconds
  bool global = false;                  // X-RateLimit-Global: true
  std::string scope;                    // X-RateLimit-Scope: user | global | shared
  std::optional<double> retry_after;    // Retry-After, seconds (429s)
};
// Header names lower case, as the HTTP client gives them; a value that does
// not parse reads as absent.
rate_headers read_rate_headers(const std::vector<std::pair<std::string, std::string>>& headers);

// A 429 body: {"message", "retry_after" (seconds), "global", "code"?};
// nullopt when it is not one (no numeric retry_after).
struct rate_limited { double retry_after = 0; bool global = false; int code = 0; };
std::optional<rate_limited> decode_rate_limited(std::string_view body);

// "POST channels/123/messages", "PATCH channels/123/messages/:id",
// "PUT applications/:id/guilds/:id/commands",
// "POST interactions/ID/TOKEN/callback". A leading '/', a query and an API
// version prefix ("api/v10/") are dropped. Snowflakes (all digits) that are
// not the major parameter become ":id".
std::string route_key(std::string_view method, std::string_view path);

class rest_limiter {
 public:
  using instant = std::chrono::steady_clock::time_point;
  // >= now: when the next request on `route` may go.
  instant ready_at(std::string_view route, instant now) const;
  // A request on `route` went at `now` (spends one of `remaining`).
  void sent(std::string_view route, instant now);
  // After each response: learns route -> bucket and the bucket's remaining
  // and reset; a 429 holds the bucket for retry_after, a global one holds
  // every route.
  void on_response(std::string_view route, unsigned status, const rate_headers& h,
                   const std::optional<rate_limited>& body, instant now);
  std::size_t buckets() const { return buckets_.size(); }  // for tests and metrics

 private:
  struct bucket_state {
    std::optional<int> remaining;
    std::optional<instant> reset_at;  // remaining refills then
    std::optional<instant> hold_until;
  };
  std::string bucket_of(std::string_view route) const;  // the bucket key (the route until a hash is known)
  void prune(instant now);

  std::map<std::string, std::string, std::less<>> route_bucket_;  // route -> bucket hash
  std::map<std::string, bucket_state, std::less<>> buckets_;      // hash + major parameter -> state
  std::optional<instant> global_until_;
  std::size_t prune_at_ = 1024;  // buckets_ size that triggers the next walk
};

}  // namespace signoff::discord
