// Crises and holding statements (SPEC "Crises and holding statements").
#include <map>

#include "bot/core/text.hpp"
#include "bot/core/time.hpp"
#include "handlers/context.hpp"

namespace signoff::handlers {
namespace {

std::string describe(const crisis& c, time_point now) {
  std::string out = crisis_id(c.id) + " [" + c.sev + "] " + display_line(c.title) + ", started by " +
                    c.started_by + " at " + format_rfc3339_ms(c.started_at);
  if (c.ended_at)
    out += ", ended by " + c.ended_by + " at " + format_rfc3339_ms(*c.ended_at);
  else
    out += " (" + format_age(now - c.started_at) + " ago)";
  if (!c.statement.empty()) out += ", statement " + c.statement;
  return out;
}

std::int64_t begin_crisis(context& ctx, const std::string& sev, const std::string& title,
                          const std::string& statement) {
  crisis c;
  c.sev = sev;
  c.title = title;
  c.statement = statement;
  c.started_by = ctx.who.id;
  c.started_at = ctx.now;
  return ctx.db.start_crisis(c);
}

result crisis_start(const cmd::command& c, context& ctx) {
  if (!ctx.cfg.has_permission(ctx.who, "crisis")) return denied("only crisis leads may start a crisis");
  if (auto cur = ctx.db.active_crisis()) {
    auto r = invalid("crisis " + crisis_id(cur->id) + " is already active; one crisis at a time",
                     crisis_id(cur->id));
    r.detail["crisis"] = crisis_id(cur->id);
    return r;
  }
  auto id = begin_crisis(ctx, c.key, c.text, "");
  result r;
  r.subject = crisis_id(id);
  r.detail["crisis"] = r.subject;
  r.detail["sev"] = c.key;
  r.reply = r.subject + " [" + c.key + "] started: " + display_line(c.text) +
            ". Content is frozen: only class crisis drafts may be approved and embargo releases wait "
            "until /crisis end.";
  return r;
}

result crisis_end(const cmd::command& c, context& ctx) {
  if (!ctx.cfg.has_permission(ctx.who, "crisis")) return denied("only crisis leads may end a crisis");
  auto cur = ctx.db.active_crisis();
  if (!cur) return invalid("there is no active crisis");
  ctx.db.end_crisis(cur->id, ctx.who.id, c.text, ctx.now);
  result r;
  r.subject = crisis_id(cur->id);
  r.detail["crisis"] = r.subject;
  if (!c.text.empty()) r.detail["note"] = c.text;
  auto waiting = ctx.db.due_embargoes(ctx.now, false).size();
  r.reply = r.subject + " ended after " + format_age(ctx.now - cur->started_at) + ". The freeze is lifted";
  r.reply += waiting ? "; " + std::to_string(waiting) + " embargoed draft(s) are released now." : ".";
  return r;
}

result crisis_status(context& ctx) {
  result r;
  if (auto cur = ctx.db.active_crisis()) {
    r.subject = crisis_id(cur->id);
    r.detail["crisis"] = r.subject;
    r.reply = "Active crisis: " + describe(*cur, ctx.now) + ". Content is frozen.";
  } else if (auto last = ctx.db.last_crisis()) {
    r.reply = "No active crisis. Last: " + describe(*last, ctx.now) + ".";
  } else {
    r.reply = "No active crisis.";
  }
  return r;
}

result hold_list(context& ctx) {
  result r;
  if (ctx.cfg.statements.empty()) {
    r.reply = "No holding statements in the config.";
    return r;
  }
  std::string out = "Holding statements:";
  for (const auto& s : ctx.cfg.statements) {
    out += "\n" + s.key + " [" + s.severity + "] v" + std::to_string(s.version) + " " + s.title +
           " -> #" + s.channel;
    if (!s.placeholders.empty()) {
      out += " (needs";
      for (const auto& p : s.placeholders) out += " " + p + "=…";
      out += ")";
    }
  }
  r.reply = std::move(out);
  return r;
}

// Checks NAME=VALUE against a statement's placeholders: unknown names are
// refused; the missing ones are returned, blank values included (SPEC: every
// placeholder gets a non-blank value). Values go into a public statement as
// one line: line breaks and control characters become spaces.
std::optional<result> check_values(const conf::holding_statement& s, const cmd::command& c,
                                   std::vector<std::string>& missing,
                                   std::map<std::string, std::string>& values) {
  std::string unknown;
  for (const auto& [name, value] : c.values) {
    bool known = false;
    for (const auto& p : s.placeholders) known = known || p == name;
    if (!known) unknown += (unknown.empty() ? "" : ", ") + quote_arg(name, 20);
    const std::string v = display_line(value, " ");
    std::string_view t = trim(v);
    if (!t.empty()) values[name] = std::string(t);
  }
  if (!unknown.empty()) {
    std::string expected;
    for (const auto& p : s.placeholders) expected += (expected.empty() ? "" : ", ") + p;
    return invalid("unknown placeholder(s) " + unknown + " for " + s.key +
                       (expected.empty() ? " (it has none)" : " (it has: " + expected + ")"),
                   s.key);
  }
  for (const auto& p : s.placeholders)
    if (!values.count(p)) missing.push_back(p);
  return std::nullopt;
}

std::string preview(const conf::holding_statement& s, std::map<std::string, std::string> values,
                    const std::vector<std::string>& missing) {
  for (const auto& m : missing) values[m] = "{" + m + "}";
  return conf::fill_template(s.text, values);
}

result hold_show(const cmd::command& c, context& ctx) {
  const auto* s = ctx.cfg.find_statement(c.key);
  if (!s) return invalid("no holding statement '" + c.key + "' (see /hold list)", c.key);
  std::vector<std::string> missing;
  std::map<std::string, std::string> values;
  if (auto err = check_values(*s, c, missing, values)) return *err;
  result r;
  r.subject = s->key;
  r.detail["statement_version"] = s->version;
  std::string approvers;
  for (const auto& a : s->approved_by) approvers += (approvers.empty() ? "" : ", ") + a;
  std::string out = s->key + " [" + s->severity + "] v" + std::to_string(s->version) + " " +
                    s->title + " -> #" + s->channel + "\nApproved by " + approvers + " on " +
                    s->approved_on + "\n";
  if (c.values.empty()) {
    out += "---\n" + s->text + "\n---";
  } else {
    out += "Preview (nothing posted):\n---\n" + preview(*s, values, missing) + "\n---";
    if (!missing.empty()) {
      std::string m;
      for (const auto& x : missing) m += (m.empty() ? "" : ", ") + x;
      out += "\nStill missing (or blank): " + m;
    }
  }
  r.reply = std::move(out);
  return r;
}

result hold_issue(const cmd::command& c, context& ctx) {
  const auto* s = ctx.cfg.find_statement(c.key);
  if (!s) return invalid("no holding statement '" + c.key + "' (see /hold list)", c.key);
  if (!ctx.cfg.has_permission(ctx.who, "crisis"))
    return denied("only crisis leads may issue holding statements", s->key);
  std::vector<std::string> missing;
  std::map<std::string, std::string> values;
  if (auto err = check_values(*s, c, missing, values)) return *err;
  if (!missing.empty()) {
    std::string m, example;
    for (const auto& x : missing) {
      m += (m.empty() ? "" : ", ") + x;
      example += " " + x + "=\"…\"";
    }
    return invalid("missing or blank value(s) for " + m + ". Give each a non-blank value: /hold issue " +
                       s->key + example,
                   s->key);
  }
  std::string text = conf::fill_template(s->text, values);
  result r;
  r.subject = s->key;
  r.detail["statement_version"] = s->version;
  r.detail["text_sha256"] = sha256_hex(text);
  std::string crisis_note;
  if (auto cur = ctx.db.active_crisis()) {
    r.detail["crisis"] = crisis_id(cur->id);
    crisis_note = " under active crisis " + crisis_id(cur->id) + ".";
  } else {
    auto id = begin_crisis(ctx, s->severity, s->title, s->key);
    r.detail["crisis"] = crisis_id(id);
    r.detail["crisis_started"] = true;
    crisis_note = ". Started crisis " + crisis_id(id) + " [" + s->severity +
                  "]: content is frozen until /crisis end.";
  }
  r.posts.push_back({s->channel, post_kind::statement, s->key, text, std::nullopt, {}, std::nullopt});
  r.reply = "Holding statement " + s->key + " v" + std::to_string(s->version) +
            " queued for #" + s->channel + crisis_note;
  return r;
}

}  // namespace

result handle_crisis(const cmd::command& c, context& ctx) {
  switch (c.v) {
    case cmd::verb::crisis_start: return crisis_start(c, ctx);
    case cmd::verb::crisis_end: return crisis_end(c, ctx);
    case cmd::verb::crisis_status: return crisis_status(ctx);
    case cmd::verb::hold_list: return hold_list(ctx);
    case cmd::verb::hold_show: return hold_show(c, ctx);
    case cmd::verb::hold_issue: return hold_issue(c, ctx);
    default: return invalid("not a crisis command");
  }
}

}  // namespace signoff::handlers
