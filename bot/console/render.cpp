#include "bot/console/render.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <map>

#include "bot/core/enums.hpp"

namespace signoff::console {
namespace {

// ---------------------------------------------------------------- building

std::string num(std::int64_t v) { return std::to_string(v); }

// Fixed-point with `prec` decimals, locale-free (printf would follow
// LC_NUMERIC); non-finite values print as 0.
std::string fixed(double v, int prec) {
  if (!std::isfinite(v)) v = 0;
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, prec);
  if (r.ec != std::errc{}) return "0";
  return std::string(buf, r.ptr);
}

// Coordinates in the SVG: one decimal is plenty.
std::string px(double v) { return fixed(v, 1); }

std::string hours(double seconds) {
  const double h = std::isfinite(seconds) && seconds > 0 ? seconds / 3600.0 : 0.0;
  return fixed(h, h < 1 ? 2 : 1) + " h";
}

bool is_draft_id(std::string_view s) {
  if (s.size() < 3 || s.substr(0, 2) != "D-") return false;
  return std::all_of(s.begin() + 2, s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A cell with escaped text; `cls` is one of ours, never a value.
void td(std::string& out, std::string_view text, std::string_view cls = {}) {
  out += cls.empty() ? "<td>" : "<td class=\"" + std::string(cls) + "\">";
  out += escape(text);
  out += "</td>";
}

void th_row(std::string& out, std::initializer_list<std::string_view> heads) {
  out += "<thead><tr>";
  for (auto h : heads) {
    out += "<th scope=\"col\">";
    out += h;
    out += "</th>";
  }
  out += "</tr></thead>";
}

// `label` is ours (trusted markup-free text); `value` is escaped.
void fact(std::string& out, std::string_view label, std::string_view value) {
  out += "<dt>";
  out += label;
  out += "</dt><dd>";
  out += value.empty() ? "<span class=\"muted\">-</span>" : escape(value);
  out += "</dd>";
}

void fact_html(std::string& out, std::string_view label, const std::string& html) {
  out += "<dt>";
  out += label;
  out += "</dt><dd>" + html + "</dd>";
}

// The CSS class for an outcome: only SPEC's four make a class, so a
// hand-edited value cannot inject one.
std::string outcome_class(std::string_view o) {
  if (parse_outcome(o)) return "outcome-" + std::string(o);
  return {};
}

std::string draft_link(std::string_view id) {
  return "<a href=\"draft?id=" + url_encode(id) + "\">" + escape(id) + "</a>";
}

// The whole document around `body`. `current` names the nav entry to mark.
std::string document(std::string_view title, const nav* n, std::string_view current,
                     const std::string& body) {
  std::string out;
  out.reserve(body.size() + 1500);
  out +=
      "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<meta name=\"robots\" content=\"noindex\">\n<title>";
  out += escape(title);
  out += " - signoff audit</title>\n<link rel=\"stylesheet\" href=\"console.css\">\n</head>\n<body>\n";
  out += "<header class=\"top\"><span class=\"brand\">signoff audit</span>";
  if (n) {
    static constexpr std::pair<std::string_view, std::string_view> links[] = {
        {"log", "Log"}, {"escalations", "Escalations"}, {"crises", "Crises"},
        {"chain", "Chain"}, {"charts", "Charts"}};
    out += "<nav aria-label=\"Console\">";
    for (const auto& [href, label] : links) {
      out += "<a href=\"";
      out += href;
      out += href == current ? "\" aria-current=\"page\">" : "\">";
      out += label;
      out += "</a>";
    }
    out += "</nav><div class=\"who\"><span>";
    out += escape(n->person_name.empty() ? n->person : n->person_name);
    out += " <span class=\"mono\">(" + escape(n->person) + ")</span></span>";
    out +=
        "<form method=\"post\" action=\"logout\"><button type=\"submit\">Sign out</button>"
        "</form></div>";
  }
  out += "</header>\n<main>\n";
  out += body;
  out += "\n</main>\n</body>\n</html>\n";
  return out;
}

// The log's columns, shared by the log and a crisis's held-back records.
void record_table(std::string& out, const std::vector<audit::record>& rows) {
  out += "<table class=\"records\">";
  th_row(out, {"seq", "ts", "platform", "actor", "action", "subject", "rev", "outcome", "detail"});
  out += "<tbody>";
  for (const auto& r : rows) {
    const bool refused = r.outcome != "ok";
    out += refused ? "<tr class=\"refused\">" : "<tr>";
    td(out, num(r.seq), "num");
    td(out, r.ts, "mono");
    td(out, r.platform);
    td(out, r.actor);
    td(out, r.action, "mono");
    if (is_draft_id(r.subject)) {
      out += "<td>" + draft_link(r.subject) + "</td>";
    } else {
      td(out, r.subject);
    }
    td(out, r.revision ? num(*r.revision) : std::string(), "num");
    td(out, r.outcome, outcome_class(r.outcome));
    out += "<td class=\"detail\"><code>" + escape(r.detail) + "</code></td>";
    out += "</tr>";
  }
  out += "</tbody></table>";
}

// ---------------------------------------------------------------- charts

// A "nice" axis step (1, 2 or 5 times a power of ten) giving at most about
// five intervals up to `max`.
double nice_step(double max) {
  if (!(max > 0) || !std::isfinite(max)) return 1;
  const double raw = max / 5;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0}) {
    if (m * mag >= raw) return m * mag;
  }
  return 10 * mag;
}

double clamp0(double v) { return std::isfinite(v) && v > 0 ? v : 0; }

struct frame {
  double left = 56, right = 16, top = 14, plot_h = 240, bottom = 46;
  double width = 0, min_width = 480;
  double min_plot_w() const { return min_width - left - right; }
  double height() const { return top + plot_h + bottom; }
  double base() const { return top + plot_h; }
};

// Opens the <svg>, draws the y grid with labels, and returns the scale
// (pixels per unit).
double open_chart(std::string& out, const frame& f, std::string_view id, std::string_view title,
                  std::string_view desc, double max, std::string_view unit, bool integral) {
  double step = nice_step(max);
  if (integral) step = std::max(1.0, std::ceil(step));
  const double top_value = std::max(step, std::ceil(clamp0(max) / step) * step);
  const double scale = f.plot_h / top_value;
  out += "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" viewBox=\"0 0 " +
         px(f.width) + " " + px(f.height()) + "\" width=\"" + px(f.width) + "\" height=\"" +
         px(f.height()) + "\" aria-labelledby=\"" + std::string(id) + "-t " + std::string(id) +
         "-d\">";
  out += "<title id=\"" + std::string(id) + "-t\">" + escape(title) + "</title>";
  out += "<desc id=\"" + std::string(id) + "-d\">" + escape(desc) + "</desc>";
  const int ticks = static_cast<int>(std::lround(top_value / step));
  for (int i = 0; i <= ticks; ++i) {
    const double v = step * i;
    const double y = f.base() - v * scale;
    out += "<path class=\"" + std::string(i == 0 ? "axis" : "grid") + "\" d=\"M" + px(f.left) +
           " " + px(y) + "H" + px(f.width - f.right) + "\"/>";
    out += "<text x=\"" + px(f.left - 6) + "\" y=\"" + px(y + 3) + "\" text-anchor=\"end\">" +
           fixed(v, integral || step >= 1 ? 0 : (step >= 0.1 ? 1 : 2)) + "</text>";
  }
  out += "<path class=\"axis\" d=\"M" + px(f.left) + " " + px(f.top) + "V" + px(f.base()) + "\"/>";
  out += "<text x=\"12\" y=\"" + px(f.top + f.plot_h / 2) + "\" text-anchor=\"middle\" transform=\"rotate(-90 12 " +
         px(f.top + f.plot_h / 2) + ")\">" + std::string(unit) + "</text>";
  return scale;
}

void no_data(std::string& out, const frame& f, std::string_view text) {
  out += "<text class=\"nodata\" x=\"" + px((f.left + f.width - f.right) / 2) + "\" y=\"" +
         px(f.top + f.plot_h / 2) + "\" text-anchor=\"middle\">" + std::string(text) + "</text>";
}

// An x label every `every` groups so they do not overlap.
void x_label(std::string& out, double x, const frame& f, std::string_view text) {
  out += "<text x=\"" + px(x) + "\" y=\"" + px(f.base() + 14) + "\" text-anchor=\"middle\">" +
         escape(text) + "</text>";
}

void approvals_chart(std::string& out, const std::vector<approval_week>& data) {
  std::vector<std::string> classes, weeks;
  for (const auto& a : data) {
    if (std::find(classes.begin(), classes.end(), a.cls) == classes.end()) classes.push_back(a.cls);
    weeks.push_back(a.week);
  }
  std::sort(weeks.begin(), weeks.end());
  weeks.erase(std::unique(weeks.begin(), weeks.end()), weeks.end());
  double max_h = 0;
  for (const auto& a : data) max_h = std::max({max_h, clamp0(a.median_s) / 3600, clamp0(a.p90_s) / 3600});

  constexpr double bar = 14, gap = 10;
  const double bars = static_cast<double>(std::max<std::size_t>(classes.size(), 1)) * bar;
  frame f;
  // A few weeks spread over the minimum width rather than huddle at the left.
  const double group = std::max(bars + gap, f.min_plot_w() / static_cast<double>(std::max<std::size_t>(weeks.size(), 1)));
  f.width = f.left + static_cast<double>(weeks.size()) * group + f.right;
  f.width = std::max(f.width, f.min_width);

  out += "<figure class=\"chart\"><figcaption>Approval time per class per week</figcaption>";
  const double scale = open_chart(
      out, f, "chart-approvals", "Approval time per class per week",
      "Bars: median hours from a revision's writing to the draft's approval; whiskers: 90th "
      "percentile.",
      max_h, "hours", false);
  if (data.empty()) no_data(out, f, "No approvals yet");

  const auto every = static_cast<std::size_t>(std::max(1.0, std::ceil(64 / group)));
  for (std::size_t wi = 0; wi < weeks.size(); ++wi) {
    if (wi % every == 0) {
      x_label(out, f.left + (static_cast<double>(wi) + 0.5) * group, f, weeks[wi]);
    }
  }
  for (const auto& a : data) {
    const auto wi = static_cast<std::size_t>(std::lower_bound(weeks.begin(), weeks.end(), a.week) - weeks.begin());
    const auto ci = static_cast<std::size_t>(std::find(classes.begin(), classes.end(), a.cls) - classes.begin());
    const double x = f.left + static_cast<double>(wi) * group + (group - bars) / 2 + static_cast<double>(ci) * bar;
    const double med = clamp0(a.median_s) / 3600 * scale;
    const double p90 = std::max(med, clamp0(a.p90_s) / 3600 * scale);
    const double mid = x + (bar - 2) / 2;
    out += "<g class=\"pt s" + num(static_cast<std::int64_t>(ci % 8)) + "\"><title>" +
           escape(a.cls) + ", " + escape(a.week) + ": median " + hours(a.median_s) + ", p90 " +
           hours(a.p90_s) + ", " + num(a.drafts) + (a.drafts == 1 ? " draft" : " drafts") + "</title>";
    out += "<rect class=\"median\" x=\"" + px(x) + "\" y=\"" + px(f.base() - med) + "\" width=\"" +
           px(bar - 2) + "\" height=\"" + px(med) + "\"/>";
    out += "<path class=\"p90\" d=\"M" + px(mid) + " " + px(f.base() - med) + "V" + px(f.base() - p90) +
           "M" + px(mid - 3) + " " + px(f.base() - p90) + "H" + px(mid + 3) + "\"/></g>";
  }
  out += "</svg><ul class=\"legend\">";
  for (std::size_t ci = 0; ci < classes.size(); ++ci) {
    out += "<li><span class=\"swatch s" + num(static_cast<std::int64_t>(ci % 8)) + "\"></span>" +
           escape(classes[ci]) + "</li>";
  }
  out += "<li><span class=\"whisker\"></span>bar: median, whisker: 90th percentile</li></ul>";
  out += "<details><summary>As a table</summary><table>";
  th_row(out, {"class", "week", "drafts", "median", "p90"});
  out += "<tbody>";
  for (const auto& a : data) {
    out += "<tr>";
    td(out, a.cls);
    td(out, a.week, "mono");
    td(out, num(a.drafts), "num");
    td(out, hours(a.median_s), "num");
    td(out, hours(a.p90_s), "num");
    out += "</tr>";
  }
  out += "</tbody></table></details></figure>";
}

void commands_chart(std::string& out, const std::vector<outcome_day>& data) {
  auto pos = [](std::int64_t v) { return static_cast<double>(std::max<std::int64_t>(v, 0)); };
  double max_n = 0;
  for (const auto& d : data) max_n = std::max(max_n, pos(d.ok) + pos(d.denied) + pos(d.invalid) + pos(d.error));

  constexpr double bar = 10, gap = 3;
  frame f;
  const double group = std::max(bar + gap, std::min(4 * bar, f.min_plot_w() / static_cast<double>(std::max<std::size_t>(data.size(), 1))));
  f.width = std::max(f.min_width, f.left + static_cast<double>(data.size()) * group + f.right);

  out += "<figure class=\"chart\"><figcaption>Commands per day by outcome</figcaption>";
  const double scale = open_chart(out, f, "chart-commands", "Commands per day by outcome",
                                  "Stacked bars: commands each day, by outcome (ok, denied, invalid, error).",
                                  max_n, "commands", true);
  if (data.empty()) no_data(out, f, "No commands yet");

  const auto every = static_cast<std::size_t>(std::max(1.0, std::ceil(72 / group)));
  for (std::size_t i = 0; i < data.size(); ++i) {
    const auto& d = data[i];
    const double x = f.left + static_cast<double>(i) * group + (group - bar) / 2;
    if (i % every == 0) x_label(out, x + bar / 2, f, d.day);
    out += "<g class=\"pt\"><title>" + escape(d.day) + ": " + num(d.ok) + " ok, " + num(d.denied) +
           " denied, " + num(d.invalid) + " invalid, " + num(d.error) + " error</title>";
    double y = f.base();
    const std::pair<std::string_view, std::int64_t> parts[] = {
        {"o-ok", d.ok}, {"o-denied", d.denied}, {"o-invalid", d.invalid}, {"o-error", d.error}};
    for (const auto& [cls, count] : parts) {
      const double h = pos(count) * scale;
      if (h <= 0) continue;
      y -= h;
      out += "<rect class=\"" + std::string(cls) + "\" x=\"" + px(x) + "\" y=\"" + px(y) + "\" width=\"" +
             px(bar) + "\" height=\"" + px(h) + "\"/>";
    }
    out += "</g>";
  }
  out += "</svg><ul class=\"legend\">";
  for (auto o : all_outcomes) {
    out += "<li><span class=\"swatch o-" + std::string(to_string(o)) + "\"></span>" +
           std::string(to_string(o)) + "</li>";
  }
  out += "</ul><details><summary>As a table</summary><table>";
  th_row(out, {"day", "ok", "denied", "invalid", "error"});
  out += "<tbody>";
  for (const auto& d : data) {
    out += "<tr>";
    td(out, d.day, "mono");
    td(out, num(d.ok), "num");
    td(out, num(d.denied), "num");
    td(out, num(d.invalid), "num");
    td(out, num(d.error), "num");
    out += "</tr>";
  }
  out += "</tbody></table></details></figure>";
}

}  // namespace

// ---------------------------------------------------------------- public

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string url_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

namespace {

// The filters in the order of the form, with their labels.
struct filter_field {
  std::string_view name, label;
  const std::string log_filter::*member;
};
constexpr filter_field filter_fields[] = {
    {"subject", "Subject", &log_filter::subject}, {"actor", "Actor", &log_filter::actor},
    {"action", "Action", &log_filter::action},    {"outcome", "Outcome", &log_filter::outcome},
    {"platform", "Platform", &log_filter::platform}, {"since", "Since", &log_filter::since},
    {"until", "Until", &log_filter::until}};

}  // namespace

std::string log_query(const log_filter& f, std::int64_t before) {
  std::string q;
  for (const auto& field : filter_fields) {
    const std::string& v = f.*field.member;
    if (v.empty()) continue;
    if (!q.empty()) q += '&';
    q += field.name;
    q += '=';
    q += url_encode(v);
  }
  if (before > 0) {
    if (!q.empty()) q += '&';
    q += "before=" + num(before);
  }
  return q;
}

std::string render_log(const log_page& p, const nav& n) {
  std::string b;
  b += "<h1>Audit log</h1>";
  if (!p.error.empty()) b += "<p class=\"error\" role=\"alert\">" + escape(p.error) + "</p>";

  b += "<form class=\"filters\" method=\"get\" action=\"log\">";
  for (const auto& field : filter_fields) {
    const std::string name(field.name);
    b += "<label>";
    b += field.label;
    b += "<input type=\"text\" name=\"" + name + "\" value=\"" + escape(p.filter.*field.member) + "\"";
    if (name == "outcome" || name == "platform") b += " list=\"" + name + "-values\"";
    if (name == "since" || name == "until") b += " placeholder=\"7d or 2026-11-22T00:00:00Z\"";
    if (name == "subject") b += " placeholder=\"D-12\"";
    b += "></label>";
  }
  b += "<datalist id=\"outcome-values\">";
  for (auto o : all_outcomes) b += "<option value=\"" + std::string(to_string(o)) + "\"></option>";
  b += "</datalist><datalist id=\"platform-values\">";
  for (auto pl : all_platforms) b += "<option value=\"" + std::string(to_string(pl)) + "\"></option>";
  b += "</datalist><button type=\"submit\">Filter</button> <a href=\"log\">Clear</a></form>";

  const std::string q = log_query(p.filter);
  auto pager = [&] {
    std::string s = "<nav class=\"pager\" aria-label=\"Pages\">";
    if (p.newer) {
      const std::string nq = log_query(p.filter, *p.newer);
      s += "<a rel=\"prev\" href=\"log" + (nq.empty() ? std::string() : "?" + escape(nq)) + "\">Newer</a>";
    }
    if (p.older > 0) {
      s += "<a rel=\"next\" href=\"log?" + escape(log_query(p.filter, p.older)) + "\">Older</a>";
    }
    s += "</nav>";
    return s;
  };

  if (p.before > 0) b += "<p class=\"muted\">Records before seq " + num(p.before) + ".</p>";
  if (p.rows.empty()) {
    b += "<p class=\"empty\">No records match.</p>";
  } else {
    b += pager();
    record_table(b, p.rows);
  }
  b += pager();

  b += "<form class=\"export\" method=\"post\" action=\"export\">";
  for (const auto& field : filter_fields) {
    const std::string& v = p.filter.*field.member;
    if (v.empty()) continue;
    b += "<input type=\"hidden\" name=\"" + std::string(field.name) + "\" value=\"" + escape(v) + "\">";
  }
  b += "<span>Export ";
  b += q.empty() ? "every record" : "the records that match";
  b += ":</span><button type=\"submit\" name=\"format\" value=\"csv\">CSV</button>"
       "<button type=\"submit\" name=\"format\" value=\"jsonl\">JSONL</button></form>";
  return document("Log", &n, "log", b);
}

std::string render_timeline(const timeline& t, const nav& n) {
  if (!t.found) {
    const std::string what = t.draft.empty() ? "No such draft" : "No draft " + t.draft;
    return document(what, &n, "", "<h1>" + escape(what) + "</h1><p>There is no draft with that id. "
                                  "<a href=\"log\">Back to the log</a></p>");
  }
  std::string b;
  b += "<h1>Draft " + escape(t.draft) + "</h1><dl class=\"facts\">";
  fact(b, "Class", t.cls);
  fact(b, "Status", t.status);
  fact(b, "Created by", t.created_by);
  fact(b, "Created at", t.created_at);
  fact(b, "Embargo", t.embargo);
  fact(b, "Cleared at", t.cleared_at);
  std::string targets;
  for (const auto& tg : t.targets) targets += (targets.empty() ? "" : ", ") + escape(tg);
  fact_html(b, "Targets", targets.empty() ? "<span class=\"muted\">-</span>" : targets);
  fact_html(b, "Records", "<a href=\"log?subject=" + url_encode(t.draft) + "\">the log for " +
                              escape(t.draft) + "</a>");
  b += "</dl>";

  b += "<h2>Revisions</h2>";
  if (t.revisions.empty()) b += "<p class=\"empty\">No revisions.</p>";
  for (std::size_t i = 0; i < t.revisions.size(); ++i) {
    const auto& r = t.revisions[i];
    b += "<section class=\"card\" id=\"rev-" + num(r.rev) + "\"><h3>Revision " + num(r.rev) + "</h3>";
    b += "<dl class=\"facts\">";
    fact(b, "Author", r.author);
    fact(b, "At", r.at);
    fact_html(b, "SHA-256", "<code>" + escape(r.text_sha256) + "</code>");
    b += "</dl>";
    if (i > 0) {
      b += "<p>Changes from revision " + num(t.revisions[i - 1].rev) + ":</p><pre class=\"diff\">" +
           render_diff(word_diff(t.revisions[i - 1].text, r.text)) + "</pre>";
      b += "<details><summary>Full text</summary><pre class=\"text\">" + escape(r.text) + "</pre></details>";
    } else {
      b += "<pre class=\"text\">" + escape(r.text) + "</pre>";
    }
    b += "</section>";
  }

  b += "<h2>Decisions and events</h2>";
  if (t.events.empty()) {
    b += "<p class=\"empty\">No events.</p>";
  } else {
    b += "<table class=\"events\">";
    th_row(b, {"seq", "at", "person", "action", "outcome", "rev", "stage", "note, reason or error"});
    b += "<tbody>";
    for (const auto& e : t.events) {
      b += e.outcome != "ok" ? "<tr class=\"refused\">" : "<tr>";
      b += "<td class=\"num\"><a href=\"log?before=" + num(e.seq + 1) + "\">" + num(e.seq) + "</a></td>";
      td(b, e.at, "mono");
      td(b, e.actor);
      td(b, e.action, "mono");
      td(b, e.outcome, outcome_class(e.outcome));
      td(b, e.revision ? num(*e.revision) : std::string(), "num");
      td(b, e.stage);
      td(b, e.note, "detail");
      b += "</tr>";
    }
    b += "</tbody></table>";
  }

  b += "<h2>Posts</h2>";
  if (t.posts.empty()) {
    b += "<p class=\"empty\">No posts.</p>";
  } else {
    b += "<table class=\"posts\">";
    th_row(b, {"outbox", "kind", "platform", "channel", "status", "message ID", "at"});
    b += "<tbody>";
    for (const auto& po : t.posts) {
      b += "<tr>";
      td(b, num(po.outbox_id), "num");
      td(b, po.kind);
      td(b, po.platform);
      td(b, po.channel, "mono");
      td(b, po.status);
      td(b, po.message_id, "mono");
      td(b, po.at, "mono");
      b += "</tr>";
    }
    b += "</tbody></table>";
  }
  return document("Draft " + t.draft, &n, "", b);
}

std::string render_escalations(const std::vector<escalation_view>& v, const nav& n) {
  std::string b = "<h1>Escalations</h1>";
  if (v.empty()) b += "<p class=\"empty\">No escalations.</p>";
  for (const auto& e : v) {
    b += "<section class=\"card\" id=\"esc-" + num(e.id) + "\"><h2>E-" + num(e.id) + " " +
         escape(e.summary) + "</h2><dl class=\"facts\">";
    fact(b, "Route", e.route);
    fact(b, "Severity", e.sev);
    fact(b, "Status", e.status);
    fact(b, "Level", num(e.level));
    fact(b, "Opened", e.opened_by.empty() ? e.opened_at : e.opened_by + " at " + e.opened_at);
    fact(b, "Acknowledged", e.acked_by.empty() ? std::string() : e.acked_by + " at " + e.acked_at);
    fact(b, "Resolved", e.resolved_by.empty() ? std::string() : e.resolved_by + " at " + e.resolved_at);
    if (!e.resolve_note.empty()) fact(b, "Resolve note", e.resolve_note);
    fact_html(b, "Records", "<a href=\"log?subject=" + url_encode("E-" + num(e.id)) + "\">the log</a>");
    b += "</dl>";
    if (!e.levels.empty()) {
      b += "<table class=\"levels\">";
      th_row(b, {"level", "paged at", "notified"});
      b += "<tbody>";
      for (const auto& l : e.levels) {
        std::string who;
        for (const auto& p : l.notified) who += (who.empty() ? "" : ", ") + p;
        b += "<tr>";
        td(b, num(l.level), "num");
        td(b, l.paged_at, "mono");
        td(b, who);
        b += "</tr>";
      }
      b += "</tbody></table>";
    }
    b += "</section>";
  }
  return document("Escalations", &n, "escalations", b);
}

std::string render_crises(const std::vector<crisis_view>& v, const nav& n) {
  std::string b = "<h1>Crises</h1>";
  if (v.empty()) b += "<p class=\"empty\">No crises.</p>";
  for (const auto& c : v) {
    b += "<section class=\"card\" id=\"crisis-" + num(c.id) + "\"><h2>C-" + num(c.id) + " " +
         escape(c.title) + "</h2><dl class=\"facts\">";
    fact(b, "Severity", c.sev);
    fact(b, "Started", c.started_by.empty() ? c.started_at : c.started_by + " at " + c.started_at);
    fact(b, "Ended", c.ended_by.empty() && c.ended_at.empty()
                         ? std::string("still active")
                         : c.ended_by + (c.ended_by.empty() ? "" : " at ") + c.ended_at);
    if (!c.end_note.empty()) fact(b, "End note", c.end_note);
    fact_html(b, "Records", "<a href=\"log?subject=" + url_encode("C-" + num(c.id)) + "\">the log</a>");
    b += "</dl><h3>Statements issued</h3>";
    if (c.statements.empty()) {
      b += "<p class=\"empty\">None.</p>";
    } else {
      b += "<table class=\"statements\">";
      th_row(b, {"seq", "at", "person", "statement", "version", "text SHA-256"});
      b += "<tbody>";
      for (const auto& s : c.statements) {
        b += "<tr>";
        td(b, num(s.seq), "num");
        td(b, s.at, "mono");
        td(b, s.actor);
        td(b, s.key, "mono");
        td(b, num(s.version), "num");
        td(b, s.text_sha256, "mono");
        b += "</tr>";
      }
      b += "</tbody></table>";
    }
    b += "<h3>Held back by the freeze</h3>";
    if (c.held_back.empty()) {
      b += "<p class=\"empty\">Nothing.</p>";
    } else {
      record_table(b, c.held_back);
    }
    b += "</section>";
  }
  return document("Crises", &n, "crises", b);
}

std::string render_chain(const chain_view& c, const nav& n) {
  std::string b = "<h1>Audit chain</h1><h2>State</h2><dl class=\"facts\">";
  fact(b, "Records", num(c.records));
  fact_html(b, "Last hash", "<code>" + escape(c.last_hash) + "</code>");
  fact(b, "Last record at", c.last_ts);
  b += "</dl><h2>Last verify</h2><dl class=\"facts\">";
  if (!c.verify_ok) {
    fact_html(b, "Result", "<span class=\"muted\">not run yet</span>");
  } else if (*c.verify_ok) {
    fact_html(b, "Result", "<span class=\"verify-ok\">intact</span>");
  } else {
    fact_html(b, "Result", "<span class=\"verify-bad\">FAILED</span>");
  }
  if (c.verify_ok) {
    fact(b, "At", c.verify_at);
    fact(b, "Records checked", num(c.verified_records));
    if (!c.verify_problem.empty()) fact(b, "Problem", c.verify_problem);
  }
  b += "</dl><h2>Latest checkpoint</h2>";
  if (!c.latest_checkpoint) {
    b += "<p class=\"empty\">No checkpoint yet.</p>";
  } else {
    const auto& cp = *c.latest_checkpoint;
    b += "<dl class=\"facts\">";
    fact(b, "Tree size", num(cp.size));
    fact_html(b, "Root hash", "<code>" + escape(cp.root_hash) + "</code>");
    fact(b, "At", cp.ts);
    b += "</dl><p>The signed note:</p><pre class=\"note\">" + escape(cp.note) + "</pre>";
  }
  b += "<h2>Verifier key</h2>";
  if (c.verifier_key.empty()) {
    b += "<p class=\"empty\">No signing key: the config has no [audit] section.</p>";
  } else {
    b += "<pre class=\"key\">" + escape(c.verifier_key) + "</pre>";
  }
  return document("Chain", &n, "chain", b);
}

std::string render_charts(const charts& c, const nav& n) {
  std::string b = "<h1>Charts</h1>";
  approvals_chart(b, c.approvals);
  commands_chart(b, c.commands);
  return document("Charts", &n, "charts", b);
}

std::string render_login(const std::string& person, const std::string& person_name,
                         const std::string& token) {
  const std::string who = (person_name.empty() ? person : person_name) + " (" + person + ")";
  std::string b = "<div class=\"signin\"><h1>Sign in as " + escape(who) + "</h1>";
  b += "<p>This link came to you in chat. It works once, within 5 minutes of being sent.</p>";
  b += "<form method=\"post\" action=\"login\"><input type=\"hidden\" name=\"token\" value=\"" +
       escape(token) + "\"><button class=\"primary\" type=\"submit\">Sign in</button></form>";
  b += "<p class=\"muted\">Not you? Close this page; the link expires by itself.</p></div>";
  return document("Sign in", nullptr, "", b);
}

std::string render_message(std::string_view title, std::string_view text) {
  return document(title, nullptr, "",
                  "<div class=\"signin\"><h1>" + escape(title) + "</h1><p>" + escape(text) + "</p></div>");
}

}  // namespace signoff::console
