// Draft approvals (SPEC "Drafts"): new, edit, show, list, withdraw, approve,
// reject, and the embargo release timer.
#include <algorithm>

#include "bot/core/text.hpp"
#include "bot/core/time.hpp"
#include "handlers/context.hpp"

namespace signoff::handlers {
namespace {

bool holds_any(const conf::person& p, const std::vector<std::string>& roles) {
  for (const auto& r : p.roles)
    if (std::find(roles.begin(), roles.end(), r) != roles.end()) return true;
  return false;
}

bool contains(const std::vector<std::string>& v, std::string_view x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

struct stage_state {
  const conf::stage* stage;
  std::vector<std::string> approvers;
  bool met() const { return static_cast<int>(approvers.size()) >= stage->count; }
};

std::vector<stage_state> progress(const conf::approval_class& cls, const draft& d) {
  std::vector<stage_state> out;
  for (const auto& s : cls.stages) {
    stage_state st{&s, {}};
    for (const auto& a : d.approvals)
      if (a.stage == s.name) st.approvers.push_back(a.person);
    out.push_back(std::move(st));
  }
  return out;
}

std::string needs_text(const std::vector<stage_state>& st) {
  std::string out;
  for (const auto& s : st) {
    if (s.met()) continue;
    if (!out.empty()) out += ", ";
    out += s.stage->name + " (" + std::to_string(s.approvers.size()) + "/" +
           std::to_string(s.stage->count) + ")";
  }
  return out.empty() ? "nothing" : out;
}

// The in-memory twin of store::set_draft_status.
void set_status(draft& d, draft_status st, const std::string& by, const std::string& note, time_point at) {
  d.status = st;
  d.status_by = by;
  d.status_note = note;
  d.status_at = at;
}

bool may_see(const context& ctx, const draft& d) { return may_see_draft(ctx.cfg, ctx.who, d); }

std::string status_line(const conf::config& cfg, const draft& d) {
  std::string out = draft_id(d.id) + " r" + std::to_string(d.rev) + " [" +
                    std::string(to_string(d.status)) + "] class " + d.cls;
  if (d.status == draft_status::pending) {
    if (const auto* cls = cfg.find_class(d.cls)) out += ", needs " + needs_text(progress(*cls, d));
  }
  if (d.embargo) out += ", embargo " + format_rfc3339_ms(*d.embargo);
  if (d.cleared_at) out += ", cleared " + format_rfc3339_ms(*d.cleared_at);
  return out;
}

// The approval card: what approvers see in the class's channel.
std::string card_text(const conf::config& cfg, const draft& d, std::string_view headline) {
  std::string out = std::string(headline) + "\n" + status_line(cfg, d) + "\n";
  if (!d.targets.empty()) out += "Targets: " + join(d.targets) + "\n";
  out += "Authors: " + join(d.authors) + "\n";
  out += "---\n" + d.text + "\n---";
  if (d.status == draft_status::pending)
    out += "\n/approve " + draft_id(d.id) + "@" + std::to_string(d.rev) + " [NOTE]  |  /reject " +
           draft_id(d.id) + "@" + std::to_string(d.rev) + " REASON";
  return out;
}

std::string channel_of(const conf::config& cfg, const draft& d) {
  const auto* cls = cfg.find_class(d.cls);
  return cls ? cls->channel : std::string("approvals");
}

result with_card(result r, const conf::config& cfg, const draft& d, post_kind kind,
                 std::string_view headline) {
  std::optional<std::int64_t> rev;
  if (d.status == draft_status::pending) rev = d.rev;
  approval_card card{draft_id(d.id), std::string(headline), status_line(cfg, d), d.targets, d.authors, d.text, rev};
  r.posts.push_back({channel_of(cfg, d), kind, draft_id(d.id), card_text(cfg, d, headline), rev, {},
                     std::move(card)});
  return r;
}

result draft_new(const cmd::command& c, context& ctx) {
  std::string cls_name = c.cls.empty() ? "standard" : c.cls;
  const auto* cls = ctx.cfg.find_class(cls_name);
  if (!cls) {
    std::string known;
    for (const auto& k : ctx.cfg.approval) known += (known.empty() ? "" : ", ") + k.name;
    return invalid("unknown approval class '" + cls_name + "' (known: " + known + ")");
  }
  if (!ctx.cfg.has_permission(ctx.who, "draft")) return denied("you may not create drafts");
  new_draft nd{cls_name, c.to, c.embargo, ctx.who.id, c.text, sha256_hex(c.text), next_remind_at(*cls, ctx.now)};
  auto id = ctx.db.create_draft(nd, ctx.now);
  // What was just written, as a value: no read back.
  draft d;
  d.id = id;
  d.cls = cls_name;
  d.rev = 1;
  d.text = nd.text;
  d.text_sha256 = nd.text_sha256;
  d.targets = nd.targets;
  d.embargo = nd.embargo;
  d.remind_at = nd.remind_at;
  d.created_by = d.status_by = ctx.who.id;
  d.created_at = d.status_at = ctx.now;
  d.authors = {ctx.who.id};
  result r;
  r.subject = draft_id(id);
  r.revision = 1;
  r.detail["text_sha256"] = nd.text_sha256;
  r.detail["class"] = cls_name;
  if (c.embargo) r.detail["embargo"] = format_rfc3339_ms(*c.embargo);
  r.reply = draft_id(id) + " created (revision 1, class " + cls_name + "). Needs: " +
            needs_text(progress(*cls, d)) + ". Approval card sent to #" + cls->channel + ".";
  return with_card(std::move(r), ctx.cfg, d, post_kind::card, "New draft for approval");
}

result draft_edit(const cmd::command& c, context& ctx) {
  std::string subj = draft_id(c.id);
  auto d = ctx.db.get_draft(c.id);
  if (!d) return invalid("no draft " + subj, subj);
  if (!ctx.cfg.has_permission(ctx.who, "draft")) return denied("you may not edit drafts", subj);
  if (!contains(d->authors, ctx.who.id) && !ctx.cfg.has_permission(ctx.who, "admin"))
    return denied("only an author of " + subj + " or an admin may edit it", subj);
  if (d->status == draft_status::withdrawn) return invalid(subj + " is withdrawn; a withdrawn draft is final", subj);
  if (c.text == d->text) return invalid("the text is unchanged from revision " + std::to_string(d->rev), subj);
  auto sha = sha256_hex(c.text);
  const auto rev = d->rev + 1;
  // A new revision restarts the reminder clock (SPEC "Reminders").
  const auto* cls = ctx.cfg.find_class(d->cls);
  d->remind_at = cls ? next_remind_at(*cls, ctx.now) : std::nullopt;
  ctx.db.add_revision(c.id, rev, c.text, sha, ctx.who.id, ctx.now, d->remind_at);
  d->rev = rev;
  d->text = c.text;
  d->text_sha256 = sha;
  d->status = draft_status::pending;
  d->status_by = ctx.who.id;
  d->status_at = ctx.now;
  d->status_note.clear();
  d->cleared_at.reset();
  d->approvals.clear();  // approvals of earlier revisions are void
  if (!contains(d->authors, ctx.who.id)) d->authors.push_back(ctx.who.id);
  result r;
  r.subject = subj;
  r.revision = rev;
  r.detail["text_sha256"] = sha;
  r.reply = subj + " is now at revision " + std::to_string(rev) +
            "; every earlier approval is void. Needs: " +
            (cls ? needs_text(progress(*cls, *d)) : "?") + ".";
  return with_card(std::move(r), ctx.cfg, *d, post_kind::card_update, "Draft revised");
}

result draft_show(const cmd::command& c, context& ctx) {
  std::string subj = draft_id(c.id);
  auto d = ctx.db.get_draft(c.id);
  if (!d) return invalid("no draft " + subj, subj);
  if (!may_see(ctx, *d)) return denied("you may not see " + subj, subj);
  result r;
  r.subject = subj;
  r.revision = d->rev;
  std::string out = status_line(ctx.cfg, *d) + "\n";
  if (!d->targets.empty()) out += "Targets: " + join(d->targets) + "\n";
  out += "Authors: " + join(d->authors) + "; created by " + d->created_by + " at " +
         format_rfc3339_ms(d->created_at) + "\n";
  if (const auto* cls = ctx.cfg.find_class(d->cls)) {
    for (const auto& s : progress(*cls, *d))
      out += "Stage " + s.stage->name + ": " + std::to_string(s.approvers.size()) + "/" +
             std::to_string(s.stage->count) + (s.approvers.empty() ? "" : " (" + join(s.approvers) + ")") +
             "\n";
  }
  if (d->status == draft_status::pending && d->remind_at)
    out += "Next reminder: " + format_rfc3339_ms(*d->remind_at) + "\n";
  if (!d->status_note.empty())
    out += std::string(d->status == draft_status::rejected ? "Rejection" : "Reason") + " by " +
           d->status_by + ": " + display_line(d->status_note) + "\n";
  out += "Text (sha256 " + d->text_sha256.substr(0, 12) + "…):\n" + d->text;
  r.reply = std::move(out);
  return r;
}

result draft_list(const cmd::command& c, context& ctx) {
  std::optional<draft_status> filter;
  if (!c.key.empty()) filter = draft_status_from(c.key);
  std::vector<std::int64_t> unreadable;
  auto all = ctx.db.list_drafts(filter, &unreadable);
  result r;
  std::string out;
  std::size_t shown = 0, visible = 0;
  for (const auto& d : all) {
    if (!may_see(ctx, d)) continue;
    ++visible;
    if (shown == 50) continue;
    ++shown;
    std::string first_line = d.text.substr(0, d.text.find('\n'));
    if (code_points(first_line) > 60) {
      std::size_t cut = 0, n = 0;
      while (cut < first_line.size() && n < 57) {
        ++cut;
        while (cut < first_line.size() && (static_cast<unsigned char>(first_line[cut]) & 0xC0u) == 0x80u) ++cut;
        ++n;
      }
      first_line = first_line.substr(0, cut) + "...";
    }
    out += status_line(ctx.cfg, d) + ": " + display_line(first_line) + "\n";
  }
  r.detail["count"] = static_cast<std::int64_t>(visible);
  if (visible == 0) r.reply = "No drafts" + (c.key.empty() ? std::string() : " " + c.key) + " that you may see.";
  else {
    if (visible > shown) out += "(" + std::to_string(visible - shown) + " more not shown)\n";
    out.pop_back();
    r.reply = std::move(out);
  }
  // A row that cannot be read is named, not hidden, and does not stop the list.
  if (!unreadable.empty()) {
    boost::json::array ids;
    std::string names;
    for (auto id : unreadable) {
      ids.emplace_back(draft_id(id));
      names += (names.empty() ? "" : ", ") + draft_id(id);
    }
    r.detail["unreadable"] = std::move(ids);
    r.reply += "\n" + names + ": stored data could not be read; tell an operator.";
  }
  return r;
}

result draft_withdraw(const cmd::command& c, context& ctx) {
  std::string subj = draft_id(c.id);
  auto d = ctx.db.get_draft(c.id);
  if (!d) return invalid("no draft " + subj, subj);
  if (!ctx.cfg.has_permission(ctx.who, "draft") && !ctx.cfg.has_permission(ctx.who, "admin"))
    return denied("you may not withdraw drafts", subj);
  if (!contains(d->authors, ctx.who.id) && !ctx.cfg.has_permission(ctx.who, "admin"))
    return denied("only an author of " + subj + " or an admin may withdraw it", subj);
  if (d->status == draft_status::withdrawn) return invalid(subj + " is already withdrawn", subj);
  ctx.db.set_draft_status(c.id, draft_status::withdrawn, ctx.who.id, c.text, ctx.now);
  set_status(*d, draft_status::withdrawn, ctx.who.id, c.text, ctx.now);
  result r;
  r.subject = subj;
  r.revision = d->rev;
  if (!c.text.empty()) r.detail["reason"] = c.text;
  r.reply = subj + " withdrawn. It is final.";
  return with_card(std::move(r), ctx.cfg, *d, post_kind::card_update, "Draft withdrawn by " + ctx.who.id);
}

// Steps 3 and 4 shared by approve and reject: the draft exists, its class is
// still configured, and the actor has `approve` and a role of one of its stages.
std::optional<result> check_decider(const cmd::command& c, context& ctx, std::optional<draft>& d,
                                    const conf::approval_class*& cls, std::string_view verb) {
  std::string subj = draft_id(c.id);
  d = ctx.db.get_draft(c.id);
  if (!d) return invalid("no draft " + subj, subj);
  cls = ctx.cfg.find_class(d->cls);
  if (!cls) return invalid(subj + "'s class '" + d->cls + "' is no longer in the config", subj);
  if (!ctx.cfg.has_permission(ctx.who, "approve"))
    return denied("you may not " + std::string(verb) + " drafts", subj);
  bool any_stage = false;
  for (const auto& s : cls->stages) any_stage = any_stage || holds_any(ctx.who, s.roles);
  if (!any_stage) return denied("none of your roles approves a stage of class " + d->cls, subj);
  return std::nullopt;
}

result approve(const cmd::command& c, context& ctx) {
  std::string subj = draft_id(c.id);
  std::optional<draft> d;
  const conf::approval_class* cls = nullptr;
  if (auto refused = check_decider(c, ctx, d, cls, "approve")) return *refused;
  // The freeze matters only to a draft that could otherwise be approved.
  std::optional<crisis> active;
  if (d->status == draft_status::pending && d->cls != "crisis") active = ctx.db.active_crisis();
  const auto dec = decide_approve(*d, *cls, ctx.who, c.at_rev, active);
  if (dec.outcome != outcome::ok) {
    auto r = dec.outcome == outcome::denied ? denied(dec.error, subj) : invalid(dec.error, subj);
    r.revision = dec.revision;
    if (dec.crisis) r.detail["crisis"] = crisis_id(*dec.crisis);
    return r;
  }
  approval a{d->rev, dec.stage, ctx.who.id, c.text, ctx.now};
  ctx.db.add_approval(c.id, a);
  d->approvals.push_back(a);
  if (dec.completes) {
    ctx.db.set_draft_status(c.id, draft_status::approved, ctx.who.id, "", ctx.now);
    set_status(*d, draft_status::approved, ctx.who.id, "", ctx.now);
  }
  result r;
  r.subject = subj;
  r.revision = d->rev;
  r.detail["stage"] = dec.stage;
  if (!c.text.empty()) r.detail["note"] = c.text;
  if (dec.completes) {
    r.detail["approved"] = true;
    r.reply = subj + " revision " + std::to_string(d->rev) + " approved (stage " + dec.stage + "). ";
    if (d->embargo && *d->embargo > ctx.now)
      r.reply += "It will be cleared for publication at " + format_rfc3339_ms(*d->embargo) + ".";
    else if (d->embargo)
      r.reply += "Its embargo has passed: it is cleared for publication as soon as no freeze holds it.";
    else
      r.reply += "Cleared for publication.";
    return with_card(std::move(r), ctx.cfg, *d, post_kind::card_update, "Draft approved");
  }
  r.reply = "Approval recorded for " + subj + " revision " + std::to_string(d->rev) + " (stage " +
            dec.stage + "). Still needs: " + needs_text(progress(*cls, *d)) + ".";
  return with_card(std::move(r), ctx.cfg, *d, post_kind::card_update, "Approval by " + ctx.who.id);
}

result reject(const cmd::command& c, context& ctx) {
  std::string subj = draft_id(c.id);
  std::optional<draft> d;
  const conf::approval_class* cls = nullptr;
  if (auto refused = check_decider(c, ctx, d, cls, "reject")) return *refused;
  if (d->status != draft_status::pending)
    return invalid(subj + " is " + std::string(to_string(d->status)) + "; only a pending draft can be rejected", subj);
  if (c.at_rev && *c.at_rev != d->rev) {
    auto r = invalid(subj + " is now at revision " + std::to_string(d->rev) + ", not " +
                         std::to_string(*c.at_rev),
                     subj);
    r.revision = *c.at_rev;
    return r;
  }
  ctx.db.set_draft_status(c.id, draft_status::rejected, ctx.who.id, c.text, ctx.now);
  set_status(*d, draft_status::rejected, ctx.who.id, c.text, ctx.now);
  result r;
  r.subject = subj;
  r.revision = d->rev;
  r.detail["reason"] = c.text;
  r.reply = subj + " revision " + std::to_string(d->rev) + " rejected. The authors (" +
            join(d->authors) + ") can answer with /draft edit " + subj + " TEXT.";
  return with_card(std::move(r), ctx.cfg, *d, post_kind::card_update, "Draft rejected by " + ctx.who.id);
}

}  // namespace

bool may_see_draft(const conf::config& cfg, const conf::person& who, const draft& d) {
  if (contains(d.authors, who.id)) return true;
  if (cfg.has_permission(who, "admin") || cfg.has_permission(who, "audit")) return true;
  if (const auto* cls = cfg.find_class(d.cls))
    for (const auto& s : cls->stages)
      if (holds_any(who, s.roles)) return true;
  return false;
}

approve_decision decide_approve(const draft& d, const conf::approval_class& cls, const conf::person& who,
                                std::optional<std::int64_t> at_rev, const std::optional<crisis>& active) {
  approve_decision out;
  const std::string subj = draft_id(d.id);
  auto refuse = [&](outcome o, std::string why) {
    out.outcome = o;
    out.error = std::move(why);
    return out;
  };
  // SPEC step 4 (the actor may not) before step 5 (the draft's state refuses).
  if (contains(d.authors, who.id)) return refuse(outcome::denied, "an author never approves their own draft");
  auto st = progress(cls, d);
  const stage_state* target = nullptr;
  if (d.status == draft_status::pending) {
    for (const auto& a : d.approvals)
      if (a.person == who.id)
        return refuse(outcome::denied, "you already approved revision " + std::to_string(d.rev) + " (stage " +
                                       a.stage + "); one person never satisfies two stages");
    for (const auto& s : st)
      if (!s.met() && holds_any(who, s.stage->roles)) {
        target = &s;
        break;
      }
    if (!target) return refuse(outcome::denied, "the stages you may approve for " + subj + " are already met");
  }
  if (d.status != draft_status::pending)
    return refuse(outcome::invalid, subj + " is " + std::string(to_string(d.status)) +
                                    (d.status == draft_status::rejected ? "; a revision (/draft edit) reopens it" : ""));
  if (at_rev && *at_rev != d.rev) {
    out.revision = *at_rev;
    return refuse(outcome::invalid, subj + " is now at revision " + std::to_string(d.rev) + ", not " +
                                    std::to_string(*at_rev) + "; review the new text first");
  }
  if (active && d.cls != "crisis") {
    out.revision = d.rev;
    out.crisis = active->id;
    return refuse(outcome::invalid, "content is frozen by crisis " + crisis_id(active->id) + " (" +
                                    display_line(active->title) +
                                    "); only class crisis drafts may be approved until it ends");
  }
  out.stage = target->stage->name;
  // Met once this approval counts: every other stage met, and this one
  // with the approver added.
  out.completes = std::all_of(st.begin(), st.end(), [&](const stage_state& s) {
    return &s == target ? static_cast<int>(s.approvers.size()) + 1 >= s.stage->count : s.met();
  });
  return out;
}

result handle_draft(const cmd::command& c, context& ctx) {
  switch (c.v) {
    case cmd::verb::draft_new: return draft_new(c, ctx);
    case cmd::verb::draft_edit: return draft_edit(c, ctx);
    case cmd::verb::draft_show: return draft_show(c, ctx);
    case cmd::verb::draft_list: return draft_list(c, ctx);
    case cmd::verb::draft_withdraw: return draft_withdraw(c, ctx);
    default: return invalid("not a draft command");
  }
}

result handle_decision(const cmd::command& c, context& ctx) {
  return c.v == cmd::verb::approve ? approve(c, ctx) : reject(c, ctx);
}

reminder_plan decide_reminder(const draft& d, const conf::approval_class& cls,
                              const std::vector<conf::person>& people) {
  reminder_plan out;
  auto signed_rev = [&](const std::string& who) {
    return std::any_of(d.approvals.begin(), d.approvals.end(),
                       [&](const approval& a) { return a.rev == d.rev && a.person == who; });
  };
  std::vector<const conf::person*> reminded;
  for (const auto& s : progress(cls, d)) {
    if (s.met()) continue;
    stage_reminder sr{s.stage->name, s.stage->count - static_cast<int>(s.approvers.size()), {}};
    for (const auto& p : people) {
      if (!holds_any(p, s.stage->roles) || contains(d.authors, p.id) || signed_rev(p.id)) continue;
      sr.people.push_back(p.id);
      if (std::find(reminded.begin(), reminded.end(), &p) == reminded.end()) reminded.push_back(&p);
    }
    out.stages.push_back(std::move(sr));
  }
  // In config order, as the stages list them.
  for (const auto& p : people)
    if (std::find(reminded.begin(), reminded.end(), &p) != reminded.end()) out.reminded.push_back(p.id);
  return out;
}

std::optional<time_point> next_remind_at(const conf::approval_class& cls, time_point from) {
  if (!cls.remind_after) return std::nullopt;
  return checked_add(from, std::chrono::duration_cast<std::chrono::milliseconds>(*cls.remind_after));
}

std::optional<timer_action> remind_draft(std::int64_t id, const conf::config& cfg, store& db, time_point now) {
  auto d = db.get_draft(id);
  if (!d || d->status != draft_status::pending || !d->remind_at || *d->remind_at > now) return std::nullopt;
  if (d->cls != "crisis" && db.active_crisis()) return std::nullopt;  // frozen: paused
  const std::string subj = draft_id(id);
  result r;
  r.subject = subj;
  r.revision = d->rev;
  const auto* cls = cfg.find_class(d->cls);
  auto plan = cls ? decide_reminder(*d, *cls, cfg.people) : reminder_plan{};
  if (!cls || !cls->remind_after || plan.stages.empty()) {
    // The config changed under a waiting reminder: stop it rather than fire
    // forever, and say so in the record (as escalation.level does).
    db.set_remind_at(id, std::nullopt);
    r.outcome = outcome::error;
    r.detail["error"] = !cls ? "class " + d->cls + " is no longer in the config"
                        : !cls->remind_after ? "approval." + d->cls + " no longer sets remind_after"
                                             : "no stage of class " + d->cls + " is unmet";
    r.reply = subj + ": reminders stopped: " + std::string(r.detail["error"].as_string());
    return timer_action{"draft.remind", std::move(r)};
  }
  // The next one counts from this one; one reminder however late it fires
  // (after a freeze or a restart), never a burst of missed ones.
  const auto next = next_remind_at(*cls, now);
  db.set_remind_at(id, next);
  boost::json::array stages;
  std::string needs;
  for (const auto& s : plan.stages) {
    boost::json::object o;
    o["stage"] = s.stage;
    o["missing"] = s.missing;
    o["people"] = boost::json::array(s.people.begin(), s.people.end());
    stages.push_back(std::move(o));
    needs += "\n" + s.stage + " needs " + std::to_string(s.missing) + " more: ";
    if (s.people.empty()) needs += "nobody in the config can still sign it";
    for (std::size_t i = 0; i < s.people.size(); ++i) needs += (i ? " @" : "@") + s.people[i];
  }
  r.detail["reminded"] = boost::json::array(plan.reminded.begin(), plan.reminded.end());
  r.detail["stages"] = std::move(stages);
  if (next) r.detail["next_reminder"] = format_rfc3339_ms(*next);
  r.reply = "Reminder: " + subj + " revision " + std::to_string(d->rev) + " (class " + d->cls +
            ") has waited " + format_age(std::chrono::duration_cast<std::chrono::milliseconds>(now - d->status_at)) +
            " for approval." + needs + "\n/approve " + subj + "@" + std::to_string(d->rev) +
            " [NOTE]  |  /draft show " + subj;
  r.posts.push_back({cls->channel, post_kind::notice, subj, r.reply, std::nullopt, plan.reminded, std::nullopt});
  return timer_action{"draft.remind", std::move(r)};
}

std::optional<timer_action> clear_embargo(std::int64_t id, const conf::config& cfg, store& db,
                                          time_point now) {
  auto d = db.get_draft(id);
  if (!d || d->status != draft_status::approved || d->cleared_at || !d->embargo || *d->embargo > now)
    return std::nullopt;
  if (db.active_crisis() && d->cls != "crisis") return std::nullopt;  // frozen: waits
  db.mark_cleared(id, now);
  d->cleared_at = now;
  result r;
  r.subject = draft_id(id);
  r.revision = d->rev;
  r.detail["embargo"] = format_rfc3339_ms(*d->embargo);
  r.detail["text_sha256"] = d->text_sha256;
  r.reply = draft_id(id) + " revision " + std::to_string(d->rev) +
            " is cleared for publication (embargo " + format_rfc3339_ms(*d->embargo) + " passed)" +
            (d->targets.empty() ? "" : " to " + join(d->targets)) + ".";
  r.posts.push_back({channel_of(cfg, *d), post_kind::notice, draft_id(id), r.reply, std::nullopt, {}, std::nullopt});
  return timer_action{"draft.cleared", std::move(r)};
}

}  // namespace signoff::handlers
