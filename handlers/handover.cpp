// /handover (SPEC "Shift handover"): loads the state once, then builds the
// summary with a pure function (build_handover).
#include "handlers/handover.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>

#include "bot/core/text.hpp"
#include "bot/core/time.hpp"
#include "handlers/context.hpp"

namespace signoff::handlers {
namespace {

// The first line of a draft's text, at most 40 code points, as a reader sees it.
std::string headline(const std::string& text) {
  std::string first = display_line(text.substr(0, text.find('\n')));
  if (code_points(first) <= 40) return first;
  std::size_t cut = 0, n = 0;
  while (cut < first.size() && n < 39) {
    ++cut;
    while (cut < first.size() && (static_cast<unsigned char>(first[cut]) & 0xC0u) == 0x80u) ++cut;
    ++n;
  }
  return first.substr(0, cut) + "…";
}

// One section: "Title (N):" then up to `cap` lines, then "… and K more";
// an empty section is one line "Title (0): none."
std::string section(std::string_view title, const std::vector<std::string>& lines, std::size_t cap) {
  std::string out = std::string(title) + " (" + std::to_string(lines.size()) + ")";
  if (lines.empty()) return out + ": none.";
  out += ":";
  for (std::size_t i = 0; i < lines.size() && i < cap; ++i) out += "\n  " + lines[i];
  if (lines.size() > cap) out += "\n  … and " + std::to_string(lines.size() - cap) + " more";
  return out;
}

std::string string_in(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// "2026-12-01T12:03Z slack #approvals card D-3: channel_not_found"
std::string failed_post_line(const audit::record& r) {
  boost::system::error_code ec;
  auto v = boost::json::parse(r.detail, ec);
  boost::json::object d;
  if (!ec && v.is_object()) d = std::move(v.get_object());
  std::string where = string_in(d, "channel_name");
  if (!where.empty() && !where.starts_with('@')) where = "#" + where;
  std::string out = (r.ts.size() >= 16 ? r.ts.substr(0, 16) + "Z" : r.ts) + " " + r.platform;
  if (!where.empty()) out += " " + where;
  if (auto kind = string_in(d, "kind"); !kind.empty()) out += " " + kind;
  if (!r.subject.empty()) out += " " + r.subject;
  if (auto err = string_in(d, "error"); !err.empty()) out += ": " + err;
  return display_line(out);
}

}  // namespace

handover_summary build_handover(const conf::config& cfg, const conf::person& who, const handover_input& in,
                                time_point now, const handover_options& opt) {
  handover_summary out;
  const auto hours = static_cast<std::int64_t>(opt.window.count());

  // Pending drafts the actor may see, the longest waiting first.
  std::vector<const draft*> pending;
  for (const auto& d : in.pending)
    if (d.status == draft_status::pending && may_see_draft(cfg, who, d)) pending.push_back(&d);
  std::stable_sort(pending.begin(), pending.end(),
                   [](const draft* a, const draft* b) { return a->status_at < b->status_at; });
  std::vector<std::string> pending_lines;
  for (const auto* d : pending) {
    std::string line = draft_id(d->id) + " r" + std::to_string(d->rev) + " " + d->cls + ", waiting " +
                       format_age(now - d->status_at) + ": " + headline(d->text) + " | needs ";
    if (const auto* cls = cfg.find_class(d->cls)) {
      std::string needs;
      for (const auto& u : decide_reminder(*d, *cls, cfg.people).stages) {
        int need = 0;
        for (const auto& st : cls->stages)
          if (st.name == u.stage) need = st.count;
        needs += (needs.empty() ? "" : "; ") + u.stage + " " + std::to_string(need - u.missing) + "/" +
                 std::to_string(need) + " (" + (u.people.empty() ? "nobody can sign" : join(u.people)) + ")";
      }
      line += needs.empty() ? "nothing" : needs;
    } else {
      line += "? (class " + d->cls + " is no longer in the config)";
    }
    pending_lines.push_back(std::move(line));
  }

  // Approved drafts the actor may see whose embargo passes within the window.
  const time_point until = checked_add(now, std::chrono::duration_cast<std::chrono::milliseconds>(opt.window))
                               .value_or(max_time);
  std::vector<const draft*> embargoed;
  for (const auto& d : in.approved)
    if (d.status == draft_status::approved && d.embargo && !d.cleared_at && *d.embargo <= until &&
        may_see_draft(cfg, who, d))
      embargoed.push_back(&d);
  std::stable_sort(embargoed.begin(), embargoed.end(),
                   [](const draft* a, const draft* b) { return *a->embargo < *b->embargo; });
  std::vector<std::string> embargo_lines;
  for (const auto* d : embargoed) {
    std::string line = draft_id(d->id) + " r" + std::to_string(d->rev) + " " + d->cls + ": embargo " +
                       format_rfc3339_ms(*d->embargo);
    if (*d->embargo > now) line += " (in " + format_age(*d->embargo - now) + ")";
    else if (in.active && d->cls != "crisis") line += " (passed; held by the freeze of " + crisis_id(in.active->id) + ")";
    else line += " (passed; clearing now)";
    if (!d->targets.empty()) line += " to " + join(d->targets);
    line += ": " + headline(d->text);
    embargo_lines.push_back(std::move(line));
  }

  std::vector<std::string> escalation_lines;
  for (const auto& e : in.open) escalation_lines.push_back(escalation_line(cfg, e, now));

  std::vector<std::string> failed_lines;
  for (const auto& r : in.failed_posts) failed_lines.push_back(failed_post_line(r));

  std::string text = "Handover for " + who.id + " at " + format_rfc3339_ms(now) + "\n";
  if (in.active)
    text += "Crisis: " + crisis_id(in.active->id) + " [" + in.active->sev + "] " + display_line(in.active->title) +
            ", active for " + format_age(now - in.active->started_at) + " (started by " + in.active->started_by +
            "); content is frozen.\n";
  else
    text += "Crisis: none active.\n";
  text += section("Pending drafts", pending_lines, opt.per_section) + "\n";
  text += section("Embargoes in the next " + std::to_string(hours) + "h", embargo_lines, opt.per_section) + "\n";
  text += section("Open escalations", escalation_lines, opt.per_section) + "\n";
  text += section("Failed posts, last 24h", failed_lines, opt.per_section);

  std::string unreadable;
  for (auto id : in.unreadable_drafts) unreadable += (unreadable.empty() ? "" : ", ") + draft_id(id);
  for (auto id : in.unreadable_escalations) unreadable += (unreadable.empty() ? "" : ", ") + escalation_id(id);
  if (!unreadable.empty()) text += "\n" + unreadable + ": stored data could not be read; tell an operator.";
  out.text = std::move(text);

  out.detail["hours"] = hours;
  out.detail["pending"] = static_cast<std::int64_t>(pending_lines.size());
  out.detail["embargoes"] = static_cast<std::int64_t>(embargo_lines.size());
  out.detail["escalations"] = static_cast<std::int64_t>(escalation_lines.size());
  out.detail["failed_posts"] = static_cast<std::int64_t>(failed_lines.size());
  if (in.active) out.detail["crisis"] = crisis_id(in.active->id);
  return out;
}

result handle_handover(const cmd::command& c, context& ctx) {
  handover_input in;
  in.pending = ctx.db.list_drafts(draft_status::pending, &in.unreadable_drafts);
  in.approved = ctx.db.list_drafts(draft_status::approved, &in.unreadable_drafts);
  in.open = ctx.db.unresolved_escalations(&in.unreadable_escalations);
  in.active = ctx.db.active_crisis();
  audit::filter f;
  f.action = "post.failed";
  f.since = std::max(ctx.now - std::chrono::hours(24), min_time);
  f.limit = 1000;  // the count is exact up to here; the list shows far fewer
  in.failed_posts = ctx.db.query_audit(f);
  handover_options opt;
  if (c.hours) opt.window = std::chrono::hours(*c.hours);
  auto s = build_handover(ctx.cfg, ctx.who, in, ctx.now, opt);
  result r;
  r.reply = std::move(s.text);
  r.detail = std::move(s.detail);
  return r;
}

}  // namespace signoff::handlers
