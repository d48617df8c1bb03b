// Escalations (SPEC "Escalations"): open, ack, resolve, list, and the
// re-escalation timer. Due times live in the database.
#include <algorithm>

#include "bot/core/text.hpp"
#include "bot/core/time.hpp"
#include "handlers/context.hpp"

namespace signoff::handlers {
namespace {

std::string mentions(const std::vector<std::string>& people) {
  std::string out;
  for (const auto& p : people) out += (out.empty() ? "@" : " @") + p;
  return out;
}

// When level `l`, paged at `paged`, moves on: nullopt for the last level.
// Sets `out_of_range` when the sum passes 9999-12-31 (config durations are
// bounded, so only a clock near that end gets here): the caller refuses.
std::optional<time_point> due_after(const conf::level& l, time_point paged, bool& out_of_range) {
  out_of_range = false;
  if (!l.after) return std::nullopt;
  auto due = checked_add(paged, std::chrono::duration_cast<std::chrono::milliseconds>(*l.after));
  out_of_range = !due;
  return due;
}

// " Not acknowledged within 15m, it goes to level 2." ('' for the last level).
std::string timer_text(const conf::level& l, int level) {
  if (!l.after) return {};
  return " Not acknowledged within " + format_age(std::chrono::duration_cast<std::chrono::milliseconds>(*l.after)) +
         ", it goes to level " + std::to_string(level + 1) + ".";
}

std::string page_text(const escalation& e, const conf::route& r, int level) {
  const auto& l = r.levels[static_cast<std::size_t>(level - 1)];
  std::string out = escalation_id(e.id) + " [" + e.sev + "] " + r.name + ": " + display_line(e.summary) +
                    "\nPaging " + mentions(l.notify) + " (level " + std::to_string(level) + " of " +
                    std::to_string(r.levels.size()) + ", opened by " + e.opened_by + ")." + timer_text(l, level);
  out += "\n/ack " + escalation_id(e.id);
  return out;
}

// The page in the route's channel, then a direct message to each person of
// the level (SPEC "Escalations"); the executor sends each DM to every
// platform where that person has an ID.
void add_pages(result& r, const escalation& e, const conf::route& route, int level) {
  const auto& l = route.levels[static_cast<std::size_t>(level - 1)];
  const std::string id = escalation_id(e.id);
  r.posts.push_back({route.channel, post_kind::page, id, page_text(e, route, level), std::nullopt, l.notify,
                     std::nullopt});
  const std::string dm = "You are paged on " + id + " [" + e.sev + "] " + route.name + ": " +
                         display_line(e.summary) + "\nLevel " + std::to_string(level) + " of " +
                         std::to_string(route.levels.size()) + ", opened by " + e.opened_by + "." +
                         timer_text(l, level) + "\n/ack " + id;
  for (const auto& person : l.notify)
    r.posts.push_back({"@" + person, post_kind::dm, id, dm, std::nullopt, {}, std::nullopt});
}

result escalate(const cmd::command& c, context& ctx) {
  const auto* route = ctx.cfg.find_route(c.key);
  if (!route) {
    std::string known;
    for (const auto& r : ctx.cfg.escalation) known += (known.empty() ? "" : ", ") + r.name;
    return invalid("unknown escalation route '" + c.key + "' (known: " + known + ")", c.key);
  }
  escalation e;
  e.route = route->name;
  e.sev = c.sev.empty() ? "sev3" : c.sev;
  e.summary = c.text;
  e.opened_by = ctx.who.id;
  e.opened_at = ctx.now;
  e.level = 1;
  e.level_paged_at = ctx.now;
  bool out_of_range = false;
  e.due_at = due_after(route->levels.front(), ctx.now, out_of_range);
  if (out_of_range)
    return invalid("escalation." + route->name + ".levels[0].after: now + after is past " +
                       "9999-12-31T23:59:59Z, the latest time signoff can keep",
                   route->name);
  e.notified = route->levels.front().notify;
  e.id = ctx.db.open_escalation(e);
  result r;
  r.subject = escalation_id(e.id);
  r.detail["route"] = route->name;
  r.detail["sev"] = e.sev;
  r.detail["notified"] = boost::json::array(e.notified.begin(), e.notified.end());
  r.reply = r.subject + " opened on route " + route->name + " [" + e.sev + "]; paged " +
            join(e.notified) + " in #" + route->channel + ".";
  add_pages(r, e, *route, 1);
  return r;
}

bool was_notified(const escalation& e, const std::string& who) {
  return std::find(e.notified.begin(), e.notified.end(), who) != e.notified.end();
}

result ack(const cmd::command& c, context& ctx) {
  std::string subj = escalation_id(c.id);
  auto e = ctx.db.get_escalation(c.id);
  if (!e) return invalid("no escalation " + subj, subj);
  if (!was_notified(*e, ctx.who.id))
    return denied("only people paged on " + subj + " may acknowledge it (so far: " + join(e->notified) + ")", subj);
  if (e->status == escalation_status::resolved) return invalid(subj + " is already resolved", subj);
  if (e->status == escalation_status::acked)
    return invalid(subj + " was already acknowledged by " + e->acked_by, subj);
  ctx.db.ack_escalation(c.id, ctx.who.id, ctx.now);
  result r;
  r.subject = subj;
  r.detail["level"] = e->level;
  r.reply = subj + " acknowledged; re-escalation stopped.";
  const auto* route = ctx.cfg.find_route(e->route);
  r.posts.push_back({route ? route->channel : "approvals", post_kind::notice, subj,
                     subj + " acknowledged by " + ctx.who.id + " after " +
                         format_age(ctx.now - e->opened_at) + ".", std::nullopt, {}, std::nullopt});
  return r;
}

result resolve(const cmd::command& c, context& ctx) {
  std::string subj = escalation_id(c.id);
  auto e = ctx.db.get_escalation(c.id);
  if (!e) return invalid("no escalation " + subj, subj);
  if (!was_notified(*e, ctx.who.id) && e->opened_by != ctx.who.id &&
      !ctx.cfg.has_permission(ctx.who, "admin"))
    return denied("only people paged on " + subj + ", its opener or an admin may resolve it", subj);
  if (e->status == escalation_status::resolved) return invalid(subj + " is already resolved", subj);
  ctx.db.resolve_escalation(c.id, ctx.who.id, c.text, ctx.now);
  result r;
  r.subject = subj;
  if (!c.text.empty()) r.detail["note"] = c.text;
  r.reply = subj + " resolved.";
  const auto* route = ctx.cfg.find_route(e->route);
  r.posts.push_back({route ? route->channel : "approvals", post_kind::notice, subj,
                     subj + " resolved by " + ctx.who.id + (c.text.empty() ? "." : ": " + display_line(c.text)), std::nullopt, {}, std::nullopt});
  return r;
}

result list(context& ctx) {
  std::vector<std::int64_t> unreadable;
  auto open = ctx.db.unresolved_escalations(&unreadable);
  result r;
  r.detail["count"] = static_cast<std::int64_t>(open.size());
  std::string broken;
  if (!unreadable.empty()) {
    boost::json::array ids;
    for (auto id : unreadable) {
      ids.emplace_back(escalation_id(id));
      broken += (broken.empty() ? "" : ", ") + escalation_id(id);
    }
    r.detail["unreadable"] = std::move(ids);
    broken = "\n" + broken + ": stored data could not be read; tell an operator.";
  }
  if (open.empty()) {
    r.reply = "No open escalations." + broken;
    return r;
  }
  std::string out = "Open escalations:";
  for (const auto& e : open) out += "\n" + escalation_line(ctx.cfg, e, ctx.now);
  r.reply = std::move(out) + broken;
  return r;
}

}  // namespace

std::string escalation_line(const conf::config& cfg, const escalation& e, time_point now) {
  const auto* route = cfg.find_route(e.route);
  std::string out = escalation_id(e.id) + " [" + e.sev + "] " + e.route + ": " + display_line(e.summary) +
                    " | level " + std::to_string(e.level) + "/" +
                    (route ? std::to_string(route->levels.size()) : std::string("?")) + ", age " +
                    format_age(now - e.opened_at) + ", paged " + join(e.notified);
  if (e.status == escalation_status::acked) out += ", acked by " + e.acked_by;
  else if (e.due_at) out += ", next level in " + format_age(*e.due_at - now);
  return out;
}

result handle_escalation(const cmd::command& c, context& ctx) {
  switch (c.v) {
    case cmd::verb::escalate: return escalate(c, ctx);
    case cmd::verb::ack: return ack(c, ctx);
    case cmd::verb::resolve: return resolve(c, ctx);
    case cmd::verb::escalations: return list(ctx);
    default: return invalid("not an escalation command");
  }
}

std::optional<timer_action> fire_escalation(std::int64_t id, const conf::config& cfg, store& db,
                                            time_point now) {
  auto e = db.get_escalation(id);
  if (!e || e->status != escalation_status::open || !e->due_at || *e->due_at > now) return std::nullopt;
  result r;
  r.subject = escalation_id(id);
  const auto* route = cfg.find_route(e->route);
  if (!route || static_cast<std::size_t>(e->level) >= route->levels.size()) {
    // The config changed under a running escalation: stop its timer rather
    // than fire forever, and say so in the record.
    db.page_level(id, e->level, {}, e->level_paged_at, std::nullopt);
    r.outcome = outcome::error;
    r.detail["error"] = route ? "route " + e->route + " has no level " + std::to_string(e->level + 1)
                              : "route " + e->route + " is no longer in the config";
    r.reply = r.subject + ": cannot re-escalate: " + r.detail["error"].as_string().c_str();
    return timer_action{"escalation.level", std::move(r)};
  }
  int next = e->level + 1;
  const time_point was_due = *e->due_at;
  const auto& lvl = route->levels[static_cast<std::size_t>(next - 1)];
  bool out_of_range = false;
  auto next_due = due_after(lvl, now, out_of_range);
  if (out_of_range) {
    // The next level is paged; its own timer cannot be kept, so it is the
    // last one, and the record says why.
    r.detail["error"] = "escalation." + route->name + ".levels[" + std::to_string(next - 1) +
                        "].after: now + after is past 9999-12-31T23:59:59Z; no further level";
  }
  db.page_level(id, next, lvl.notify, now, next_due);
  e->level = next;
  e->level_paged_at = now;
  e->due_at = next_due;
  r.detail["level"] = next;
  r.detail["notified"] = boost::json::array(lvl.notify.begin(), lvl.notify.end());
  r.detail["due_at"] = format_rfc3339_ms(was_due);  // after a restart it fires late, at once
  r.reply = r.subject + " not acknowledged: escalated to level " + std::to_string(next) + ", paging " + join(lvl.notify) + ".";
  add_pages(r, *e, *route, next);
  return timer_action{"escalation.level", std::move(r)};
}

}  // namespace signoff::handlers
