// The audit console's read side: page models from a read-only connection.
// Audit records are found through audit::for_each (storage/audit_read.cpp),
// the one place that turns filters into SQL over the seq-ordered indexes.
#include "storage/console_read.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <string_view>
#include <tuple>
#include <utility>

#include "bot/core/text.hpp"
#include "bot/core/time.hpp"
#include "storage/audit_log.hpp"

namespace signoff::console {
namespace {

using std::chrono::days;
using std::chrono::sys_days;

// One read transaction per page: its several statements see one snapshot,
// never half of a group commit. Ended by ROLLBACK (nothing to keep).
class read_tx {
 public:
  explicit read_tx(sql::db& d) : d_(d) { d_.exec("BEGIN"); }
  ~read_tx() { sqlite3_exec(d_.handle(), "ROLLBACK", nullptr, nullptr, nullptr); }
  read_tx(const read_tx&) = delete;
  read_tx& operator=(const read_tx&) = delete;

 private:
  sql::db& d_;
};

// A record's detail as an object; empty when it is not JSON or not an
// object (a hand-edited row shows as such, it does not fail the page).
boost::json::object detail_of(std::string_view detail) {
  boost::system::error_code ec;
  auto v = boost::json::parse(detail, ec);
  if (ec || !v.is_object()) return {};
  return std::move(v.as_object());
}

std::string str_at(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::optional<std::int64_t> int_at(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v && v->is_int64()) return v->as_int64();
  if (v && v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    return static_cast<std::int64_t>(v->as_uint64());
  return std::nullopt;
}

std::vector<std::string> strings_at(const boost::json::object& o, std::string_view key) {
  std::vector<std::string> out;
  const auto* v = o.if_contains(key);
  if (!v || !v->is_array()) return out;
  for (const auto& x : v->as_array())
    if (x.is_string()) out.emplace_back(x.as_string());
  return out;
}

// The draft a subject names: `D-n` with n a positive decimal, else nullopt.
std::optional<std::int64_t> draft_number(std::string_view subject) {
  if (subject.size() < 3 || subject.size() > 20 || subject.substr(0, 2) != "D-") return std::nullopt;
  std::int64_t n = 0;
  for (char c : subject.substr(2)) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n > 0 ? std::optional<std::int64_t>(n) : std::nullopt;
}

// "2026-W48": the ISO 8601 week, whose year is that of its Thursday.
std::string iso_week(sys_days d) {
  const auto wd = static_cast<int>(std::chrono::weekday(d).iso_encoding());  // Monday = 1
  const sys_days thursday = d + days(4 - wd);
  const std::chrono::year y = std::chrono::year_month_day(thursday).year();
  const auto week = (thursday - sys_days(y / std::chrono::January / 1)).count() / 7 + 1;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-W%02d", static_cast<int>(y), static_cast<int>(week));
  return buf;
}

sys_days monday_of(sys_days d) {
  return d - days(static_cast<int>(std::chrono::weekday(d).iso_encoding()) - 1);
}

// Median (mean of the middle two for an even count) and nearest-rank p90 of
// a non-empty sample, sorted in place.
std::pair<double, double> median_p90(std::vector<double>& v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  const double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  const auto rank = static_cast<std::size_t>(std::ceil(0.9 * static_cast<double>(n)));
  return {median, v[std::max<std::size_t>(rank, 1) - 1]};
}

// The actions that tell a draft's story (show/list only look at it).
bool timeline_action(std::string_view a) {
  static constexpr std::string_view shown[] = {"draft.new",      "draft.edit",    "draft.approve",
                                               "draft.reject",   "draft.withdraw", "draft.cleared",
                                               "draft.remind"};
  return std::find(std::begin(shown), std::end(shown), a) != std::end(shown);
}

std::string crisis_name(std::int64_t id) { return "C-" + std::to_string(id); }

}  // namespace

std::optional<audit::filter> make_filter(const log_filter& f, time_point now, std::string& error) {
  audit::filter a;
  a.subject = f.subject;
  a.actor = f.actor;
  a.action = f.action;
  a.outcome = f.outcome;
  a.platform = f.platform;
  for (auto [name, text, bound] : {std::tuple{"since", &f.since, &a.since}, std::tuple{"until", &f.until, &a.until}}) {
    if (text->empty()) continue;
    time_error why{};
    *bound = parse_time_or_ago(*text, now, &why);
    if (!*bound) {
      error = std::string("--") + name + " " + quote_arg(*text) + " " + describe_time_error(why, true);
      return std::nullopt;
    }
  }
  return a;
}

reader::reader(const std::string& path, int busy_ms)
    : db_(path, sql::db::options{.read_only = true, .create = false}) {
  sqlite3_busy_timeout(db_.handle(), busy_ms);
  try {
    // Belt and braces over SQLITE_OPEN_READONLY: no statement may write.
    db_.exec("PRAGMA query_only=1");
    if (!has_table("audit_log"))
      throw storage_failure("cannot use database " + path + ": it holds no audit_log (not signoff's)");
  } catch (const sql::store_error& e) {
    // Opening is lazy: a file that is not a database fails at the first read.
    throw storage_failure("cannot read database " + path + ": " + e.what());
  }
}

bool reader::has_table(const char* name) {
  auto s = db_.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
  s.bind(1, name);
  return s.step();
}

log_page reader::log(const log_filter& f, std::int64_t before, int limit, time_point now) {
  log_page p;
  p.filter = f;
  p.before = std::max<std::int64_t>(before, 0);
  auto af = make_filter(f, now, p.error);
  if (!af) return p;
  const int n = std::clamp(limit, 1, 1000);
  read_tx tx(db_);
  // One row more than shown says whether an older page exists.
  af->newest_first = true;
  af->limit = n + 1;
  if (p.before > 0) af->before = p.before;
  audit::for_each(db_, *af, [&](const audit::record& r) { p.rows.push_back(r); });
  if (p.rows.size() > static_cast<std::size_t>(n)) {
    p.rows.resize(static_cast<std::size_t>(n));
    p.older = p.rows.back().seq;
  }
  if (p.before > 0) {
    // The previous page holds the n matching records just above `before`:
    // fewer than n+1 of them means it is the first page.
    af->before.reset();
    af->after = p.before - 1;
    af->newest_first = false;
    std::vector<std::int64_t> above;
    audit::for_each(db_, *af, [&](const audit::record& r) { above.push_back(r.seq); });
    if (above.size() > static_cast<std::size_t>(n))
      p.newer = above[static_cast<std::size_t>(n) - 1] + 1;
    else if (!above.empty())
      p.newer = 0;
  }
  return p;
}

timeline reader::draft_timeline(std::int64_t draft_id) {
  timeline t;
  t.draft = "D-" + std::to_string(draft_id);
  read_tx tx(db_);
  {
    auto s = db_.prepare(
        "SELECT class, status, targets, embargo, created_by, created_at, cleared_at FROM drafts WHERE id = ?");
    s.bind(1, draft_id);
    if (s.step()) {
      t.found = true;
      t.cls = s.text(0);
      t.status = s.text(1);
      // Stored comma-joined (sqlite_store.cpp); a target never holds a comma.
      for (std::string_view rest = s.view(2); !rest.empty();) {
        const auto comma = rest.find(',');
        t.targets.emplace_back(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
      t.embargo = s.text(3);
      t.created_by = s.text(4);
      t.created_at = s.text(5);
      t.cleared_at = s.text(6);
    }
  }
  {
    auto s = db_.prepare(
        "SELECT rev, text, text_sha256, author, created_at FROM revisions WHERE draft_id = ? ORDER BY rev");
    s.bind(1, draft_id);
    while (s.step()) t.revisions.push_back({s.i64(0), s.text(1), s.text(2), s.text(3), s.text(4)});
  }
  // The stage an approval counted toward, for records that do not name it.
  std::map<std::pair<std::int64_t, std::string>, std::string> stages;
  {
    auto s = db_.prepare("SELECT rev, person, stage FROM approvals WHERE draft_id = ?");
    s.bind(1, draft_id);
    while (s.step()) stages[{s.i64(0), s.text(1)}] = s.text(2);
  }
  // Refused attempts on a draft that does not exist are shown too: they are
  // part of what an auditor asked about.
  audit::filter f;
  f.subject = t.draft;
  f.newest_first = false;
  audit::for_each(db_, f, [&](const audit::record& r) {
    if (!timeline_action(r.action)) return;
    const auto d = detail_of(r.detail);
    timeline_event e{r.seq, r.ts, r.actor, r.action, r.outcome, r.revision, str_at(d, "stage"), {}};
    if (e.stage.empty() && r.action == "draft.approve" && r.outcome == "ok" && r.revision) {
      if (auto it = stages.find({*r.revision, r.actor}); it != stages.end()) e.stage = it->second;
    }
    for (const char* k : {"note", "reason", "error"}) {
      if (e.note.empty()) e.note = str_at(d, k);
    }
    t.events.push_back(std::move(e));
  });
  {
    auto s = db_.prepare(
        "SELECT id, kind, platform, channel, platform_channel, status, result, created_at, done_at "
        "FROM outbox WHERE subject = ? AND kind IN ('card', 'card_update') ORDER BY id");
    s.bind(1, t.draft);
    while (s.step()) {
      post_view p;
      p.outbox_id = s.i64(0);
      p.kind = s.text(1);
      p.platform = s.text(2);
      p.channel = s.text(3);
      p.platform_channel = s.text(4);
      p.status = s.text(5);
      // `result` is the platform's message ID once sent, the error after a failure.
      if (p.status == "sent") p.message_id = s.text(6);
      else if (p.status == "failed") p.error = s.text(6);
      p.at = s.is_null(8) ? s.text(7) : s.text(8);
      t.posts.push_back(std::move(p));
    }
  }
  return t;
}

std::vector<escalation_view> reader::escalations(int limit) {
  std::vector<escalation_view> out;
  read_tx tx(db_);
  {
    auto s = db_.prepare(
        "SELECT id, route, sev, summary, opened_by, opened_at, status, level, acked_by, acked_at, "
        "resolved_by, resolved_at, resolve_note FROM escalations ORDER BY id DESC LIMIT ?");
    s.bind(1, std::max(limit, 0));
    while (s.step()) {
      escalation_view e;
      e.id = s.i64(0);
      e.route = s.text(1);
      e.sev = s.text(2);
      e.summary = s.text(3);
      e.opened_by = s.text(4);
      e.opened_at = s.text(5);
      e.status = s.text(6);
      e.level = static_cast<int>(std::clamp<std::int64_t>(s.i64(7), 0, 1'000'000));
      e.acked_by = s.text(8);
      e.acked_at = s.text(9);
      e.resolved_by = s.text(10);
      e.resolved_at = s.text(11);
      e.resolve_note = s.text(12);
      out.push_back(std::move(e));
    }
  }
  for (auto& e : out) {
    // handlers/escalations.cpp: escalation.open pages level 1 (detail
    // `notified`), each escalation.level names its `level` and `notified`.
    audit::filter f;
    f.subject = "E-" + std::to_string(e.id);
    f.newest_first = false;
    audit::for_each(db_, f, [&](const audit::record& r) {
      if (r.outcome != "ok") return;
      const auto d = detail_of(r.detail);
      std::optional<std::int64_t> level;
      if (r.action == "escalation.open") level = 1;
      else if (r.action == "escalation.level") level = int_at(d, "level");
      if (!level || *level < 1 || *level > 1'000'000) return;
      e.levels.push_back({static_cast<int>(*level), strings_at(d, "notified"), r.ts});
    });
  }
  return out;
}

std::vector<crisis_view> reader::crises(int limit) {
  std::vector<crisis_view> out;
  read_tx tx(db_);
  {
    auto s = db_.prepare(
        "SELECT id, sev, title, started_by, started_at, ended_by, ended_at, end_note FROM crises "
        "ORDER BY id DESC LIMIT ?");
    s.bind(1, std::max(limit, 0));
    while (s.step()) {
      crisis_view c;
      c.id = s.i64(0);
      c.sev = s.text(1);
      c.title = s.text(2);
      c.started_by = s.text(3);
      c.started_at = s.text(4);
      c.ended_by = s.text(5);
      c.ended_at = s.text(6);
      c.end_note = s.text(7);
      out.push_back(std::move(c));
    }
  }
  if (out.empty()) return out;
  std::map<std::string, crisis_view*> by_name;
  for (auto& c : out) by_name[crisis_name(c.id)] = &c;
  // Holding statements: few, so one pass over them all from the oldest crisis shown.
  {
    audit::filter f;
    f.action = "hold.issue";
    f.outcome = "ok";
    f.since = parse_rfc3339(out.back().started_at);
    f.newest_first = false;
    audit::for_each(db_, f, [&](const audit::record& r) {
      const auto d = detail_of(r.detail);
      auto it = by_name.find(str_at(d, "crisis"));
      if (it == by_name.end()) return;
      it->second->statements.push_back(
          {r.seq, r.ts, r.actor, r.subject, str_at(d, "text_sha256"), int_at(d, "statement_version").value_or(0)});
    });
  }
  auto cls = db_.prepare("SELECT class FROM drafts WHERE id = ?");
  for (std::size_t i = 0; i < out.size(); ++i) {
    auto& c = out[i];
    const std::string name = crisis_name(c.id);
    const auto started = parse_rfc3339(c.started_at);
    const auto ended = c.ended_at.empty() ? std::nullopt : parse_rfc3339(c.ended_at);
    if (!started) continue;  // unreadable row: no range to look in
    // Approvals the freeze refused name it (handlers/drafts.cpp, decide_approve).
    audit::filter f;
    f.action = "draft.approve";
    f.outcome = "invalid";
    f.since = started;
    f.until = ended;
    f.newest_first = false;
    audit::for_each(db_, f, [&](const audit::record& r) {
      if (str_at(detail_of(r.detail), "crisis") == name) c.held_back.push_back(r);
    });
    if (!ended) continue;
    // Releases it delayed: cleared once it ended (before the next crisis
    // began), with an embargo that passed while it held. Crisis drafts were
    // never frozen.
    audit::filter g;
    g.action = "draft.cleared";
    g.outcome = "ok";
    g.since = ended;
    if (i > 0) g.until = parse_rfc3339(out[i - 1].started_at);
    g.newest_first = false;
    audit::for_each(db_, g, [&](const audit::record& r) {
      const auto embargo = parse_rfc3339(str_at(detail_of(r.detail), "embargo"));
      if (!embargo || *embargo < *started || *embargo > *ended) return;
      const auto id = draft_number(r.subject);
      if (!id) return;
      cls.reset();
      cls.bind(1, *id);
      if (cls.step() && cls.view(0) == "crisis") return;
      c.held_back.push_back(r);
    });
  }
  return out;
}

chain_view reader::chain() {
  chain_view c;
  read_tx tx(db_);
  {
    // seq runs 1, 2, 3... (verify checks it), so the last seq is the count,
    // read from the primary key instead of counting millions of rows.
    auto s = db_.prepare("SELECT seq, hash, ts FROM audit_log ORDER BY seq DESC LIMIT 1");
    if (s.step()) {
      c.records = s.i64(0);
      c.last_hash = s.text(1);
      c.last_ts = s.text(2);
    }
  }
  if (has_table("checkpoints")) {
    auto s = db_.prepare("SELECT size, root_hash, ts, note FROM checkpoints ORDER BY size DESC LIMIT 1");
    if (s.step()) c.latest_checkpoint = checkpoint_view{s.i64(0), s.text(1), s.text(2), s.text(3)};
  }
  return c;
}

console::charts reader::charts(time_point now, int weeks, int days_back) {
  console::charts out;
  weeks = std::clamp(weeks, 1, 520);
  days_back = std::clamp(days_back, 1, 3660);
  const sys_days today = std::chrono::floor<days>(now);
  read_tx tx(db_);
  {
    std::map<std::pair<std::string, std::string>, std::vector<double>> samples;  // (class, week) -> seconds
    auto rev = db_.prepare(
        "SELECT d.class, r.created_at FROM drafts d JOIN revisions r ON r.draft_id = d.id "
        "WHERE d.id = ? AND r.rev = ?");
    audit::filter f;
    f.action = "draft.approve";
    f.outcome = "ok";
    f.since = time_point(monday_of(today) - days(7 * (weeks - 1)));
    f.newest_first = false;
    audit::for_each(db_, f, [&](const audit::record& r) {
      const auto d = detail_of(r.detail);
      const auto* approved = d.if_contains("approved");
      if (!approved || !approved->is_bool() || !approved->as_bool() || !r.revision) return;
      const auto id = draft_number(r.subject);
      const auto at = parse_rfc3339(r.ts);
      if (!id || !at) return;
      rev.reset();
      rev.bind(1, *id).bind(2, *r.revision);
      if (!rev.step()) return;
      const auto written = parse_rfc3339(rev.view(1));
      if (!written) return;
      const auto ms = std::max<std::int64_t>((*at - *written).count(), 0);
      samples[{rev.text(0), iso_week(std::chrono::floor<days>(*at))}].push_back(static_cast<double>(ms) / 1000.0);
    });
    for (auto& [key, v] : samples) {
      const auto [median, p90] = median_p90(v);
      out.approvals.push_back({key.first, key.second, static_cast<std::int64_t>(v.size()), median, p90});
    }
  }
  {
    const sys_days first = today - days(days_back - 1);
    std::map<std::string, outcome_day> by_day;
    for (sys_days d = first; d <= today; d += days(1)) {
      outcome_day o;
      o.day = format_rfc3339_ms(time_point(d)).substr(0, 10);
      by_day.emplace(o.day, o);
    }
    // Grouped in SQL: a busy month is hundreds of thousands of records, and
    // only four counts per day leave the database. The seq bound (from the
    // ts index, as audit_read.cpp does) keeps it a range scan.
    auto s = db_.prepare(
        "SELECT substr(ts, 1, 10) AS day, outcome, count(*) FROM audit_log "
        "WHERE seq >= (SELECT min(seq) FROM audit_log INDEXED BY audit_log_ts WHERE ts >= ?1) "
        "AND ts >= ?1 AND platform <> 'system' AND substr(action, 1, 5) <> 'post.' "
        "GROUP BY day, outcome");
    s.bind(1, format_rfc3339_ms(time_point(first)));
    while (s.step()) {
      auto it = by_day.find(std::string(s.view(0)));
      if (it == by_day.end()) continue;  // a ts after `now`
      const std::string_view outcome = s.view(1);
      std::int64_t* slot = outcome == "ok"        ? &it->second.ok
                           : outcome == "denied"  ? &it->second.denied
                           : outcome == "invalid" ? &it->second.invalid
                           : outcome == "error"   ? &it->second.error
                                                  : nullptr;
      if (slot) *slot += s.i64(2);
    }
    for (auto& [day, o] : by_day) out.commands.push_back(std::move(o));
  }
  return out;
}

std::string reader::for_each(const log_filter& f, time_point now,
                             const std::function<void(const audit::record&)>& fn) {
  std::string error;
  auto af = make_filter(f, now, error);
  if (!af) return error;
  af->newest_first = false;
  // One statement: one snapshot, however long the download takes.
  audit::for_each(db_, *af, fn);
  return {};
}

std::vector<audit::record> reader::export_page(const log_filter& f, std::int64_t after, std::int64_t upto, int limit,
                                              time_point now, std::string& error) {
  std::vector<audit::record> out;
  auto af = make_filter(f, now, error);
  if (!af) return out;
  af->newest_first = false;
  af->after = after;
  af->before = upto + 1;
  af->limit = std::clamp(limit, 1, 10000);
  audit::for_each(db_, *af, [&](const audit::record& r) { out.push_back(r); });
  return out;
}

std::int64_t reader::last_seq() {
  auto s = db_.prepare("SELECT coalesce(max(seq), 0) FROM audit_log");
  s.step();
  return s.i64(0);
}

std::optional<std::string> reader::session_person(const std::string& id_hash, time_point now) {
  if (!has_table("console_sessions")) return std::nullopt;
  auto s = db_.prepare(
      "SELECT person FROM console_sessions WHERE id_hash = ? AND revoked_at IS NULL AND expires_at > ?");
  s.bind(1, id_hash).bind(2, format_rfc3339_ms(now));
  if (!s.step()) return std::nullopt;
  return s.text(0);
}

std::optional<reader::token_state> reader::token(const std::string& token_hash, time_point now) {
  if (!has_table("console_tokens")) return std::nullopt;
  auto s = db_.prepare("SELECT person, used_at IS NOT NULL, expires_at <= ? FROM console_tokens WHERE token_hash = ?");
  s.bind(1, format_rfc3339_ms(now)).bind(2, token_hash);
  if (!s.step()) return std::nullopt;
  return token_state{s.text(0), s.i64(1) != 0, s.i64(2) != 0};
}

}  // namespace signoff::console
