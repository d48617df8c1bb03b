// Posts, `posted` events, commands in messages and the REST answers the
// adapter decodes (Mattermost API v4). Choices are in codec.hpp's comment.
#include <boost/json/parse.hpp>

#include <algorithm>
#include <charconv>
#include <limits>

#include "bot/core/text.hpp"
#include "bot/protocol/json_read.hpp"
#include "bot/protocol/mattermost/codec.hpp"

namespace signoff::mattermost {
namespace json = boost::json;
using json_read::excerpt;
using json_read::field;
using json_read::text_of;
using json_read::whole_of;

namespace {

constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();

std::optional<json::value> parse_body(std::string_view body) {
  boost::system::error_code ec;
  json::parse_options po;
  po.max_depth = 64;  // posts' metadata (embeds, files, reactions) nest
  json::value v = json::parse(body, ec, {}, po);
  if (ec) return std::nullopt;
  return v;
}

// Mattermost writes these props as the string "true"; a boolean is read too.
bool flag(const json::value* props, std::string_view key) {
  const auto* v = field(props, key);
  if (!v) return false;
  if (const auto* b = v->if_bool()) return *b;
  if (const auto* s = v->if_string()) return *s == "true";
  return false;
}

bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

bool ascii_iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// A non-negative decimal number of seconds ("30", "1.5"); nullopt for
// anything else (an HTTP date in Retry-After included).
std::optional<double> seconds_of(std::string_view s) {
  s = trim(s);
  if (s.empty() || s.size() > 32) return std::nullopt;
  if (!std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; })) return std::nullopt;
  double d = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec != std::errc() || end != s.data() + s.size() || !(d >= 0)) return std::nullopt;
  return d;
}

}  // namespace

std::variant<post, decode_error> decode_post(const json::value& v) {
  std::optional<json::value> inner;
  const json::value* pv = &v;
  if (const auto* s = v.if_string()) {
    inner = parse_body(*s);
    if (!inner) return decode_error{"post is a string but not JSON: '" + excerpt(*s) + "'"};
    pv = &*inner;
  }
  if (!pv->is_object()) return decode_error{"post is not a JSON object"};
  post p;
  p.id = text_of(field(pv, "id"));
  p.user_id = text_of(field(pv, "user_id"));
  p.channel_id = text_of(field(pv, "channel_id"));
  if (p.id.empty() || p.user_id.empty() || p.channel_id.empty())
    return decode_error{"post lacks id, user_id or channel_id"};
  p.root_id = text_of(field(pv, "root_id"));
  p.message = text_of(field(pv, "message"));
  p.type = text_of(field(pv, "type"));
  p.create_at = whole_of(field(pv, "create_at"), 0, int64_max).value_or(0);
  p.delete_at = whole_of(field(pv, "delete_at"), 0, int64_max).value_or(0);
  const auto* props = field(pv, "props");
  p.from_bot = flag(props, "from_bot");
  p.from_webhook = flag(props, "from_webhook");
  return p;
}

std::variant<posted, decode_error> decode_posted(const json::object& event_data) {
  const auto* pv = event_data.if_contains("post");
  if (!pv) return decode_error{"posted event without post"};
  auto r = decode_post(*pv);
  if (auto* e = std::get_if<decode_error>(&r)) return *e;
  posted out;
  out.p = std::move(std::get<post>(r));
  out.team_id = text_of(event_data.if_contains("team_id"));
  out.channel_type = text_of(event_data.if_contains("channel_type"));
  return out;
}

std::variant<as_command, not_command> command_of(const post& p, std::string_view trigger,
                                                 std::string_view bot_user_id) {
  if (!bot_user_id.empty() && p.user_id == bot_user_id) return not_command{"the bot's own post"};
  if (p.from_bot) return not_command{"a bot's post"};
  if (p.from_webhook) return not_command{"a webhook's post"};
  if (!p.type.empty()) return not_command{"a system message"};
  if (p.delete_at != 0) return not_command{"a deleted post"};
  if (trigger.empty()) return not_command{"no trigger configured"};
  const std::string_view m = p.message;
  // Case-insensitive: phones capitalise the first letter ("!Signoff").
  if (m.size() < trigger.size() || !ascii_iequal(m.substr(0, trigger.size()), trigger))
    return not_command{"no trigger"};
  std::string_view rest = m.substr(trigger.size());
  if (!rest.empty() && !space(rest.front())) return not_command{"no trigger (it is followed by more text)"};
  while (!rest.empty() && space(rest.front())) rest.remove_prefix(1);
  if (rest.empty()) return as_command{"/signoff help"};
  // "!signoff /approve D-1" is read like "!signoff approve D-1".
  if (rest.front() == '/') return as_command{std::string(rest)};
  return as_command{"/" + std::string(rest)};
}

std::optional<user> decode_user(std::string_view body) {
  auto v = parse_body(body);
  if (!v || !v->is_object()) return std::nullopt;
  user u;
  u.id = text_of(field(*v, "id"));
  if (u.id.empty()) return std::nullopt;
  u.username = text_of(field(*v, "username"));
  const auto* b = field(*v, "is_bot");
  u.is_bot = b && b->is_bool() && b->get_bool();
  return u;
}

std::vector<user> decode_users(std::string_view body) {
  std::vector<user> out;
  auto v = parse_body(body);
  const auto* a = v ? v->if_array() : nullptr;
  if (!a) return out;
  for (const auto& e : *a) {
    if (!e.is_object()) continue;
    user u;
    u.id = text_of(field(e, "id"));
    if (u.id.empty()) continue;
    u.username = text_of(field(e, "username"));
    const auto* b = field(e, "is_bot");
    u.is_bot = b && b->is_bool() && b->get_bool();
    out.push_back(std::move(u));
  }
  return out;
}

std::vector<channel> decode_channels(std::string_view body) {
  std::vector<channel> out;
  auto v = parse_body(body);
  const auto* a = v ? v->if_array() : nullptr;
  if (!a) return out;
  for (const auto& e : *a) {
    channel c;
    c.id = text_of(field(e, "id"));
    if (c.id.empty()) continue;
    c.team_id = text_of(field(e, "team_id"));
    c.type = text_of(field(e, "type"));
    c.last_post_at = whole_of(field(e, "last_post_at"), 0, int64_max).value_or(0);
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<std::string> decode_team_ids(std::string_view body) {
  std::vector<std::string> out;
  auto v = parse_body(body);
  const auto* a = v ? v->if_array() : nullptr;
  if (!a) return out;
  for (const auto& e : *a) {
    auto id = text_of(field(e, "id"));
    if (!id.empty()) out.push_back(std::move(id));
  }
  return out;
}

std::vector<post> decode_post_list(std::string_view body) {
  std::vector<post> out;
  auto v = parse_body(body);
  const auto* posts = field(v ? &*v : nullptr, "posts");
  const auto* o = posts ? posts->if_object() : nullptr;
  if (!o) return out;
  for (const auto& kv : *o) {
    if (!kv.value().is_object()) continue;  // a post here is an object, never a string
    auto r = decode_post(kv.value());
    if (auto* p = std::get_if<post>(&r)) out.push_back(std::move(*p));
  }
  std::sort(out.begin(), out.end(), [](const post& a, const post& b) {
    return a.create_at != b.create_at ? a.create_at < b.create_at : a.id < b.id;
  });
  return out;
}

std::optional<std::string> object_id(std::string_view body) {
  auto v = parse_body(body);
  if (!v) return std::nullopt;
  auto id = text_of(field(*v, "id"));
  if (id.empty()) return std::nullopt;
  return id;
}

std::optional<api_error> decode_api_error(std::string_view body) {
  auto v = parse_body(body);
  if (!v || !v->is_object()) return std::nullopt;
  api_error e;
  e.id = text_of(field(*v, "id"));
  e.message = text_of(field(*v, "message"));
  if (e.id.empty() && e.message.empty()) return std::nullopt;
  e.status_code = static_cast<int>(whole_of(field(*v, "status_code"), 0, 999).value_or(0));
  return e;
}

std::chrono::milliseconds retry_after(const std::vector<std::pair<std::string, std::string>>& headers) {
  using ms = std::chrono::milliseconds;
  auto header = [&](std::string_view name) -> std::optional<double> {
    for (const auto& [k, v] : headers)
      if (k == name) return seconds_of(v);
    return std::nullopt;
  };
  auto secs = header("x-ratelimit-reset");
  if (!secs) secs = header("retry-after");
  const double wait_ms = secs ? *secs * 1000.0 : 1000.0;
  constexpr double hour_ms = 3'600'000.0;
  return ms(static_cast<std::int64_t>(std::clamp(wait_ms, 1.0, hour_ms)));
}

}  // namespace signoff::mattermost
