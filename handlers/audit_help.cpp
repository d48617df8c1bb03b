// /audit (auditors and admins) and help (what the actor may use).
#include <boost/json/parse.hpp>

#include "bot/core/text.hpp"
#include "bot/core/time.hpp"
#include "handlers/context.hpp"

namespace signoff::handlers {

result handle_audit_console(const cmd::command&, context& ctx, const std::string& token) {
  if (!ctx.cfg.has_permission(ctx.who, "audit"))
    return denied("only auditors and admins may open the audit console");
  if (!ctx.cfg.console) return invalid("the audit console is not configured on this signoff (no [console] section)");
  const std::string hash = sha256_hex(token);
  const time_point expires = ctx.now + std::chrono::minutes(5);
  ctx.db.add_console_token(hash, ctx.who.id, ctx.now, expires);
  result r;
  r.detail["token_id"] = hash.substr(0, 12);  // names the link in its console.login record
  r.detail["expires_at"] = format_rfc3339_ms(expires);
  r.reply = "Your audit console link (for you alone: single use, valid 5 minutes):\n" + ctx.cfg.console->base_url +
            "login?token=" + token;
  r.secret_reply = true;
  return r;
}

result handle_audit(const cmd::command& c, context& ctx) {
  if (!ctx.cfg.has_permission(ctx.who, "audit")) return denied("only auditors and admins may query the audit log");
  audit::filter f;
  f.subject = c.key;
  f.actor = c.actor;
  f.action = c.action;
  f.since = c.since;
  f.until = c.until;
  f.limit = c.limit.value_or(20);
  auto rows = ctx.db.query_audit(f);
  result r;
  r.subject = c.key;
  r.detail["count"] = static_cast<std::int64_t>(rows.size());
  if (rows.empty()) {
    r.reply = "No matching audit records.";
    return r;
  }
  std::string out = "Audit records, newest first:";
  for (const auto& rec : rows) {
    // One record, one line: user text inside it is flattened (display_line),
    // so a reason holding "\r#4 … ok" cannot pass for a record of its own.
    out += "\n#" + std::to_string(rec.seq) + " " + rec.ts + " " + display_line(rec.actor) + " " +
           display_line(rec.action);
    if (!rec.subject.empty()) out += " " + display_line(rec.subject);
    if (rec.revision) out += " r" + std::to_string(*rec.revision);
    out += " " + rec.outcome;
    // The one detail field a reader most wants inline: why, or what was said.
    boost::system::error_code ec;
    auto v = boost::json::parse(rec.detail, ec);
    if (!ec && v.is_object()) {
      for (const char* k : {"error", "reason", "note"})
        if (auto* x = v.as_object().if_contains(k); x && x->is_string()) {
          out += " (" + std::string(k) + ": " + display_line(x->as_string()) + ")";
          break;
        }
    }
  }
  r.reply = std::move(out);
  return r;
}

std::string help_text(const conf::config& cfg, const conf::person* who) {
  if (!who)
    return "You are not in signoff's config, so you may only ask for help. An admin can add your "
           "platform user ID to [[people]] in signoff.toml.\n" +
           std::string(cmd::usage_of(cmd::verb::help));
  auto has = [&](std::string_view perm) { return cfg.has_permission(*who, perm); };
  bool sees_drafts = has("draft") || has("approve") || has("audit") || has("admin");
  for (const auto& cls : cfg.approval)
    for (const auto& s : cls.stages)
      for (const auto& r : who->roles)
        for (const auto& sr : s.roles) sees_drafts = sees_drafts || r == sr;
  std::string out = "Commands you (" + who->id + ") may use:";
  for (auto v : cmd::all_verbs()) {
    bool ok = true;
    switch (v) {
      case cmd::verb::draft_new: case cmd::verb::draft_edit: ok = has("draft") || (v == cmd::verb::draft_edit && has("admin")); break;
      case cmd::verb::draft_withdraw: ok = has("draft") || has("admin"); break;
      case cmd::verb::draft_show: case cmd::verb::draft_list: ok = sees_drafts; break;
      case cmd::verb::approve: case cmd::verb::reject: ok = has("approve"); break;
      case cmd::verb::crisis_start: case cmd::verb::crisis_end: case cmd::verb::hold_issue: ok = has("crisis"); break;
      case cmd::verb::audit: case cmd::verb::audit_console: ok = has("audit"); break;
      default: break;
    }
    if (ok) out += "\n  " + std::string(cmd::usage_of(v));
  }
  out += "\nIDs: drafts D-n, escalations E-n, crises C-n. Options come first; `--` ends them.";
  return out;
}

}  // namespace signoff::handlers
