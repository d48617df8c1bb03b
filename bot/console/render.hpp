#pragma once
// The audit console's HTML (SPEC "Audit console"): pure functions from the
// page models in model.hpp to whole HTML5 documents. No I/O, no clock.
//
// Every page promises:
// - every value from a model is escaped (`escape`), in text and attributes;
// - links and form actions are relative ("log", "draft?id=D-1"), so a reverse
//   proxy may mount the console under a path;
// - no <script>, no style attribute, no event-handler attribute, no outside
//   URL: the only external resource is the relative `console.css`, which
//   fits the CSP the server sends (default-src 'none'; style-src 'self' ...);
// - forms change nothing but the session (logout, login) or are GETs, except
//   POST export, which downloads.
#include <string>
#include <string_view>
#include <vector>

#include "bot/console/assets.hpp"
#include "bot/console/diff.hpp"
#include "bot/console/model.hpp"

namespace signoff::console {

// HTML-escapes & < > " ' so the result is safe as element text and as a
// quoted attribute value. Bytes are otherwise passed through as they are
// (pages declare UTF-8; a browser shows invalid sequences as U+FFFD).
std::string escape(std::string_view text);

// Percent-encodes everything but RFC 3986 unreserved characters
// (A-Z a-z 0-9 - . _ ~), for a value in a link's query string.
std::string url_encode(std::string_view s);

// Who is signed in (shown in every page's header).
struct nav {
  std::string person, person_name;
};

// The query string (without '?') for the log with these filters, non-empty
// ones only, in a fixed order, plus `before=N` when before > 0. "" for no
// filters and no paging.
std::string log_query(const log_filter& f, std::int64_t before = 0);

// The log: the filter form (GET log), the records as a table (a subject D-n
// links to its timeline), Newer/Older links that keep the filters, the
// export form (POST export, format=csv|jsonl, the filters as hidden
// fields), and p.error when set.
std::string render_log(const log_page& p, const nav& n);

// A draft's timeline: facts, each revision with its text and a word diff from
// the one before, the events (approvals with stage, rejections with reason,
// refusals), the posts with platform message IDs. "No draft D-n" when
// !t.found.
std::string render_timeline(const timeline& t, const nav& n);

// Escalations with their levels (who was paged when) and acks.
std::string render_escalations(const std::vector<escalation_view>& v, const nav& n);

// Crises with the statements issued and what the freeze held back.
std::string render_crises(const std::vector<crisis_view>& v, const nav& n);

// The chain's state, the last verify, and the latest checkpoint with the
// verifier key to check it against.
std::string render_chain(const chain_view& c, const nav& n);

// Two inline SVG charts drawn here: per class, median (bar) and p90
// (whisker) approval time per week in hours; commands per day stacked by
// outcome. One <g class="pt"> per data point, each with a <title>; each
// chart has a <title>, a legend and the same data as a table. Non-finite or
// negative values are drawn as 0; empty data draws empty axes and says so.
std::string render_charts(const charts& c, const nav& n);

// "Sign in as <name> (<id>)" with a POST form to `login` carrying the token
// in a hidden field: a GET (a link preview) cannot spend the token.
std::string render_login(const std::string& person, const std::string& person_name,
                         const std::string& token);

// A page with a heading and one paragraph, no navigation: how-to-login,
// signed-out, errors.
std::string render_message(std::string_view title, std::string_view text);

}  // namespace signoff::console
