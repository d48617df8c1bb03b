// The audit console's HTML (SPEC "Audit console"): hostile values stay text
// on every page, links stay relative, paging keeps the filters, the word
// diff on known inputs, and the SVG charts draw one element per data point.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "bot/console/render.hpp"

namespace {

using namespace signoff::console;

// ------------------------------------------------------------ a tag reader
// A small HTML tokenizer, enough for what the renderer emits: it finds every
// tag and its attributes the way a browser would split them, so a value that
// escaped its quotes shows up as an attribute of its own.

struct tag {
  std::string name;
  bool closing = false, self_closing = false;
  std::vector<std::pair<std::string, std::string>> attrs;
  std::string attr(std::string_view n) const {
    for (const auto& [k, v] : attrs) {
      if (k == n) return v;
    }
    return {};
  }
};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

struct parsed {
  std::vector<tag> tags;
  std::string text;  // all text outside tags, concatenated
};

parsed parse(const std::string& h) {
  parsed out;
  std::size_t i = 0;
  while (i < h.size()) {
    if (h[i] != '<') {
      out.text += h[i++];
      continue;
    }
    if (h.compare(i, 2, "<!") == 0) {
      const auto e = h.find('>', i);
      REQUIRE(e != std::string::npos);
      i = e + 1;
      continue;
    }
    tag t;
    ++i;
    if (i < h.size() && h[i] == '/') {
      t.closing = true;
      ++i;
    }
    while (i < h.size() && !space(h[i]) && h[i] != '>' && h[i] != '/') t.name += h[i++];
    t.name = lower(t.name);
    for (;;) {
      while (i < h.size() && space(h[i])) ++i;
      REQUIRE(i < h.size());
      if (h[i] == '>') {
        ++i;
        break;
      }
      if (h[i] == '/') {
        t.self_closing = true;
        ++i;
        continue;
      }
      std::string name;
      while (i < h.size() && !space(h[i]) && h[i] != '=' && h[i] != '>' && h[i] != '/') name += h[i++];
      std::string value;
      if (i < h.size() && h[i] == '=') {
        ++i;
        if (i < h.size() && (h[i] == '"' || h[i] == '\'')) {
          const char q = h[i++];
          const auto e = h.find(q, i);
          REQUIRE(e != std::string::npos);
          value = h.substr(i, e - i);
          i = e + 1;
        } else {
          while (i < h.size() && !space(h[i]) && h[i] != '>') value += h[i++];
        }
      }
      t.attrs.emplace_back(lower(name), value);
    }
    out.tags.push_back(std::move(t));
  }
  return out;
}

std::string unescape_amp(std::string s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s.compare(i, 5, "&amp;") == 0) {
      out += '&';
      i += 4;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool relative_url(const std::string& u) {
  if (u.empty() || u[0] == '/' || u[0] == '\\') return false;
  const auto stop = u.find_first_of("/?#");
  const auto colon = u.find(':');
  return colon == std::string::npos || (stop != std::string::npos && colon > stop);
}

// What every page promises, checked on its markup.
void check_page(const std::string& html) {
  INFO(html);
  CHECK(html.rfind("<!doctype html>", 0) == 0);
  CHECK(html.find("<meta charset=\"utf-8\">") != std::string::npos);
  CHECK(html.find("<link rel=\"stylesheet\" href=\"console.css\">") != std::string::npos);
  // Anywhere in the raw text, escaped or not: a script tag or a style
  // attribute can only come from our own markup, which has none.
  CHECK(lower(html).find("<script") == std::string::npos);
  CHECK(html.find(" style=") == std::string::npos);

  const auto p = parse(html);
  // Escaped text has no '>' left: a raw one means a value was not escaped.
  CHECK(p.text.find('>') == std::string::npos);
  static const std::set<std::string> voids = {"meta", "link", "input", "br", "hr", "img"};
  std::vector<std::string> open;
  for (const auto& t : p.tags) {
    INFO("tag <" << t.name << ">");
    CHECK(t.name != "script");
    CHECK(t.name != "iframe");
    CHECK(t.name != "img");
    for (const auto& [k, v] : t.attrs) {
      INFO("attribute " << k << "=" << v);
      CHECK(k.rfind("on", 0) != 0);
      CHECK(k != "style");
      CHECK(k != "srcdoc");
      if (k == "href" || k == "action" || k == "src" || k == "xlink:href" || k == "formaction") {
        CHECK(relative_url(v));
      }
    }
    if (t.closing) {
      REQUIRE_FALSE(open.empty());
      CHECK(open.back() == t.name);
      open.pop_back();
    } else if (!t.self_closing && !voids.count(t.name)) {
      open.push_back(t.name);
    }
  }
  CHECK(open.empty());
}

std::size_t count(const std::string& hay, std::string_view needle) {
  std::size_t n = 0;
  for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + needle.size())) ++n;
  return n;
}

bool has(const std::string& hay, std::string_view needle) { return hay.find(needle) != std::string::npos; }

// The hostile values: a draft text that fires two dialogs if it is markup,
// and a value that breaks out of an attribute if quotes are not escaped.
const std::string evil_text = "<script>alert(1)</script><img src=x onerror=alert(2)>";
const std::string evil_text_escaped =
    "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;";
const std::string evil_attr = "x\" onmouseover=\"alert(3)\" a='b' <b>&amp;";
const std::string evil_attr_escaped =
    "x&quot; onmouseover=&quot;alert(3)&quot; a=&#39;b&#39; &lt;b&gt;&amp;amp;";

const nav evil_nav{"p\"<x>", "Eve <script>"};
const nav alice{"alice", "Alice Adams"};

signoff::audit::record rec(std::int64_t seq, std::string subject, std::string outcome = "ok") {
  signoff::audit::record r;
  r.seq = seq;
  r.ts = "2026-11-22T10:00:0" + std::to_string(seq % 10) + ".000Z";
  r.platform = "slack";
  r.actor = "bob";
  r.action = "draft.approve";
  r.subject = std::move(subject);
  r.revision = 2;
  r.outcome = std::move(outcome);
  r.detail = R"({"note":"ok"})";
  return r;
}

signoff::audit::record evil_rec(std::int64_t seq) {
  auto r = rec(seq, evil_attr, evil_attr);
  r.ts = evil_attr;
  r.platform = evil_attr;
  r.workspace = r.channel = evil_attr;
  r.actor = evil_attr;
  r.action = evil_text;
  r.detail = evil_text;
  return r;
}

log_filter evil_filter() {
  log_filter f;
  f.subject = f.actor = f.action = f.since = f.until = f.outcome = f.platform = evil_attr;
  return f;
}

timeline sample_timeline() {
  timeline t;
  t.draft = "D-7";
  t.found = true;
  t.cls = "press";
  t.status = "approved";
  t.created_by = "carol";
  t.created_at = "2026-11-20T09:00:00.000Z";
  t.targets = {"slack:#news", "mattermost:town-square"};
  t.revisions = {{1, "We will ship the quick fix on Monday.", "aa11", "carol", "2026-11-20T09:00:00.000Z"},
                 {2, "We will ship the full fix on Tuesday.", "bb22", "carol", "2026-11-20T10:00:00.000Z"}};
  t.events = {{10, "2026-11-20T09:00:00.000Z", "carol", "draft.new", "ok", 1, "", ""},
              {12, "2026-11-20T11:00:00.000Z", "dave", "draft.approve", "denied", 2, "", "not an approver"},
              {13, "2026-11-20T11:05:00.000Z", "bob", "draft.approve", "ok", 2, "legal", "fine by legal"},
              {14, "2026-11-20T11:06:00.000Z", "erin", "draft.reject", "ok", 1, "", "wrong day"}};
  t.posts = {{3, "card", "slack", "C024BE91L", "sent", "1700000000.000100", "2026-11-20T11:07:00.000Z", "", ""}};
  return t;
}

timeline evil_timeline() {
  timeline t;
  t.draft = evil_attr;
  t.found = true;
  t.cls = t.status = t.created_by = t.created_at = t.embargo = t.cleared_at = evil_attr;
  t.targets = {evil_attr, evil_text};
  t.revisions = {{1, evil_text, evil_attr, evil_attr, evil_attr},
                 {2, evil_text + " and more " + evil_attr, evil_attr, evil_attr, evil_attr}};
  t.events = {{1, evil_attr, evil_attr, evil_text, evil_attr, 1, evil_attr, evil_text}};
  t.posts = {{1, evil_attr, evil_attr, evil_attr, evil_attr, evil_text, evil_attr, evil_attr, evil_text}};
  return t;
}

std::vector<escalation_view> evil_escalations() {
  escalation_view e;
  e.id = 4;
  e.route = e.sev = e.summary = e.opened_by = e.opened_at = e.status = evil_attr;
  e.acked_by = e.acked_at = e.resolved_by = e.resolved_at = evil_attr;
  e.resolve_note = evil_text;
  e.levels = {{1, {evil_attr, evil_text}, evil_attr}, {2, {"frank"}, "2026-11-22T10:15:00.000Z"}};
  return {e};
}

std::vector<crisis_view> evil_crises() {
  crisis_view c;
  c.id = 2;
  c.sev = c.title = c.started_by = c.started_at = c.ended_by = c.ended_at = evil_attr;
  c.end_note = evil_text;
  c.statements = {{40, evil_attr, evil_attr, evil_text, evil_attr, 3}};
  c.held_back = {evil_rec(41)};
  return {c};
}

chain_view evil_chain() {
  chain_view c;
  c.records = 42;
  c.last_hash = c.last_ts = evil_attr;
  c.verify_ok = false;
  c.verify_at = evil_attr;
  c.verify_problem = evil_text;
  c.latest_checkpoint = checkpoint_view{40, evil_attr, evil_attr, evil_text};
  c.verifier_key = evil_attr;
  return c;
}

charts evil_charts() {
  charts c;
  c.approvals = {{evil_attr, evil_text, 3, 3600, 7200}, {evil_text, evil_attr, 1, 60, 90}};
  c.commands = {{evil_attr, 1, 2, 3, 4}};
  return c;
}

charts sample_charts() {
  charts c;
  for (int w = 44; w <= 48; ++w) {
    const std::string week = "2026-W" + std::to_string(w);
    c.approvals.push_back({"press", week, w, 3600.0 * (w - 40), 3600.0 * (w - 38)});
    if (w % 2 == 0) c.approvals.push_back({"security", week, 2, 1800.0 * (w - 43), 5400.0 * (w - 43)});
  }
  for (int d = 1; d <= 9; ++d) {
    c.commands.push_back({"2026-11-0" + std::to_string(d), 10 * d, d, d % 3, d == 5 ? 7 : 0});
  }
  return c;
}

escalation_view sample_escalation() {
  escalation_view e;
  e.id = 3;
  e.route = "db";
  e.sev = "sev2";
  e.summary = "disk full";
  e.opened_by = "gina";
  e.opened_at = "2026-11-22T10:00:00.000Z";
  e.status = "acked";
  e.level = 2;
  e.acked_by = "frank";
  e.acked_at = "2026-11-22T10:20:00.000Z";
  e.levels = {{1, {"gina", "hal"}, "2026-11-22T10:00:00.000Z"}, {2, {"frank"}, "2026-11-22T10:15:00.000Z"}};
  return e;
}

crisis_view sample_crisis() {
  crisis_view c;
  c.id = 1;
  c.sev = "sev1";
  c.title = "outage";
  c.started_by = "ivy";
  c.started_at = "2026-11-22T11:00:00.000Z";
  c.statements = {{50, "2026-11-22T11:05:00.000Z", "ivy", "outage-initial", "abcd1234", 2}};
  c.held_back = {rec(51, "D-8", "denied")};
  return c;
}

// The <svg>...</svg> pieces of a page, in order.
std::vector<std::string> svgs(const std::string& html) {
  std::vector<std::string> out;
  for (auto p = html.find("<svg"); p != std::string::npos; p = html.find("<svg", p + 1)) {
    const auto e = html.find("</svg>", p);
    REQUIRE(e != std::string::npos);
    out.push_back(html.substr(p, e + 6 - p));
  }
  return out;
}

std::vector<tag> tags_named(const std::string& html, std::string_view name) {
  std::vector<tag> out;
  for (auto& t : parse(html).tags) {
    if (t.name == name && !t.closing) out.push_back(t);
  }
  return out;
}

std::string reassemble(const std::vector<diff_op>& ops, diff_op::kind skip) {
  std::string s;
  for (const auto& op : ops) {
    if (op.k != skip) s += op.text;
  }
  return s;
}

}  // namespace

TEST_CASE("escape turns the five markup characters into entities", "[console][render]") {
  CHECK(escape("a&b<c>d\"e'f") == "a&amp;b&lt;c&gt;d&quot;e&#39;f");
  CHECK(escape(evil_text) == evil_text_escaped);
  CHECK(escape(evil_attr) == evil_attr_escaped);
  CHECK(escape("") == "");
  CHECK(escape("plain \xC3\xA9t\xC3\xA9") == "plain \xC3\xA9t\xC3\xA9");
}

TEST_CASE("url_encode keeps only unreserved characters", "[console][render]") {
  CHECK(url_encode("D-7") == "D-7");
  CHECK(url_encode("a b&c=d/e?f#g") == "a%20b%26c%3Dd%2Fe%3Ff%23g");
  CHECK(url_encode("~._-AZaz09") == "~._-AZaz09");
  CHECK(url_encode("\xC3\xA9\"<") == "%C3%A9%22%3C");
}

TEST_CASE("hostile values stay text on every page", "[console][render]") {
  log_page lp;
  lp.filter = evil_filter();
  lp.rows = {evil_rec(9), rec(8, "D-3")};
  lp.before = 10;
  lp.older = 8;
  lp.newer = 30;
  lp.error = evil_text;

  const std::vector<std::pair<std::string, std::string>> pages = {
      {"log", render_log(lp, evil_nav)},
      {"timeline", render_timeline(evil_timeline(), evil_nav)},
      {"missing timeline", render_timeline(timeline{evil_attr, false, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}}, evil_nav)},
      {"escalations", render_escalations(evil_escalations(), evil_nav)},
      {"crises", render_crises(evil_crises(), evil_nav)},
      {"chain", render_chain(evil_chain(), evil_nav)},
      {"charts", render_charts(evil_charts(), evil_nav)},
      {"login", render_login(evil_attr, evil_text, evil_attr)},
      {"message", render_message(evil_text, evil_attr)},
  };
  for (const auto& [name, html] : pages) {
    SECTION(name) {
      check_page(html);
      CHECK(has(html, evil_attr_escaped));
      if (name != "missing timeline" && name != "login") CHECK(has(html, evil_text_escaped));
      if (name != "login" && name != "message") {
        CHECK(has(html, "Eve &lt;script&gt;"));
        CHECK(has(html, "p&quot;&lt;x&gt;"));
      }
    }
  }
}

TEST_CASE("a draft whose text is markup renders that markup as text", "[console][render]") {
  auto t = sample_timeline();
  t.revisions[0].text = evil_text;
  t.revisions[1].text = evil_text + " edited";
  const auto html = render_timeline(t, alice);
  check_page(html);
  CHECK(count(html, evil_text_escaped) >= 2);  // the text and the diff
  CHECK_FALSE(has(html, "<img"));
  for (const auto& t2 : parse(html).tags) CHECK(t2.attr("onerror").empty());
}

TEST_CASE("every page has the header nav with relative links and a logout form", "[console][render]") {
  const auto html = render_chain(chain_view{}, alice);
  check_page(html);
  std::vector<std::string> hrefs;
  for (const auto& a : tags_named(html, "a")) hrefs.push_back(a.attr("href"));
  for (const char* want : {"log", "escalations", "crises", "chain", "charts"}) {
    CHECK(std::count(hrefs.begin(), hrefs.end(), want) == 1);
  }
  CHECK(has(html, "<a href=\"chain\" aria-current=\"page\">"));
  CHECK(has(html, "Alice Adams"));
  const auto forms = tags_named(html, "form");
  REQUIRE(forms.size() == 1);
  CHECK(forms[0].attr("method") == "post");
  CHECK(forms[0].attr("action") == "logout");

  // Pages without a session have no navigation.
  const auto msg = render_message("Signed out", "You are signed out.");
  check_page(msg);
  CHECK(tags_named(msg, "nav").empty());
  CHECK(tags_named(msg, "form").empty());
}

TEST_CASE("the log shows its records with drafts linked to their timelines", "[console][render]") {
  log_page lp;
  lp.rows = {rec(12, "D-7"), rec(11, "E-3", "denied"), rec(10, "D-7x"), rec(9, "")};
  lp.rows[0].detail = R"({"note":"a \"quoted\" <b>note</b>"})";
  const auto html = render_log(lp, alice);
  check_page(html);
  std::vector<std::string> drafts;
  for (const auto& a : tags_named(html, "a")) {
    if (a.attr("href").rfind("draft", 0) == 0) drafts.push_back(a.attr("href"));
  }
  CHECK(drafts == std::vector<std::string>{"draft?id=D-7"});
  CHECK(has(html, "{&quot;note&quot;:&quot;a \\&quot;quoted\\&quot; &lt;b&gt;note&lt;/b&gt;&quot;}"));
  CHECK(has(html, "<tr class=\"refused\">"));
  CHECK(count(html, "<tr class=\"refused\">") == 1);
  CHECK(has(html, "class=\"outcome-denied\""));
  // No pager links for a single page.
  CHECK_FALSE(has(html, ">Older<"));
  CHECK_FALSE(has(html, ">Newer<"));
  CHECK_FALSE(has(html, "class=\"error\""));

  lp.rows.clear();
  lp.error = "--since: not a time: \"yesterday\"";
  const auto err = render_log(lp, alice);
  check_page(err);
  CHECK(has(err, "<p class=\"error\" role=\"alert\">--since: not a time: &quot;yesterday&quot;</p>"));
  CHECK(has(err, "No records match."));
}

TEST_CASE("the filter form shows the filters and paging links keep them", "[console][render]") {
  log_page lp;
  lp.filter.subject = "D-1 & co";
  lp.filter.actor = "alice";
  lp.filter.since = "7d";
  lp.rows = {rec(99, "D-1"), rec(98, "D-1")};
  lp.before = 100;
  lp.older = 98;
  lp.newer = 150;
  const auto html = render_log(lp, alice);
  check_page(html);

  std::map<std::string, std::string> links;
  for (const auto& a : tags_named(html, "a")) {
    if (!a.attr("rel").empty()) links[a.attr("rel")] = unescape_amp(a.attr("href"));
  }
  CHECK(links["next"] == "log?subject=D-1%20%26%20co&actor=alice&since=7d&before=98");
  CHECK(links["prev"] == "log?subject=D-1%20%26%20co&actor=alice&since=7d&before=150");

  // The filter form is a GET to log with every filter, showing what was typed.
  std::map<std::string, tag> forms;
  for (const auto& f : tags_named(html, "form")) forms[f.attr("action")] = f;
  REQUIRE(forms.size() == 3);  // logout, filters, export
  CHECK(forms["log"].attr("method") == "get");
  std::map<std::string, tag> inputs, hidden;
  for (const auto& in : tags_named(html, "input")) {
    (in.attr("type") == "hidden" ? hidden : inputs)[in.attr("name")] = in;
  }
  for (const char* f : {"subject", "actor", "action", "outcome", "platform", "since", "until"}) {
    CHECK(inputs.count(f) == 1);
  }
  CHECK(inputs["subject"].attr("value") == "D-1 &amp; co");
  CHECK(inputs["since"].attr("value") == "7d");
  CHECK(inputs["until"].attr("value").empty());

  // The export form posts the same filters (and no paging) with a format.
  CHECK(forms["export"].attr("method") == "post");
  CHECK(hidden.size() == 3);
  CHECK(hidden["subject"].attr("value") == "D-1 &amp; co");
  CHECK(hidden["actor"].attr("value") == "alice");
  CHECK(hidden["since"].attr("value") == "7d");
  std::set<std::string> formats;
  for (const auto& bt : tags_named(html, "button")) {
    if (bt.attr("name") == "format") formats.insert(bt.attr("value"));
  }
  CHECK(formats == std::set<std::string>{"csv", "jsonl"});

  // Newer to the first page drops `before`; no filters and no older page: no
  // query string at all, and no Older link.
  lp.newer = 0;
  lp.older = 0;
  lp.filter = {};
  const auto first = render_log(lp, alice);
  links.clear();
  for (const auto& a : tags_named(first, "a")) {
    if (!a.attr("rel").empty()) links[a.attr("rel")] = a.attr("href");
  }
  CHECK(links.size() == 1);
  CHECK(links["prev"] == "log");
  CHECK(log_query({}, 0).empty());
  CHECK(log_query({}, 5) == "before=5");
}

TEST_CASE("a timeline shows revisions with a diff, decisions and posts", "[console][render]") {
  const auto html = render_timeline(sample_timeline(), alice);
  check_page(html);
  CHECK(has(html, "<h1>Draft D-7</h1>"));
  CHECK(has(html, "<del>quick</del><ins>full</ins>"));
  CHECK(has(html, "<del>Monday.</del><ins>Tuesday.</ins>"));
  CHECK(has(html, "We will ship the quick fix on Monday."));
  // The approval with its stage and note, the refusal marked, the rejection's reason.
  CHECK(has(html, "<td>bob</td><td class=\"mono\">draft.approve</td><td class=\"outcome-ok\">ok</td>"
                  "<td class=\"num\">2</td><td>legal</td><td class=\"detail\">fine by legal</td>"));
  CHECK(count(html, "<tr class=\"refused\">") == 1);
  CHECK(has(html, "not an approver"));
  CHECK(has(html, "wrong day"));
  CHECK(has(html, "<td class=\"mono\">1700000000.000100</td>"));
  CHECK(has(html, "href=\"log?subject=D-7\""));

  timeline missing;
  missing.draft = "D-9";
  const auto none = render_timeline(missing, alice);
  check_page(none);
  CHECK(has(none, "No draft D-9"));
  CHECK_FALSE(has(none, "Revisions"));
}

TEST_CASE("escalations, crises and the chain show what SPEC lists", "[console][render]") {
  const auto e = sample_escalation();
  const auto esc = render_escalations({e}, alice);
  check_page(esc);
  CHECK(has(esc, "E-3 disk full"));
  CHECK(has(esc, "<td>gina, hal</td>"));
  CHECK(has(esc, "frank at 2026-11-22T10:20:00.000Z"));
  CHECK(has(render_escalations({}, alice), "No escalations."));

  const auto c = sample_crisis();
  const auto cr = render_crises({c}, alice);
  check_page(cr);
  CHECK(has(cr, "C-1 outage"));
  CHECK(has(cr, "still active"));
  CHECK(has(cr, "outage-initial"));
  CHECK(has(cr, "href=\"draft?id=D-8\""));
  CHECK(has(render_crises({}, alice), "No crises."));

  chain_view ch;
  ch.records = 1234;
  CHECK(has(render_chain(ch, alice), "not run yet"));
  CHECK(has(render_chain(ch, alice), "No checkpoint yet."));
  CHECK(has(render_chain(ch, alice), "no [audit] section"));
  ch.verify_ok = true;
  ch.latest_checkpoint = checkpoint_view{1200, "beef", "2026-11-22T00:00:00.000Z", "note text"};
  ch.verifier_key = "signoff+1a2b3c4d+AbCd";
  const auto good = render_chain(ch, alice);
  check_page(good);
  CHECK(has(good, "intact"));
  CHECK(has(good, "signoff+1a2b3c4d+AbCd"));
  CHECK(has(good, "<pre class=\"note\">note text</pre>"));
  ch.verify_ok = false;
  CHECK(has(render_chain(ch, alice), "FAILED"));
}

TEST_CASE("the login page posts the token and names the person", "[console][render]") {
  const auto html = render_login("alice", "Alice Adams", "tok_123-abc");
  check_page(html);
  CHECK(has(html, "Sign in as Alice Adams (alice)"));
  const auto forms = tags_named(html, "form");
  REQUIRE(forms.size() == 1);
  CHECK(forms[0].attr("method") == "post");
  CHECK(forms[0].attr("action") == "login");
  const auto inputs = tags_named(html, "input");
  REQUIRE(inputs.size() == 1);
  CHECK(inputs[0].attr("type") == "hidden");
  CHECK(inputs[0].attr("name") == "token");
  CHECK(inputs[0].attr("value") == "tok_123-abc");
  // The token is in the form only, never in a link a preview could follow.
  CHECK(count(html, "tok_123-abc") == 1);
}

TEST_CASE("word_diff on known inputs", "[console][render][diff]") {
  using K = diff_op;
  CHECK(word_diff("the quick brown fox", "the slow brown fox") ==
        std::vector<diff_op>{{K::same, "the "}, {K::removed, "quick"}, {K::added, "slow"},
                             {K::same, " brown fox"}});
  CHECK(word_diff("same text", "same text") == std::vector<diff_op>{{K::same, "same text"}});
  CHECK(word_diff("", "").empty());
  CHECK(word_diff("", "new words") == std::vector<diff_op>{{K::added, "new words"}});
  CHECK(word_diff("old words", "") == std::vector<diff_op>{{K::removed, "old words"}});
  CHECK(word_diff("a b", "a c b") ==
        std::vector<diff_op>{{K::same, "a "}, {K::added, "c "}, {K::same, "b"}});
  CHECK(word_diff("a b c d", "a d") ==
        std::vector<diff_op>{{K::same, "a "}, {K::removed, "b c "}, {K::same, "d"}});
  // White space alone between two changes joins them into one phrase.
  CHECK(word_diff("ship on Monday now", "ship by Tuesday now") ==
        std::vector<diff_op>{{K::same, "ship "}, {K::removed, "on Monday"}, {K::added, "by Tuesday"},
                             {K::same, " now"}});
  // White space is a token of its own and is kept.
  CHECK(word_diff("a  b", "a b") ==
        std::vector<diff_op>{{K::same, "a"}, {K::removed, "  "}, {K::added, " "}, {K::same, "b"}});
  CHECK(word_diff("line one\nline two", "line one\nline 2") ==
        std::vector<diff_op>{{K::same, "line one\nline "}, {K::removed, "two"}, {K::added, "2"}});

  CHECK(render_diff(word_diff("say <b>hi</b>", "say \"hi\" & bye")) ==
        "say <del>&lt;b&gt;hi&lt;/b&gt;</del><ins>&quot;hi&quot; &amp; bye</ins>");
}

TEST_CASE("word_diff always gives both texts back", "[console][render][diff]") {
  std::mt19937 rng(13);
  const std::vector<std::string> vocab = {"a", "b", "c", "dd", " ", "  ", "\n", "x<y", "\t"};
  auto random_text = [&] {
    std::string s;
    const auto n = std::uniform_int_distribution<int>(0, 30)(rng);
    for (int i = 0; i < n; ++i) s += vocab[std::uniform_int_distribution<std::size_t>(0, vocab.size() - 1)(rng)];
    return s;
  };
  for (int round = 0; round < 2000; ++round) {
    const auto before = random_text();
    const auto after = random_text();
    const auto ops = word_diff(before, after);
    INFO("before=[" << before << "] after=[" << after << "]");
    REQUIRE(reassemble(ops, diff_op::added) == before);
    REQUIRE(reassemble(ops, diff_op::removed) == after);
    for (std::size_t i = 0; i < ops.size(); ++i) {
      CHECK_FALSE(ops[i].text.empty());
      if (i > 0) CHECK(ops[i - 1].k != ops[i].k);
      if (i > 0 && ops[i].k == diff_op::removed) CHECK(ops[i - 1].k != diff_op::added);
    }
  }
}

TEST_CASE("word_diff on huge texts falls back to whole text replaced", "[console][render][diff]") {
  // 3000 words each, every other word changed, first and last too, so no
  // prefix or suffix is shared: 6000 x 6000 tokens is past the cap.
  std::string before, after;
  for (int i = 0; i < 3000; ++i) {
    before += "w" + std::to_string(i) + " ";
    after += (i % 2 == 0 ? "v" : "w") + std::to_string(i) + " ";
  }
  before += "end";
  after += "fin";
  const auto ops = word_diff(before, after);
  REQUIRE(ops.size() == 2);
  CHECK(ops[0] == diff_op{diff_op::removed, before});
  CHECK(ops[1] == diff_op{diff_op::added, after});

  // Under the cap the same shape is diffed word by word.
  using K = diff_op;
  CHECK(word_diff("w0 w1 w2 w3", "v0 w1 v2 w3") ==
        std::vector<diff_op>{{K::removed, "w0"}, {K::added, "v0"}, {K::same, " w1 "},
                             {K::removed, "w2"}, {K::added, "v2"}, {K::same, " w3"}});
}

TEST_CASE("the charts draw one element per data point", "[console][render][charts]") {
  const auto c = sample_charts();
  const auto html = render_charts(c, alice);
  check_page(html);
  const auto s = svgs(html);
  REQUIRE(s.size() == 2);
  CHECK(count(s[0], "<g class=\"pt ") == c.approvals.size());
  CHECK(count(s[0], "<rect class=\"median\"") == c.approvals.size());
  CHECK(count(s[0], "<path class=\"p90\"") == c.approvals.size());
  CHECK(count(s[1], "<g class=\"pt\">") == c.commands.size());
  // Stacked segments: one rect per non-zero outcome count.
  std::size_t segments = 0;
  for (const auto& d : c.commands) segments += (d.ok > 0) + (d.denied > 0) + (d.invalid > 0) + (d.error > 0);
  CHECK(count(s[1], "<rect class=\"o-") == segments);
  for (const auto& svg : s) {
    CHECK(has(svg, "role=\"img\""));
    CHECK(count(svg, "<title") == 1 + count(svg, "<g class=\"pt"));
  }
  // Titles carry the figures; the legend names each class and outcome.
  CHECK(has(s[0], "<title>press, 2026-W48: median 8.0 h, p90 10.0 h, 48 drafts</title>"));
  CHECK(has(s[1], "<title>2026-11-05: 50 ok, 5 denied, 2 invalid, 7 error</title>"));
  CHECK(has(html, "<span class=\"swatch s0\"></span>press</li>"));
  CHECK(has(html, "<span class=\"swatch s1\"></span>security</li>"));
  CHECK(has(html, "<span class=\"swatch o-error\"></span>error</li>"));
  // The hours axis reaches the largest p90 (10 h) and is labelled.
  CHECK(has(s[0], ">10</text>"));
  CHECK(has(s[0], ">hours</text>"));

  // Taller bars for longer times: press W48 (8 h) is twice W44 (4 h).
  auto bar_height = [&](const std::string& week) {
    const auto at = s[0].find("<title>press, " + week);
    REQUIRE(at != std::string::npos);
    const auto r = s[0].find("height=\"", s[0].find("<rect", at)) + 8;
    return std::stod(s[0].substr(r, s[0].find('"', r) - r));
  };
  CHECK(bar_height("2026-W48") == Approx(2 * bar_height("2026-W44")).epsilon(0.01));
}

TEST_CASE("the charts survive empty and odd data", "[console][render][charts]") {
  const auto empty = render_charts({}, alice);
  check_page(empty);
  const auto s = svgs(empty);
  REQUIRE(s.size() == 2);
  CHECK(count(empty, "<g class=\"pt") == 0);
  CHECK(has(s[0], "No approvals yet"));
  CHECK(has(s[1], "No commands yet"));

  charts odd;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  odd.approvals = {{"press", "2026-W01", 0, nan, inf}, {"press", "2026-W02", 1, -5, 0}, {"x", "2026-W02", 1, 0, 0}};
  odd.commands = {{"2026-01-01", -3, 0, 0, 0}, {"2026-01-02", 0, 0, 0, 0}};
  const auto html = render_charts(odd, alice);
  check_page(html);
  CHECK_FALSE(has(lower(html), "nan"));
  CHECK_FALSE(has(lower(html), "inf"));
  CHECK_FALSE(has(html, "=\"-"));  // no negative sizes or positions
  CHECK(count(html, "<g class=\"pt") == odd.approvals.size() + odd.commands.size());

  // Many classes cycle through the eight colours.
  charts many;
  for (int i = 0; i < 10; ++i) many.approvals.push_back({"c" + std::to_string(i), "2026-W10", 1, 60, 120});
  const auto m = render_charts(many, alice);
  check_page(m);
  CHECK(has(m, "<g class=\"pt s1\"><title>c9,"));
}

TEST_CASE("the stylesheet styles the classes the pages use", "[console][render]") {
  const auto css = stylesheet();
  CHECK_FALSE(css.empty());
  for (const char* cls : {".s0", ".s7", ".o-ok", ".o-error", "del", "ins", ".error", ".refused", "svg.chart"}) {
    CHECK(css.find(cls) != std::string_view::npos);
  }
  CHECK(css.find("url(") == std::string_view::npos);  // nothing loaded from elsewhere
  CHECK(css.find("@import") == std::string_view::npos);
}

TEST_CASE("the pages are written out for a person to look at", "[console][render]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(SIGNOFF_SOURCE_DIR) / "build" / "console-render";
  std::error_code ec;
  fs::create_directories(dir, ec);
  REQUIRE_FALSE(ec);

  log_page lp;
  lp.filter.subject = "D-7";
  lp.rows = {rec(14, "D-7"), rec(13, "D-7", "denied"), rec(12, "D-7")};
  lp.rows[1].action = "draft.approve";
  lp.rows[1].detail = R"({"error":"not an approver"})";
  lp.older = 12;
  lp.newer = 0;
  auto t = sample_timeline();
  t.revisions.push_back({3, evil_text, "cc33", "mallory", "2026-11-20T12:00:00.000Z"});
  chain_view ch;
  ch.records = 1234;
  ch.last_hash = std::string(64, 'a');
  ch.last_ts = "2026-11-22T12:00:00.000Z";
  ch.verify_ok = true;
  ch.verify_at = "2026-11-22T12:01:00.000Z";
  ch.verified_records = 1234;
  ch.latest_checkpoint = checkpoint_view{1200, std::string(64, 'b'), "2026-11-22T00:00:00.000Z",
                                         "signoff.example/audit\n1200\nu7w=\n\n- signoff Az3…\n"};
  ch.verifier_key = "signoff.example/audit+1a2b3c4d+AbCdEf";

  const std::vector<std::pair<std::string, std::string>> pages = {
      {"log", render_log(lp, alice)},
      {"draft", render_timeline(t, alice)},
      {"escalations", render_escalations({sample_escalation()}, alice)},
      {"crises", render_crises({sample_crisis()}, alice)},
      {"chain", render_chain(ch, alice)},
      {"charts", render_charts(sample_charts(), alice)},
      {"login", render_login("alice", "Alice Adams", "tok")},
      {"how-to-login", render_message("Sign in through chat", "Type /audit console in chat.")},
  };
  for (const auto& [name, html] : pages) {
    check_page(html);
    std::ofstream(dir / (name + ".html"), std::ios::binary) << html;
  }
  std::ofstream(dir / "console.css", std::ios::binary) << stylesheet();
  CHECK(fs::exists(dir / "draft.html"));
}
