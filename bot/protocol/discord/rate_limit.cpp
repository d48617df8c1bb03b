// REST rate limits: the rules and choices are in rate_limit.hpp's comment.
#include "bot/protocol/discord/rate_limit.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "bot/protocol/json_read.hpp"

namespace signoff::discord {
namespace json = boost::json;

namespace {

constexpr double max_delay_s = 86'400;  // one day
constexpr std::size_t max_buckets = 1024;
constexpr std::size_t max_routes = 4096;

std::optional<double> to_double(std::string_view s) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<int> to_int(std::string_view s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::chrono::steady_clock::duration seconds(double s) {
  if (!(s > 0)) return std::chrono::steady_clock::duration::zero();
  s = std::min(s, max_delay_s);
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(s));
}

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    auto slash = path.find('/');
    auto seg = path.substr(0, slash);
    if (!seg.empty()) out.push_back(seg);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

// How many leading segments form the major parameter: channels/ID and
// guilds/ID (2), webhooks/ID/TOKEN and interactions/ID/TOKEN (3).
std::size_t major_length(const std::vector<std::string_view>& seg) {
  if (seg.empty()) return 0;
  if ((seg[0] == "channels" || seg[0] == "guilds") && seg.size() >= 2) return 2;
  if ((seg[0] == "webhooks" || seg[0] == "interactions") && seg.size() >= 3) return 3;
  return 0;
}

bool snowflake(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The route's path part (after "METHOD ").
std::string_view path_of(std::string_view route) {
  auto sp = route.find(' ');
  return sp == std::string_view::npos ? route : route.substr(sp + 1);
}

// The major parameter of a route key ("channels/123"), '' when none.
std::string major_of(std::string_view route) {
  auto seg = segments(path_of(route));
  std::string out;
  for (std::size_t i = 0; i < major_length(seg); ++i) out += (i ? "/" : "") + std::string(seg[i]);
  return out;
}

// Interaction responses and follow-ups (webhooks) are not bound to the
// bot's global rate limit (Discord "Interactions": Receiving and Responding).
bool outside_global(std::string_view route) {
  auto p = path_of(route);
  return p.starts_with("interactions/") || p.starts_with("webhooks/");
}

}  // namespace

rate_headers read_rate_headers(const std::vector<std::pair<std::string, std::string>>& headers) {
  rate_headers h;
  for (const auto& [name, raw] : headers) {
    std::string_view value = raw;
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (name == "x-ratelimit-bucket") h.bucket = std::string(value);
    else if (name == "x-ratelimit-limit") h.limit = to_int(value);
    else if (name == "x-ratelimit-remaining") h.remaining = to_int(value);
    else if (name == "x-ratelimit-reset-after") h.reset_after = to_double(value);
    else if (name == "x-ratelimit-global") h.global = value == "true" || value == "True";
    else if (name == "x-ratelimit-scope") h.scope = std::string(value);
    else if (name == "retry-after") h.retry_after = to_double(value);
  }
  return h;
}

std::optional<rate_limited> decode_rate_limited(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return std::nullopt;
  const auto* ra = json_read::field(v, "retry_after");
  if (!ra || !ra->is_number()) return std::nullopt;
  rate_limited r;
  r.retry_after = ra->to_number<double>();
  if (!std::isfinite(r.retry_after) || r.retry_after < 0) r.retry_after = 0;
  const auto* g = json_read::field(v, "global");
  r.global = g && g->is_bool() && g->get_bool();
  r.code = static_cast<int>(json_read::whole_of(json_read::field(v, "code"), std::numeric_limits<int>::min(),
                                             std::numeric_limits<int>::max())
                                .value_or(0));
  return r;
}

std::string route_key(std::string_view method, std::string_view path) {
  path = path.substr(0, path.find('?'));
  while (path.starts_with("/")) path.remove_prefix(1);
  if (path.starts_with("api/")) {
    // "api/v10/..." (a full path through a proxy base): the version is no route.
    auto seg = segments(path);
    if (seg.size() >= 2 && seg[1].starts_with("v")) {
      path.remove_prefix(path.find(seg[1]) + seg[1].size());
      while (path.starts_with("/")) path.remove_prefix(1);
    }
  }
  auto seg = segments(path);
  const std::size_t major = major_length(seg);
  std::string out;
  for (auto c : method) out += static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  out += ' ';
  for (std::size_t i = 0; i < seg.size(); ++i) {
    if (i) out += '/';
    out += i >= major && snowflake(seg[i]) ? std::string_view(":id") : seg[i];
  }
  return out;
}

std::string rest_limiter::bucket_of(std::string_view route) const {
  auto it = route_bucket_.find(route);
  if (it == route_bucket_.end()) return std::string(route);
  return it->second + " " + major_of(route);
}

rest_limiter::instant rest_limiter::ready_at(std::string_view route, instant now) const {
  instant at = now;
  if (global_until_ && *global_until_ > at && !outside_global(route)) at = *global_until_;
  auto it = buckets_.find(bucket_of(route));
  if (it == buckets_.end()) return at;
  const auto& b = it->second;
  if (b.hold_until && *b.hold_until > at) at = *b.hold_until;
  if (b.remaining && *b.remaining <= 0 && b.reset_at && *b.reset_at > at) at = *b.reset_at;
  return at;
}

void rest_limiter::sent(std::string_view route, instant now) {
  auto it = buckets_.find(bucket_of(route));
  if (it == buckets_.end()) return;
  auto& b = it->second;
  if (b.reset_at && *b.reset_at <= now) {
    b.remaining.reset();  // refilled; the response will say by how much
    b.reset_at.reset();
  }
  if (b.remaining && *b.remaining > 0) --*b.remaining;
}

void rest_limiter::on_response(std::string_view route, unsigned status, const rate_headers& h,
                               const std::optional<rate_limited>& body, instant now) {
  prune(now);
  if (!h.bucket.empty()) {
    if (route_bucket_.size() >= max_routes && !route_bucket_.contains(route)) route_bucket_.clear();
    route_bucket_.insert_or_assign(std::string(route), h.bucket);
  }
  const std::string key = bucket_of(route);
  if (h.remaining || h.reset_after) {
    auto& b = buckets_[key];
    b.remaining = h.remaining;
    b.reset_at = h.reset_after ? std::optional<instant>(now + seconds(*h.reset_after)) : std::nullopt;
  }
  if (status != 429) return;
  double retry = 1.0;
  if (body) retry = body->retry_after;
  else if (h.retry_after) retry = *h.retry_after;
  else if (h.reset_after) retry = *h.reset_after;
  const bool global = (body && body->global) || h.global || h.scope == "global";
  const instant until = now + seconds(retry);
  if (global) {
    global_until_ = std::max(global_until_.value_or(until), until);
  } else {
    auto& b = buckets_[key];
    b.hold_until = std::max(b.hold_until.value_or(until), until);
  }
}

// Every interaction has a route (and a bucket) of its own, so at a few
// thousand interactions a second the map holds thousands of buckets whose
// reset has not passed yet. Walking it on every response cost a fifth of
// the bot's CPU (perf, Discord benchmark at window 50): walk it again only
// once it has doubled since the last walk, amortised O(1) per response.
void rest_limiter::prune(instant now) {
  if (buckets_.size() < prune_at_) return;
  std::erase_if(buckets_, [&](const auto& kv) {
    const auto& b = kv.second;
    return (!b.reset_at || *b.reset_at <= now) && (!b.hold_until || *b.hold_until <= now);
  });
  prune_at_ = std::max(max_buckets, 2 * buckets_.size());
}

}  // namespace signoff::discord
