// Websocket frames and the session machine: the rules and choices are in
// session.hpp's comment; tests in tests/unit/mattermost_session_test.cpp.
// GCC 12 at -O2 reports a false -Wmaybe-uninitialized inside std::variant's
// move of report_health's strings (as in discord/gateway.cpp). Silenced for
// this file only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "bot/protocol/mattermost/session.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <climits>
#include <limits>

#include "bot/protocol/json_read.hpp"

namespace signoff::mattermost {
namespace json = boost::json;
using ms = std::chrono::milliseconds;
using json_read::excerpt;
using json_read::field;
using json_read::text_of;
using json_read::whole_of;

namespace {

constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();
constexpr std::string_view websocket_path = "/api/v4/websocket";

json::object object_at(json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  auto* inner = v ? v->if_object() : nullptr;
  return inner ? std::move(*inner) : json::object{};
}

// RFC 3986 unreserved characters pass; everything else is %XX, so an odd
// connection_id from a server cannot break the query.
std::string query_escape(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

}  // namespace

// ---- frames ----------------------------------------------------------------

std::variant<event, reply, decode_error> decode_frame(std::string_view text) {
  boost::system::error_code ec;
  json::parse_options po;
  po.max_depth = 64;
  json::value v = json::parse(text, ec, {}, po);
  if (ec) return decode_error{"frame is not JSON (" + ec.message() + "): '" + excerpt(text) + "'"};
  auto* o = v.if_object();
  if (!o) return decode_error{"frame is not a JSON object: '" + excerpt(text) + "'"};
  if (const auto* name = o->if_contains("event")) {
    if (!name->is_string()) return decode_error{"frame's event is not a string: '" + excerpt(text) + "'"};
    event e;
    e.name = std::string(name->get_string());
    e.seq = whole_of(o->if_contains("seq"), 0, int64_max).value_or(-1);
    e.data = object_at(*o, "data");
    e.broadcast = object_at(*o, "broadcast");
    return e;
  }
  if (o->contains("seq_reply")) {
    auto seq = whole_of(o->if_contains("seq_reply"), 0, int64_max);
    if (!seq) return decode_error{"frame's seq_reply is not an integer: '" + excerpt(text) + "'"};
    reply r;
    r.status = text_of(o->if_contains("status"));
    r.seq_reply = *seq;
    const auto* err = o->if_contains("error");
    r.error = text_of(field(err, "id"));
    if (r.error.empty()) r.error = text_of(field(err, "message"));
    return r;
  }
  return decode_error{"frame is neither an event nor a reply: '" + excerpt(text) + "'"};
}

std::string encode_authentication_challenge(std::int64_t seq, std::string_view token) {
  return json::serialize(json::object{
      {"seq", seq}, {"action", "authentication_challenge"}, {"data", json::object{{"token", token}}}});
}

std::string encode_ping(std::int64_t seq) { return json::serialize(json::object{{"seq", seq}, {"action", "ping"}}); }

// ---- the session machine ---------------------------------------------------

session::session(session_options o, std::string token, std::function<double()> uniform01)
    : opt_(o), token_(std::move(token)), rnd_(std::move(uniform01)) {
  // A zero or negative interval would ping on every wake: at least 1 ms.
  opt_.ping_interval = std::max(opt_.ping_interval, ms(1));
  opt_.reply_timeout = std::max(opt_.reply_timeout, ms(1));
}

bool session::connected() const { return live() && link_ && link_->st == stage::serving; }

int session::live_links() const { return link_ ? 1 : 0; }

std::string session::target() const {
  if (connection_id_.empty()) return std::string(websocket_path);
  return std::string(websocket_path) + "?connection_id=" + query_escape(connection_id_) +
         "&sequence_number=" + std::to_string(expected_);
}

void session::note_failure() {
  if (failures_ < INT_MAX) ++failures_;
}

void session::set_health(std::vector<action>& out, health_state st, const std::string& detail) {
  if (health_ == st) return;
  health_ = st;
  out.push_back(report_health{st, detail});
}

void session::finish(std::vector<action>& out) {
  if (!live()) return;
  std::optional<time_point> earliest = retry_at_;
  auto consider = [&](std::optional<time_point> t) {
    if (t && (!earliest || *t < *earliest)) earliest = t;
  };
  if (link_) {
    consider(link_->next_ping);
    if (link_->awaiting_since) consider(*link_->awaiting_since + opt_.reply_timeout);
  }
  if (earliest && earliest != last_wake_) {
    last_wake_ = earliest;
    out.push_back(wake_at{*earliest});
  }
}

std::vector<action> session::shut_down(health_state st, const std::string& detail) {
  std::vector<action> out;
  if (link_) out.push_back(close_link{link_->id, static_cast<std::uint16_t>(link_->st == stage::opening ? 0 : 1000)});
  link_.reset();
  retry_at_.reset();
  set_health(out, st, detail);
  return out;
}

void session::schedule(std::vector<action>& out, time_point now) {
  if (link_ || retry_at_) return;
  time_point at = now;
  if (failures_ > 0) at += link::full_jitter(failures_, opt_.backoff_base, opt_.backoff_cap, rnd_ ? rnd_() : 0.0);
  if (at > now) {
    retry_at_ = at;
    return;
  }
  open_new(out, now);
}

void session::open_new(std::vector<action>& out, time_point now) {
  link_ = link_state{};
  link_->id = next_id_++;
  link_->resumed_from = connection_id_;
  (void)now;
  out.push_back(open_link{link_->id});
}

void session::drop_link(std::vector<action>& out, std::uint16_t code, bool failure, const std::string& why,
                        time_point now) {
  const bool was_serving = link_->st == stage::serving;
  out.push_back(close_link{link_->id, code});
  link_.reset();
  if (failure || !was_serving) note_failure();
  schedule(out, now);
  if (failures_ > 0 || health_ == health_state::connected) set_health(out, health_state::degraded, why);
}

void session::send_ping(std::vector<action>& out, time_point now) {
  out.push_back(send_frame{link_->id, encode_ping(link_->next_request++)});
  link_->next_ping = now + opt_.ping_interval;
  if (!link_->awaiting_since) link_->awaiting_since = now;
}

void session::become_connected(std::vector<action>& out, bool by_hello) {
  if (link_->st == stage::serving) return;
  link_->st = stage::serving;
  if (!by_hello && !link_->resumed_from.empty()) ++resumes_;
  failures_ = 0;
  set_health(out, health_state::connected, "");
}

std::vector<action> session::start(time_point now) {
  std::vector<action> out;
  if (!live() || link_ || retry_at_) return out;
  set_health(out, health_state::connecting, "");
  schedule(out, now);
  finish(out);
  return out;
}

std::vector<action> session::on_open_failed(link_id id, const std::string& why, bool fatal, time_point now) {
  if (!live() || !current(id)) return {};
  link_.reset();
  if (fatal) {
    disabled_ = true;
    return shut_down(health_state::disabled, why);
  }
  note_failure();
  std::vector<action> out;
  schedule(out, now);
  set_health(out, health_state::degraded, why);
  finish(out);
  return out;
}

std::vector<action> session::on_connected(link_id id, time_point now) {
  if (!live() || !current(id) || link_->st != stage::opening) return {};
  link_->st = stage::authenticating;
  std::vector<action> out;
  link_->challenge_seq = link_->next_request++;
  out.push_back(send_frame{link_->id, encode_authentication_challenge(link_->challenge_seq, token_)});
  send_ping(out, now);
  finish(out);
  return out;
}

void session::on_event(frame_effects& fx, const event& e, time_point now) {
  if (e.name == "hello") {
    const bool first = fresh_hellos_ == 0;
    ++fresh_hellos_;
    const auto* id = e.data.if_contains("connection_id");
    std::string new_id = id && id->is_string() ? std::string(id->get_string()) : std::string();
    fx.first_hello = first;
    fx.catch_up = first || new_id != link_->resumed_from;
    connection_id_ = std::move(new_id);
    // hello is 0 on a fresh connection; a server that numbered it otherwise
    // still continues from it.
    expected_ = e.seq >= 0 && e.seq < int64_max ? e.seq + 1 : 1;
    link_->resumed_from = connection_id_;  // a second hello with this id is no loss
    become_connected(fx.actions, true);
    return;
  }
  if (e.seq != expected_) {
    const std::string why = "event seq " + std::to_string(e.seq) + " where " + std::to_string(expected_) +
                            " was expected; resuming";
    drop_link(fx.actions, 1000, false, why, now);
    return;
  }
  if (expected_ < int64_max) ++expected_;
  fx.deliver = true;
  become_connected(fx.actions, false);
}

void session::on_reply(frame_effects& fx, const reply& r, time_point now) {
  if (r.seq_reply == link_->challenge_seq && r.status != "OK") {
    const std::string why =
        "authentication_challenge refused" + (r.error.empty() ? std::string() : ": " + excerpt(r.error));
    drop_link(fx.actions, 1000, true, why, now);
    return;
  }
  if (r.status == "OK" && r.seq_reply >= 1 && r.seq_reply < link_->next_request) become_connected(fx.actions, false);
}

frame_effects session::on_frame(link_id id, const frame& f, time_point now) {
  frame_effects fx;
  if (!live() || !current(id) || link_->st == stage::opening) return fx;
  link_->awaiting_since.reset();  // any frame counts as life
  if (const auto* e = std::get_if<event>(&f)) on_event(fx, *e, now);
  else on_reply(fx, std::get<reply>(f), now);
  finish(fx.actions);
  return fx;
}

std::vector<action> session::on_closed(link_id id, const std::string& why, std::uint16_t code, time_point now) {
  if (!live() || !current(id)) return {};
  const bool was_serving = link_->st == stage::serving;
  link_.reset();
  if (!was_serving) note_failure();
  std::vector<action> out;
  schedule(out, now);
  std::string detail = why;
  if (code != 0) detail = "close code " + std::to_string(code) + (why.empty() ? "" : " (" + why + ")");
  if (failures_ > 0 || health_ == health_state::connected) set_health(out, health_state::degraded, detail);
  finish(out);
  return out;
}

std::vector<action> session::on_timer(time_point now) {
  if (!live()) return {};
  if (last_wake_ && *last_wake_ <= now) last_wake_.reset();  // that timer has fired
  std::vector<action> out;
  if (link_ && link_->awaiting_since && *link_->awaiting_since + opt_.reply_timeout <= now)
    drop_link(out, 0, false,
              "no frame within " + std::to_string(opt_.reply_timeout.count()) + " ms: the link is a zombie", now);
  if (link_ && link_->next_ping && *link_->next_ping <= now) send_ping(out, now);
  if (!link_ && retry_at_ && *retry_at_ <= now) {
    retry_at_.reset();
    open_new(out, now);  // its delay was drawn when it was scheduled
  }
  finish(out);
  return out;
}

std::vector<action> session::stop() {
  if (stopped_) return {};
  stopped_ = true;
  return shut_down(health_state::stopped, "");
}

}  // namespace signoff::mattermost
