// The Socket Mode connection manager: the rules and choices are in
// session.hpp's comment; tests in tests/unit/slack_session_test.cpp.
// GCC 12 at -O2 reports a false -Wmaybe-uninitialized inside std::variant's
// move of report_health's strings (vector<action>::push_back); clang and
// ASan/UBSan builds see nothing. Silenced for this file only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "bot/protocol/slack/session.hpp"

#include <algorithm>
#include <climits>

namespace signoff::slack {

namespace {

using ms = std::chrono::milliseconds;

void append(std::vector<action>& out, std::vector<action> more) {
  out.insert(out.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
}

}  // namespace

session::session(session_options o, std::function<double()> uniform01)
    : opt_(o), rnd_(std::move(uniform01)) {
  opt_.max_links = std::max<std::size_t>(opt_.max_links, 1);
}

session::link* session::find(link_id id) {
  auto it = std::find_if(links_.begin(), links_.end(), [&](const link& l) { return l.id == id; });
  return it == links_.end() ? nullptr : &*it;
}

void session::erase(link_id id) {
  std::erase_if(links_, [&](const link& l) { return l.id == id; });
}

void session::note_failure() {
  if (failures_ < INT_MAX) ++failures_;
}

bool session::has_fresh() const {
  return std::any_of(links_.begin(), links_.end(), [](const link& l) { return l.st != link::state::draining; });
}

int session::live_links() const {
  return static_cast<int>(std::count_if(links_.begin(), links_.end(), [](const link& l) {
    return l.st == link::state::live || l.st == link::state::draining;
  }));
}

bool session::healthy() const { return !stopped_ && !disabled_ && live_links() > 0; }

std::chrono::milliseconds session::next_delay() {
  return signoff::link::full_jitter(failures_, opt_.backoff_base, opt_.backoff_cap, rnd_ ? rnd_() : 0.0);
}

std::vector<action> session::open_new(time_point now) {
  link_id id = next_id_++;
  links_.push_back(link{id, link::state::opening, now, std::nullopt});
  return {open_link{id}};
}

std::vector<action> session::schedule_retry(time_point now, ms floor) {
  if (floor > ms::zero()) hold_until_ = std::max(hold_until_.value_or(now), now + floor);
  if (has_fresh()) return {};
  if (retry_at_) {
    if (hold_until_ && *retry_at_ < *hold_until_) retry_at_ = hold_until_;
    return {};
  }
  time_point at = now;
  if (failures_ > 0) at += next_delay();
  if (hold_until_ && at < *hold_until_) at = *hold_until_;
  if (at > now) {
    retry_at_ = at;
    return {};
  }
  // No room: every slot holds a draining link; its on_closed reconnects.
  if (links_.size() >= opt_.max_links) return {};
  return open_new(now);
}

void session::set_health(std::vector<action>& out, health_state state, const std::string& detail) {
  if (health_ == state) return;
  health_ = state;
  out.push_back(report_health{state, detail});
}

void session::update_health(std::vector<action>& out, const std::string& why) {
  if (stopped_ || disabled_) return;
  if (live_links() > 0)
    set_health(out, health_state::connected, "");
  else if (failures_ > 0 || health_ == health_state::connected)
    set_health(out, health_state::degraded, why);
}

void session::finish(std::vector<action>& out) {
  if (stopped_ || disabled_) return;
  std::optional<time_point> earliest = retry_at_;
  for (const auto& l : links_) {
    if (l.st == link::state::awaiting_hello) {
      auto due = l.since + opt_.hello_timeout;
      if (!earliest || due < *earliest) earliest = due;
    }
    if (l.st == link::state::draining && l.close_at && (!earliest || *l.close_at < *earliest))
      earliest = l.close_at;
  }
  if (earliest && earliest != last_wake_) {
    last_wake_ = earliest;
    out.push_back(wake_at{*earliest});
  }
}

std::vector<action> session::shut_down(health_state state, std::string detail) {
  std::vector<action> out;
  for (const auto& l : links_)
    out.push_back(close_link{l.id, static_cast<std::uint16_t>(l.st == link::state::opening ? 0 : 1000)});
  links_.clear();
  retry_at_.reset();
  set_health(out, state, detail);
  return out;
}

std::vector<action> session::start(time_point now) {
  std::vector<action> out;
  if (stopped_ || disabled_ || !links_.empty() || retry_at_) return out;
  set_health(out, health_state::connecting, "");
  append(out, open_new(now));
  finish(out);
  return out;
}

std::vector<action> session::on_open_failed(link_id id, const std::string& why, bool fatal, time_point now) {
  if (stopped_ || disabled_ || !find(id)) return {};
  erase(id);
  if (fatal) {
    disabled_ = true;
    return shut_down(health_state::disabled, why);
  }
  note_failure();
  auto out = schedule_retry(now, ms::zero());
  update_health(out, why);
  finish(out);
  return out;
}

std::vector<action> session::on_connected(link_id id, time_point now) {
  auto* l = find(id);
  if (stopped_ || disabled_ || !l || l->st != link::state::opening) return {};
  l->st = link::state::awaiting_hello;
  l->since = now;
  std::vector<action> out;
  finish(out);
  return out;
}

std::vector<action> session::on_hello(link_id id, const hello&, time_point now) {
  auto* l = find(id);
  if (stopped_ || disabled_ || !l || (l->st != link::state::opening && l->st != link::state::awaiting_hello))
    return {};
  l->st = link::state::live;
  l->since = now;
  failures_ = 0;
  hold_until_.reset();
  retry_at_.reset();
  std::vector<action> out;
  // The replacement serves now: the links it replaces go after a grace
  // period in which they still deliver (and we still ack on them).
  for (auto& old : links_)
    if (old.st == link::state::draining && !old.close_at) old.close_at = now + opt_.drain_grace;
  close_drained(out, now);
  set_health(out, health_state::connected, "");
  finish(out);
  return out;
}

std::vector<action> session::on_disconnect(link_id id, const disconnect& d, time_point now) {
  auto* l = find(id);
  if (stopped_ || disabled_ || !l) return {};
  std::vector<action> out;
  if (d.reason == disconnect_reason::link_disabled) {
    disabled_ = true;
    return shut_down(health_state::disabled, "link_disabled: Socket Mode is off for this app");
  }
  if (l->st == link::state::draining && d.reason != disconnect_reason::too_many_websockets)
    return out;  // already being replaced
  if (d.reason == disconnect_reason::too_many_websockets || l->st != link::state::live) {
    // Too many links, or told to go before it ever served: a failure.
    out.push_back(close_link{id, 1000});
    erase(id);
    note_failure();
    bool too_many = d.reason == disconnect_reason::too_many_websockets;
    append(out, schedule_retry(now, too_many ? opt_.too_many_backoff : ms::zero()));
    update_health(out, "disconnect: " + d.reason_text);
  } else {
    // warning, refresh_requested, or a reason we do not know: replace it
    // while it keeps serving.
    l->st = link::state::draining;
    if (!has_fresh() && links_.size() < opt_.max_links) append(out, open_new(now));
  }
  finish(out);
  return out;
}

std::vector<action> session::on_closed(link_id id, const std::string& why, time_point now) {
  auto* l = find(id);
  if (stopped_ || disabled_ || !l) return {};
  if (l->st == link::state::opening || l->st == link::state::awaiting_hello) note_failure();
  erase(id);
  auto out = schedule_retry(now, ms::zero());
  update_health(out, why);
  finish(out);
  return out;
}

void session::close_drained(std::vector<action>& out, time_point now) {
  for (const auto& l : links_)
    if (l.st == link::state::draining && l.close_at && *l.close_at <= now) out.push_back(close_link{l.id, 1000});
  std::erase_if(links_, [&](const link& l) {
    return l.st == link::state::draining && l.close_at && *l.close_at <= now;
  });
}

std::vector<action> session::on_timer(time_point now) {
  if (stopped_ || disabled_) return {};
  if (last_wake_ && *last_wake_ <= now) last_wake_.reset();  // that timer has fired
  std::vector<action> out;
  close_drained(out, now);
  bool timed_out = false;
  for (const auto& l : links_)
    if (l.st == link::state::awaiting_hello && l.since + opt_.hello_timeout <= now) {
      out.push_back(close_link{l.id, 0});
      timed_out = true;
    }
  std::erase_if(links_, [&](const link& l) {
    if (l.st != link::state::awaiting_hello || l.since + opt_.hello_timeout > now) return false;
    note_failure();
    return true;
  });
  if (retry_at_ && *retry_at_ <= now) {
    retry_at_.reset();
    if (!has_fresh() && links_.size() < opt_.max_links) append(out, open_new(now));
  } else {
    append(out, schedule_retry(now, ms::zero()));
  }
  if (timed_out) update_health(out, "no hello within " + std::to_string(opt_.hello_timeout.count()) + " ms");
  finish(out);
  return out;
}

std::vector<action> session::stop() {
  if (stopped_) return {};
  stopped_ = true;
  return shut_down(health_state::stopped, "");
}

}  // namespace signoff::slack
