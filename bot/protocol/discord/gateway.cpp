// Gateway frames and the session machine: the rules and choices are in
// gateway.hpp's comment; tests in tests/unit/discord_gateway_test.cpp.
// GCC 12 at -O2 reports a false -Wmaybe-uninitialized inside std::variant's
// move of report_health's strings (as in slack/session.cpp). Silenced for
// this file only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "bot/protocol/discord/gateway.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <climits>
#include <limits>

#include "bot/protocol/json_read.hpp"

namespace signoff::discord {
namespace json = boost::json;
using ms = std::chrono::milliseconds;
using json_read::excerpt;
using json_read::field;
using json_read::text_of;
using json_read::whole_of;

namespace {

constexpr std::int64_t int_max = std::numeric_limits<int>::max();
constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();

// Close codes after which Discord says not to reconnect.
bool fatal_close(std::uint16_t code) {
  return code == 4004 || (code >= 4010 && code <= 4014);
}

}  // namespace

std::string_view close_code_meaning(std::uint16_t code) {
  switch (code) {
    case 4000: return "unknown error";
    case 4001: return "unknown opcode";
    case 4002: return "decode error";
    case 4003: return "not authenticated";
    case 4004: return "authentication failed";
    case 4005: return "already authenticated";
    case 4007: return "invalid seq";
    case 4008: return "rate limited";
    case 4009: return "session timed out";
    case 4010: return "invalid shard";
    case 4011: return "sharding required";
    case 4012: return "invalid API version";
    case 4013: return "invalid intents";
    case 4014: return "disallowed intents";
    default: return "";
  }
}

// ---- frames ----------------------------------------------------------------

std::variant<payload, decode_error> decode_payload(std::string_view text) {
  boost::system::error_code ec;
  json::parse_options po;
  po.max_depth = 64;  // interactions with components and resolved data nest deeper than 32
  json::value v = json::parse(text, ec, {}, po);
  if (ec) return decode_error{"payload is not JSON (" + ec.message() + "): '" + excerpt(text) + "'"};
  auto* o = v.if_object();
  if (!o) return decode_error{"payload is not a JSON object: '" + excerpt(text) + "'"};
  auto opcode = whole_of(o->if_contains("op"), 0, int_max);
  if (!opcode) return decode_error{"payload has no integer op: '" + excerpt(text) + "'"};
  payload p;
  p.op = static_cast<int>(*opcode);
  p.s = whole_of(o->if_contains("s"), 0, int64_max);
  p.t = text_of(o->if_contains("t"));
  if (auto* d = o->if_contains("d")) p.d = std::move(*d);
  return p;
}

std::string encode_heartbeat(std::optional<std::int64_t> seq) {
  json::object o{{"op", op::heartbeat}};
  if (seq) o["d"] = *seq;
  else o["d"] = nullptr;
  return json::serialize(o);
}

std::string encode_identify(std::string_view token, int intents) {
  json::object props{{"os", "linux"}, {"browser", "signoff"}, {"device", "signoff"}};
  json::object d{{"token", token}, {"intents", intents}, {"properties", std::move(props)}};
  return json::serialize(json::object{{"op", op::identify}, {"d", std::move(d)}});
}

std::string encode_resume(std::string_view token, std::string_view session_id, std::int64_t seq) {
  json::object d{{"token", token}, {"session_id", session_id}, {"seq", seq}};
  return json::serialize(json::object{{"op", op::resume}, {"d", std::move(d)}});
}

std::optional<gateway_bot> decode_gateway_bot(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  gateway_bot g;
  g.url = text_of(field(v, "url"));
  if (g.url.empty()) return std::nullopt;
  g.shards = static_cast<int>(whole_of(field(v, "shards"), 1, int_max).value_or(1));
  const auto* limit = field(v, "session_start_limit");
  g.total = static_cast<int>(whole_of(field(limit, "total"), 0, int_max).value_or(0));
  g.remaining = static_cast<int>(whole_of(field(limit, "remaining"), 0, int_max).value_or(0));
  g.reset_after = ms(whole_of(field(limit, "reset_after"), 0, int64_max / 2).value_or(0));
  g.max_concurrency = static_cast<int>(whole_of(field(limit, "max_concurrency"), 1, int_max).value_or(1));
  return g;
}

std::string connect_url(std::string_view base) {
  std::string url(base.substr(0, base.find('?')));
  if (url.empty() || url.back() != '/') url += '/';
  return url + "?v=10&encoding=json";
}

// ---- the session machine ---------------------------------------------------

gateway::gateway(gateway_options o, std::string token, std::function<double()> uniform01)
    : opt_(o), token_(std::move(token)), rnd_(std::move(uniform01)) {
  opt_.invalid_session_min = std::max(opt_.invalid_session_min, ms::zero());
  opt_.invalid_session_max = std::max(opt_.invalid_session_max, opt_.invalid_session_min);
}

bool gateway::ready() const { return !stopped_ && !disabled_ && link_ && link_->st == stage::ready; }

int gateway::live_links() const { return link_ ? 1 : 0; }

namespace {
double clamp01(double u) {
  if (!(u >= 0.0)) return 0.0;  // NaN or negative from a broken source
  return u > 1.0 ? 1.0 : u;
}
ms scaled(ms span, double u) { return ms(static_cast<std::int64_t>(static_cast<double>(span.count()) * u)); }
}  // namespace

void gateway::note_failure() {
  if (failures_ < INT_MAX) ++failures_;
}

void gateway::forget_session() {
  session_id_.clear();
  resume_base_.clear();
  seq_.reset();
}

bool gateway::budget_spent(time_point now) {
  if (!remaining_ || *remaining_ > 0) return false;
  if (budget_reset_at_ && now >= *budget_reset_at_) {
    remaining_.reset();  // a new budget: gateway/bot tells its size next time
    budget_reset_at_.reset();
    return false;
  }
  return true;
}

std::optional<time_point> gateway::identify_slot(time_point now) const {
  std::size_t recent = 0;
  std::optional<time_point> oldest;
  for (auto t : identify_times_)
    if (t + opt_.identify_window > now) {
      ++recent;
      if (!oldest) oldest = t;
    }
  if (recent < static_cast<std::size_t>(max_concurrency_)) return now;
  return *oldest + opt_.identify_window;
}

void gateway::set_health(std::vector<action>& out, health_state st, const std::string& detail) {
  if (health_ == st) return;
  health_ = st;
  out.push_back(report_health{st, detail});
}

void gateway::finish(std::vector<action>& out) {
  if (stopped_ || disabled_) return;
  std::optional<time_point> earliest = retry_at_;
  auto consider = [&](std::optional<time_point> t) {
    if (t && (!earliest || *t < *earliest)) earliest = t;
  };
  if (link_) {
    if (link_->st == stage::awaiting_hello) consider(link_->since + opt_.hello_timeout);
    if (link_->st == stage::authenticating) consider(link_->since + opt_.ready_timeout);
    if (link_->st == stage::identify_pending) consider(link_->identify_at);
    consider(link_->next_heartbeat);
  }
  if (earliest && earliest != last_wake_) {
    last_wake_ = earliest;
    out.push_back(wake_at{*earliest});
  }
}

std::vector<action> gateway::shut_down(health_state st, const std::string& detail) {
  std::vector<action> out;
  if (link_) out.push_back(close_link{link_->id, static_cast<std::uint16_t>(link_->st == stage::opening ? 0 : 1000)});
  link_.reset();
  retry_at_.reset();
  set_health(out, st, detail);
  return out;
}

void gateway::schedule(std::vector<action>& out, time_point now, std::optional<time_point> not_before) {
  if (not_before) hold_until_ = std::max(hold_until_.value_or(*not_before), *not_before);
  if (link_) return;
  std::optional<time_point> floor = hold_until_;
  // Identifying with the budget spent is pointless: wait for its reset.
  if (!has_session() && remaining_ && *remaining_ <= 0 && budget_reset_at_ && *budget_reset_at_ > now &&
      (!floor || *floor < *budget_reset_at_))
    floor = budget_reset_at_;
  if (retry_at_) {
    if (floor && *retry_at_ < *floor) retry_at_ = floor;
    return;
  }
  time_point at = now;
  if (failures_ > 0) at += link::full_jitter(failures_, opt_.backoff_base, opt_.backoff_cap, rnd_ ? rnd_() : 0.0);
  if (floor && at < *floor) at = *floor;
  if (at > now) {
    retry_at_ = at;
    return;
  }
  open_new(out, now);
}

void gateway::open_new(std::vector<action>& out, time_point now) {
  hold_until_.reset();
  link_ = link_state{};
  link_->id = next_id_++;
  link_->since = now;
  out.push_back(open_link{link_->id});
}

void gateway::drop_link(std::vector<action>& out, std::uint16_t code, bool requested, const std::string& why,
                        time_point now, std::optional<time_point> not_before) {
  const bool was_ready = link_->st == stage::ready;
  out.push_back(close_link{link_->id, code});
  link_.reset();
  if (!was_ready && !requested) note_failure();
  schedule(out, now, not_before);
  if (failures_ > 0 || health_ == health_state::connected) set_health(out, health_state::degraded, why);
}

void gateway::heartbeat(std::vector<action>& out) {
  out.push_back(send_frame{link_->id, encode_heartbeat(seq_)});
  link_->ack_pending = true;
}

void gateway::send_identify(std::vector<action>& out, time_point now) {
  out.push_back(send_frame{link_->id, encode_identify(token_, opt_.intents)});
  ++identifies_;
  if (remaining_ && *remaining_ > 0) --*remaining_;
  identify_times_.push_back(now);
  while (identify_times_.size() > static_cast<std::size_t>(max_concurrency_)) identify_times_.pop_front();
  link_->st = stage::authenticating;
  link_->since = now;
  link_->identify_at.reset();
}

void gateway::authenticate(std::vector<action>& out, time_point now) {
  if (has_session()) {
    out.push_back(send_frame{link_->id, encode_resume(token_, session_id_, *seq_)});
    ++resumes_;
    link_->st = stage::authenticating;
    link_->since = now;
    return;
  }
  if (budget_spent(now)) {
    drop_link(out, 1000, true, "identify budget spent; waiting for its reset", now);
    return;
  }
  auto slot = identify_slot(now);
  if (*slot > now) {
    link_->st = stage::identify_pending;
    link_->identify_at = slot;
    return;
  }
  send_identify(out, now);
}

std::vector<action> gateway::start(time_point now) {
  std::vector<action> out;
  if (stopped_ || disabled_ || link_ || retry_at_) return out;
  set_health(out, health_state::connecting, "");
  schedule(out, now, std::nullopt);
  finish(out);
  return out;
}

std::optional<std::string> gateway::resume_url() const {
  if (!has_session() || resume_base_.empty()) return std::nullopt;
  return connect_url(resume_base_);
}

std::optional<std::string> gateway::on_gateway_bot(link_id id, const gateway_bot& g, time_point now,
                                                   std::string& why) {
  if (stopped_ || disabled_ || !current(id) || link_->st != stage::opening) {
    why = "gateway/bot answered for a link that is not being opened";
    return std::nullopt;
  }
  max_concurrency_ = std::max(g.max_concurrency, 1);
  // Within the budget window we know, our own count of identifies is kept
  // when it is lower: an answer that does not count them yet (a cached
  // answer, a proxy) must not buy identifies Discord will refuse.
  const bool same_window = remaining_ && budget_reset_at_ && now < *budget_reset_at_;
  remaining_ = same_window ? std::min(*remaining_, g.remaining) : g.remaining;
  budget_reset_at_ = now + std::max(g.reset_after, ms::zero());
  if (!has_session() && budget_spent(now)) {
    why = "identify budget spent (" + std::to_string(*remaining_) + " of " + std::to_string(g.total) +
          " left); it resets in " + std::to_string(g.reset_after.count() / 1000) + " s";
    return std::nullopt;
  }
  if (g.url.empty()) {
    why = "gateway/bot gave no url";
    return std::nullopt;
  }
  return connect_url(g.url);
}

std::vector<action> gateway::on_open_failed(link_id id, const std::string& why, bool fatal, time_point now) {
  if (stopped_ || disabled_ || !current(id)) return {};
  link_.reset();
  if (fatal) {
    disabled_ = true;
    return shut_down(health_state::disabled, why);
  }
  note_failure();
  std::vector<action> out;
  schedule(out, now, std::nullopt);
  set_health(out, health_state::degraded, why);
  finish(out);
  return out;
}

std::vector<action> gateway::on_connected(link_id id, time_point now) {
  if (stopped_ || disabled_ || !current(id) || link_->st != stage::opening) return {};
  link_->st = stage::awaiting_hello;
  link_->since = now;
  std::vector<action> out;
  finish(out);
  return out;
}

void gateway::on_dispatch(std::vector<action>& out, const payload& p, time_point) {
  if (p.s) seq_ = p.s;
  if (p.t == "READY") {
    session_id_ = text_of(field(p.d, "session_id"));
    resume_base_ = text_of(field(p.d, "resume_gateway_url"));
    bot_user_id_ = text_of(field(field(p.d, "user"), "id"));
  } else if (p.t != "RESUMED") {
    return;
  }
  if (link_->st == stage::ready) return;
  link_->st = stage::ready;
  failures_ = 0;
  hold_until_.reset();
  set_health(out, health_state::connected, "");
}

std::vector<action> gateway::on_payload(link_id id, const payload& p, time_point now) {
  if (stopped_ || disabled_ || !current(id) || link_->st == stage::opening) return {};
  std::vector<action> out;
  const bool hello_seen = link_->st != stage::awaiting_hello;
  switch (p.op) {
    case op::hello: {
      if (hello_seen) break;
      // At most a day: a larger interval is no interval we could keep.
      auto interval = whole_of(field(p.d, "heartbeat_interval"), 1, 86'400'000);
      if (!interval) {
        drop_link(out, 4000, false, "Hello without a usable heartbeat_interval", now);
        break;
      }
      link_->interval = ms(*interval);
      link_->next_heartbeat = now + scaled(link_->interval, clamp01(rnd_ ? rnd_() : 0.0));
      link_->ack_pending = false;
      authenticate(out, now);
      break;
    }
    case op::heartbeat:
      heartbeat(out);  // Discord asks for one now
      break;
    case op::heartbeat_ack:
      link_->ack_pending = false;
      break;
    case op::dispatch:
      on_dispatch(out, p, now);
      break;
    case op::reconnect:
      drop_link(out, 4000, true, "Discord asked for a reconnect (op 7)", now);
      break;
    case op::invalid_session: {
      const bool resumable = p.d.is_bool() && p.d.get_bool();
      const bool was_ready = link_->st == stage::ready;
      if (resumable) {
        drop_link(out, 4000, was_ready, "invalid session (resumable)", now);
      } else {
        // Discord: wait a random 1-5 s, then identify afresh.
        forget_session();
        const auto span = opt_.invalid_session_max - opt_.invalid_session_min;
        const auto wait = opt_.invalid_session_min + scaled(span, clamp01(rnd_ ? rnd_() : 0.0));
        drop_link(out, 1000, was_ready, "invalid session", now, now + wait);
      }
      break;
    }
    default:
      break;
  }
  finish(out);
  return out;
}

std::vector<action> gateway::on_closed(link_id id, std::uint16_t close_code, const std::string& why, time_point now) {
  if (stopped_ || disabled_ || !current(id)) return {};
  if (fatal_close(close_code)) {
    link_.reset();
    disabled_ = true;
    return shut_down(health_state::disabled,
                     "close code " + std::to_string(close_code) + ": " + std::string(close_code_meaning(close_code)));
  }
  if (close_code == 4007 || close_code == 4009) forget_session();
  const bool was_ready = link_->st == stage::ready;
  link_.reset();
  if (!was_ready) note_failure();
  std::vector<action> out;
  schedule(out, now, std::nullopt);
  std::string detail = why;
  if (close_code != 0) {
    auto meaning = close_code_meaning(close_code);
    detail = "close code " + std::to_string(close_code) + (meaning.empty() ? "" : ": " + std::string(meaning)) +
             (why.empty() ? "" : " (" + why + ")");
  }
  if (failures_ > 0 || health_ == health_state::connected) set_health(out, health_state::degraded, detail);
  finish(out);
  return out;
}

std::vector<action> gateway::on_timer(time_point now) {
  if (stopped_ || disabled_) return {};
  if (last_wake_ && *last_wake_ <= now) last_wake_.reset();  // that timer has fired
  std::vector<action> out;
  if (link_ && link_->st == stage::awaiting_hello && link_->since + opt_.hello_timeout <= now)
    drop_link(out, 0, false, "no Hello within " + std::to_string(opt_.hello_timeout.count()) + " ms", now);
  if (link_ && link_->st == stage::authenticating && link_->since + opt_.ready_timeout <= now)
    drop_link(out, 0, false, "no READY within " + std::to_string(opt_.ready_timeout.count()) + " ms", now);
  if (link_ && link_->st == stage::identify_pending && link_->identify_at && *link_->identify_at <= now) {
    auto slot = identify_slot(now);
    if (*slot > now) link_->identify_at = slot;
    else send_identify(out, now);
  }
  if (link_ && link_->next_heartbeat && *link_->next_heartbeat <= now) {
    if (link_->ack_pending) {
      drop_link(out, 4000, false, "no heartbeat ACK: the link is a zombie", now);
    } else {
      heartbeat(out);
      link_->next_heartbeat = *link_->next_heartbeat + link_->interval;
      if (*link_->next_heartbeat <= now) link_->next_heartbeat = now + link_->interval;  // woken late
    }
  }
  if (!link_ && retry_at_ && *retry_at_ <= now) {
    retry_at_.reset();
    open_new(out, now);  // its delay was drawn when it was scheduled
  }
  finish(out);
  return out;
}

std::vector<action> gateway::stop() {
  if (stopped_) return {};
  stopped_ = true;
  return shut_down(health_state::stopped, "");
}

}  // namespace signoff::discord
