#include "storage/sqlite_store.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fcntl.h>
#include <algorithm>
#include <cstdio>
#include <sys/stat.h>
#include <unistd.h>

#include "bot/core/text.hpp"
#include "bot/core/time.hpp"
#include "storage/audit_log.hpp"
#include "storage/schema.hpp"

namespace signoff {
namespace {

std::string ts(time_point t) { return format_rfc3339_ms(t); }

// The one form every stored time has (format_rfc3339_ms). Timer queries
// compare times as text, which is only right for this form.
#define SIGNOFF_TS_GLOB \
  "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'"

// Timestamps are written by us in one fixed format; anything else in the
// column means the database was edited by hand.
time_point parse_ts(std::string_view s) {
  auto t = parse_rfc3339(s);
  if (!t)
    throw corrupt_row("unreadable timestamp in the database: '" +
                      without_controls(s.substr(0, 40)) + "'");
  return *t;
}

// A stored platform or kind is SPEC's string (bot/core/enums.hpp); anything
// else means the row was edited by hand or written by another build.
template <class E>
E parse_stored(std::optional<E> (*parse)(std::string_view) noexcept, const char* what, std::string_view s) {
  auto v = parse(s);
  if (!v)
    throw corrupt_row(std::string("unknown ") + what + " in the database: '" +
                      without_controls(s.substr(0, 40)) + "'");
  return *v;
}

std::optional<std::string> opt_text(const std::optional<time_point>& t) {
  if (!t) return std::nullopt;
  return ts(*t);
}

std::optional<time_point> opt_ts(const sql::stmt& s, int col) {
  if (s.is_null(col)) return std::nullopt;
  return parse_ts(s.view(col));
}

std::string join_targets(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

std::vector<std::string> split_targets(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    auto c = s.find(',');
    out.emplace_back(s.substr(0, c));
    if (c == std::string_view::npos) break;
    s.remove_prefix(c + 1);
  }
  return out;
}

}  // namespace

namespace {

// The database holds embargoed drafts: a new file is created 0600 whatever
// the umask, before SQLite sees it (SQLite gives -wal and -shm the main
// file's mode, so they are 0600 too). URIs and ":memory:" are left to SQLite.
// A path to a file of our own making (not a URI, not a temporary database).
bool plain_file(const std::string& path) {
  return !path.empty() && path != ":memory:" && !path.starts_with("file:");
}

const std::string& create_private(const std::string& path) {
  if (!plain_file(path)) return path;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::fchmod(fd, 0600);  // the umask may have cleared bits of 0600
    ::close(fd);
  }
  return path;  // EEXIST (or any other error) is SQLite's to report
}

// outbox.card: the approval card as a JSON object.
std::string card_json(const approval_card& c) {
  boost::json::object o;
  o["draft"] = c.draft;
  o["headline"] = c.headline;
  o["status"] = c.status;
  o["targets"] = boost::json::array(c.targets.begin(), c.targets.end());
  o["authors"] = boost::json::array(c.authors.begin(), c.authors.end());
  o["body"] = c.body;
  if (c.approve_rev) o["approve_rev"] = *c.approve_rev;
  return boost::json::serialize(o);
}

// A card that does not read back is dropped (the post goes as its text).
std::optional<approval_card> card_from_json(std::string_view s) {
  boost::system::error_code ec;
  auto v = boost::json::parse(s, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.as_object();
  auto str = [&](const char* k) {
    const auto* x = o.if_contains(k);
    return x && x->is_string() ? std::string(x->as_string()) : std::string();
  };
  auto list = [&](const char* k) {
    std::vector<std::string> out;
    if (const auto* x = o.if_contains(k); x && x->is_array())
      for (const auto& e : x->as_array())
        if (e.is_string()) out.emplace_back(e.as_string());
    return out;
  };
  approval_card c{str("draft"), str("headline"), str("status"), list("targets"), list("authors"), str("body"),
                  std::nullopt};
  if (const auto* r = o.if_contains("approve_rev"); r && r->is_int64()) c.approve_rev = r->as_int64();
  return c;
}

// outbox.mentions: "bob=U01BOB,dave=" (person=platform ID). Rows queued by
// builds before mentions were resolved at enqueue hold "bob,dave": those
// people are shown as @id.
std::string join_mentions(const std::vector<mention>& v) {
  std::string out;
  for (const auto& m : v) out += (out.empty() ? "" : ",") + m.person + "=" + m.platform_id;
  return out;
}

std::vector<mention> split_mentions(std::string_view s) {
  std::vector<mention> out;
  if (s.empty()) return out;
  for (auto& part : split_targets(s)) {
    auto eq = part.find('=');
    out.push_back(eq == std::string::npos ? mention{part, ""} : mention{part.substr(0, eq), part.substr(eq + 1)});
  }
  return out;
}

}  // namespace

sqlite_store::sqlite_store(const std::string& path, options opt)
    : db_(create_private(path), sql::db::options{false, true, opt.vfs}), path_(path) {
  sqlite3_busy_timeout(db_.handle(), opt.busy_timeout_ms);
  sql::check_ours(db_, path);
  sql::configure_rw(db_, opt.busy_timeout_ms);
  sql::migrate(db_);
  {
    auto last = db_.prepare("SELECT coalesce(max(seq), 0) FROM audit_log");
    last.step();
    committed_seq_ = last.i64(0);
  }
  struct stat st {};
  if (plain_file(path) && ::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
    loose_mode_ = static_cast<int>(st.st_mode & 0777);
}

std::string sqlite_store::permission_warning() const {
  if (!loose_mode_) return {};
  char mode[16];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(loose_mode_));
  return "the database " + path_ + " has mode " + mode +
         ": other users may read embargoed drafts. Run: chmod 600 " + path_ + " " + path_ +
         "-wal " + path_ + "-shm";
}

void sqlite_store::begin() {
  tail_ = {};  // another process may have appended since our last transaction
  db_.prepare("BEGIN IMMEDIATE").run();
}
void sqlite_store::commit() {
  db_.prepare("COMMIT").run();
  if (tail_.known) committed_seq_ = std::max(committed_seq_, tail_.seq);
}
void sqlite_store::rollback() noexcept {
  tail_ = {};
  if (!sqlite3_get_autocommit(db_.handle()))
    sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void sqlite_store::savepoint() {
  saved_tail_ = tail_;
  db_.prepare("SAVEPOINT cmd").run();
}
void sqlite_store::release_savepoint() { db_.prepare("RELEASE cmd").run(); }
void sqlite_store::rollback_to_savepoint() {
  tail_ = saved_tail_;  // the records appended since the savepoint are gone
  db_.prepare("ROLLBACK TO cmd").run();
  db_.prepare("RELEASE cmd").run();
}

// ---- drafts -------------------------------------------------------------

std::int64_t sqlite_store::create_draft(const new_draft& d, time_point at) {
  auto s = db_.prepare(
      "INSERT INTO drafts (class, status, current_rev, targets, embargo, created_by, created_at, "
      "status_by, status_at, remind_at) VALUES (?, 'pending', 1, ?, ?, ?, ?, ?, ?, ?)");
  s.bind(1, d.cls).bind(2, join_targets(d.targets)).bind(3, opt_text(d.embargo)).bind(4, d.author);
  s.bind(5, ts(at)).bind(6, d.author).bind(7, ts(at)).bind(8, opt_text(d.remind_at));
  s.run();
  if (d.remind_at) due_changed_ = true;  // a new reminder may come first
  auto id = db_.last_insert_rowid();
  db_.prepare("INSERT INTO revisions (draft_id, rev, text, text_sha256, author, created_at) VALUES (?, 1, ?, ?, ?, ?)")
      .bind(1, id).bind(2, d.text).bind(3, d.text_sha256).bind(4, d.author).bind(5, ts(at)).run();
  db_.prepare("INSERT INTO draft_authors (draft_id, person) VALUES (?, ?)").bind(1, id).bind(2, d.author).run();
  return id;
}

static constexpr const char* draft_columns =
    "SELECT d.id, d.class, d.status, d.current_rev, d.targets, d.embargo, d.created_by, d.created_at, "
    "d.status_by, d.status_at, d.status_note, d.cleared_at, r.text, r.text_sha256, d.remind_at FROM drafts d "
    "JOIN revisions r ON r.draft_id = d.id AND r.rev = d.current_rev ";

std::vector<draft> sqlite_store::load_drafts(sql::stmt& s, std::vector<std::int64_t>* unreadable) {
  std::vector<draft> out;
  while (s.step()) {
    draft d;
    d.id = s.i64(0);
    try {
      d.cls = s.text(1);
      d.status = draft_status_from(s.view(2)).value_or(draft_status::pending);
      d.rev = s.i64(3);
      d.targets = split_targets(s.view(4));
      d.embargo = opt_ts(s, 5);
      d.created_by = s.text(6);
      d.created_at = parse_ts(s.view(7));
      d.status_by = s.text(8);
      d.status_at = parse_ts(s.view(9));
      d.status_note = s.text(10);
      d.cleared_at = opt_ts(s, 11);
      d.text = s.text(12);
      d.text_sha256 = s.text(13);
      d.remind_at = opt_ts(s, 14);
    } catch (const corrupt_row& e) {
      if (!unreadable) throw corrupt_row("draft D-" + std::to_string(d.id) + ": " + e.what());
      unreadable->push_back(d.id);
      continue;
    }
    out.push_back(std::move(d));
  }
  auto authors = db_.prepare("SELECT person FROM draft_authors WHERE draft_id = ? ORDER BY rowid");
  auto approvals = db_.prepare(
      "SELECT rev, stage, person, note, created_at FROM approvals WHERE draft_id = ? AND rev = ? "
      "ORDER BY created_at, person");
  for (auto it = out.begin(); it != out.end();) {
    auto& d = *it;
    authors.reset();
    authors.bind(1, d.id);
    while (authors.step()) d.authors.push_back(authors.text(0));
    approvals.reset();
    approvals.bind(1, d.id).bind(2, d.rev);
    try {
      while (approvals.step())
        d.approvals.push_back(approval{approvals.i64(0), approvals.text(1), approvals.text(2),
                                       approvals.text(3), parse_ts(approvals.view(4))});
    } catch (const corrupt_row& e) {
      if (!unreadable) throw corrupt_row("draft D-" + std::to_string(d.id) + ": " + e.what());
      unreadable->push_back(d.id);
      it = out.erase(it);
      continue;
    }
    ++it;
  }
  return out;
}

std::optional<draft> sqlite_store::get_draft(std::int64_t id) {
  auto s = db_.prepare(std::string(draft_columns) + "WHERE d.id = ?");
  s.bind(1, id);
  auto v = load_drafts(s, nullptr);
  if (v.empty()) return std::nullopt;
  return std::move(v.front());
}

std::vector<draft> sqlite_store::list_drafts(std::optional<draft_status> status,
                                             std::vector<std::int64_t>* unreadable) {
  auto s = db_.prepare(std::string(draft_columns) +
                       (status ? "WHERE d.status = ? ORDER BY d.id DESC" : "ORDER BY d.id DESC"));
  if (status) s.bind(1, to_string(*status));
  return load_drafts(s, unreadable);
}

void sqlite_store::add_revision(std::int64_t id, std::int64_t rev, const std::string& text, const std::string& sha,
                                const std::string& author, time_point at, std::optional<time_point> remind_at) {
  db_.prepare("INSERT INTO revisions (draft_id, rev, text, text_sha256, author, created_at) VALUES (?, ?, ?, ?, ?, ?)")
      .bind(1, id).bind(2, rev).bind(3, text).bind(4, sha).bind(5, author).bind(6, ts(at)).run();
  db_.prepare("UPDATE drafts SET current_rev = ?, status = 'pending', status_by = ?, status_at = ?, "
              "status_note = '', cleared_at = NULL, remind_at = ? WHERE id = ?")
      .bind(1, rev).bind(2, author).bind(3, ts(at)).bind(4, opt_text(remind_at)).bind(5, id).run();
  if (remind_at) due_changed_ = true;  // a reopened draft's reminder may come first
  db_.prepare("INSERT OR IGNORE INTO draft_authors (draft_id, person) VALUES (?, ?)").bind(1, id).bind(2, author).run();
}

void sqlite_store::set_draft_status(std::int64_t id, draft_status st, const std::string& by,
                                    const std::string& note, time_point at) {
  // A decided draft is reminded no more (the same statement).
  db_.prepare(st == draft_status::pending
                  ? "UPDATE drafts SET status = ?, status_by = ?, status_note = ?, status_at = ? WHERE id = ?"
                  : "UPDATE drafts SET status = ?, status_by = ?, status_note = ?, status_at = ?, "
                    "remind_at = NULL WHERE id = ?")
      .bind(1, to_string(st)).bind(2, by).bind(3, note).bind(4, ts(at)).bind(5, id).run();
  if (st == draft_status::approved) due_changed_ = true;  // its embargo may now be due
}

void sqlite_store::add_approval(std::int64_t id, const approval& a) {
  db_.prepare("INSERT INTO approvals (draft_id, rev, stage, person, note, created_at) VALUES (?, ?, ?, ?, ?, ?)")
      .bind(1, id).bind(2, a.rev).bind(3, a.stage).bind(4, a.person).bind(5, a.note).bind(6, ts(a.at)).run();
}

void sqlite_store::mark_cleared(std::int64_t id, time_point at) {
  db_.prepare("UPDATE drafts SET cleared_at = ? WHERE id = ? AND cleared_at IS NULL").bind(1, ts(at)).bind(2, id).run();
}

std::vector<std::int64_t> sqlite_store::due_embargoes(time_point now, bool crisis_class_only) {
  auto s = db_.prepare(std::string(
      "SELECT id FROM drafts WHERE status = 'approved' AND cleared_at IS NULL AND embargo IS NOT NULL "
      "AND (embargo <= ? OR NOT embargo GLOB " SIGNOFF_TS_GLOB ")") + (crisis_class_only ? " AND class = 'crisis'" : "") + " ORDER BY embargo, id");
  s.bind(1, ts(now));
  std::vector<std::int64_t> out;
  while (s.step()) out.push_back(s.i64(0));
  return out;
}

std::optional<time_point> sqlite_store::next_embargo(bool crisis_class_only) {
  auto s = db_.prepare(std::string(
      "SELECT min(embargo) FROM drafts WHERE status = 'approved' AND cleared_at IS NULL AND embargo IS NOT NULL "
      "AND embargo GLOB " SIGNOFF_TS_GLOB) +
      (crisis_class_only ? " AND class = 'crisis'" : ""));
  s.step();
  return opt_ts(s, 0);
}

void sqlite_store::set_remind_at(std::int64_t id, std::optional<time_point> at) {
  db_.prepare("UPDATE drafts SET remind_at = ? WHERE id = ?").bind(1, opt_text(at)).bind(2, id).run();
  if (at) due_changed_ = true;
}

// The WHERE clauses match the partial index drafts_remind (schema.cpp).
std::vector<std::int64_t> sqlite_store::due_reminders(time_point now, bool crisis_class_only) {
  auto s = db_.prepare(std::string(
      "SELECT id FROM drafts WHERE status = 'pending' AND remind_at IS NOT NULL "
      "AND (remind_at <= ? OR NOT remind_at GLOB " SIGNOFF_TS_GLOB ")") +
      (crisis_class_only ? " AND class = 'crisis'" : "") + " ORDER BY remind_at, id");
  s.bind(1, ts(now));
  std::vector<std::int64_t> out;
  while (s.step()) out.push_back(s.i64(0));
  return out;
}

std::optional<time_point> sqlite_store::next_reminder(bool crisis_class_only) {
  auto s = db_.prepare(std::string(
      "SELECT min(remind_at) FROM drafts WHERE status = 'pending' AND remind_at IS NOT NULL "
      "AND remind_at GLOB " SIGNOFF_TS_GLOB) +
      (crisis_class_only ? " AND class = 'crisis'" : ""));
  s.step();
  return opt_ts(s, 0);
}

// ---- crises -------------------------------------------------------------

static constexpr const char* crisis_columns =
    "SELECT id, sev, title, statement, started_by, started_at, ended_by, ended_at, end_note FROM crises ";

crisis sqlite_store::load_crisis(sql::stmt& s) {
  crisis c;
  c.id = s.i64(0);
  c.sev = s.text(1);
  c.title = s.text(2);
  c.statement = s.text(3);
  c.started_by = s.text(4);
  c.started_at = parse_ts(s.view(5));
  c.ended_by = s.text(6);
  c.ended_at = opt_ts(s, 7);
  c.end_note = s.text(8);
  return c;
}

std::optional<crisis> sqlite_store::active_crisis() {
  auto s = db_.prepare(std::string(crisis_columns) + "WHERE ended_at IS NULL ORDER BY id DESC LIMIT 1");
  if (!s.step()) return std::nullopt;
  return load_crisis(s);
}

std::optional<crisis> sqlite_store::last_crisis() {
  auto s = db_.prepare(std::string(crisis_columns) + "ORDER BY id DESC LIMIT 1");
  if (!s.step()) return std::nullopt;
  return load_crisis(s);
}

std::int64_t sqlite_store::start_crisis(const crisis& c) {
  db_.prepare("INSERT INTO crises (sev, title, statement, started_by, started_at) VALUES (?, ?, ?, ?, ?)")
      .bind(1, c.sev).bind(2, c.title).bind(3, c.statement).bind(4, c.started_by).bind(5, ts(c.started_at)).run();
  return db_.last_insert_rowid();
}

void sqlite_store::end_crisis(std::int64_t id, const std::string& by, const std::string& note, time_point at) {
  db_.prepare("UPDATE crises SET ended_by = ?, ended_at = ?, end_note = ? WHERE id = ?")
      .bind(1, by).bind(2, ts(at)).bind(3, note).bind(4, id).run();
  due_changed_ = true;  // the freeze no longer holds embargoes
}

// ---- escalations ----------------------------------------------------------

static constexpr const char* escalation_columns =
    "SELECT id, route, sev, summary, opened_by, opened_at, status, level, level_paged_at, due_at, "
    "acked_by, acked_at, resolved_by, resolved_at, resolve_note FROM escalations ";

escalation sqlite_store::load_escalation(sql::stmt& s) {
  escalation e;
  e.id = s.i64(0);
  e.route = s.text(1);
  e.sev = s.text(2);
  e.summary = s.text(3);
  e.opened_by = s.text(4);
  e.opened_at = parse_ts(s.view(5));
  auto st = s.view(6);
  e.status = st == "acked" ? escalation_status::acked
             : st == "resolved" ? escalation_status::resolved : escalation_status::open;
  e.level = static_cast<int>(s.i64(7));
  e.level_paged_at = parse_ts(s.view(8));
  e.due_at = opt_ts(s, 9);
  e.acked_by = s.text(10);
  e.acked_at = opt_ts(s, 11);
  e.resolved_by = s.text(12);
  e.resolved_at = opt_ts(s, 13);
  e.resolve_note = s.text(14);
  return e;
}

std::int64_t sqlite_store::open_escalation(const escalation& e) {
  due_changed_ = true;
  std::optional<std::string> due;
  if (e.due_at) due = ts(*e.due_at);
  db_.prepare("INSERT INTO escalations (route, sev, summary, opened_by, opened_at, status, level, "
              "level_paged_at, due_at) VALUES (?, ?, ?, ?, ?, 'open', 1, ?, ?)")
      .bind(1, e.route).bind(2, e.sev).bind(3, e.summary).bind(4, e.opened_by).bind(5, ts(e.opened_at))
      .bind(6, ts(e.level_paged_at)).bind(7, due).run();
  auto id = db_.last_insert_rowid();
  auto ins = db_.prepare("INSERT OR IGNORE INTO escalation_notified (escalation_id, person, level) VALUES (?, ?, 1)");
  for (const auto& p : e.notified) {
    ins.reset();
    ins.bind(1, id).bind(2, p).run();
  }
  return id;
}

std::optional<escalation> sqlite_store::get_escalation(std::int64_t id) {
  auto s = db_.prepare(std::string(escalation_columns) + "WHERE id = ?");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  escalation e;
  try {
    e = load_escalation(s);
  } catch (const corrupt_row& bad) {
    throw corrupt_row("escalation E-" + std::to_string(id) + ": " + bad.what());
  }
  auto n = db_.prepare("SELECT person FROM escalation_notified WHERE escalation_id = ? ORDER BY level, person");
  n.bind(1, id);
  while (n.step()) e.notified.push_back(n.text(0));
  return e;
}

std::vector<escalation> sqlite_store::unresolved_escalations(std::vector<std::int64_t>* unreadable) {
  std::vector<std::int64_t> ids;
  auto s = db_.prepare("SELECT id FROM escalations WHERE status != 'resolved' ORDER BY id");
  while (s.step()) ids.push_back(s.i64(0));
  std::vector<escalation> out;
  for (auto id : ids) {
    try {
      if (auto e = get_escalation(id)) out.push_back(std::move(*e));
    } catch (const corrupt_row&) {
      if (!unreadable) throw;
      unreadable->push_back(id);
    }
  }
  return out;
}

void sqlite_store::page_level(std::int64_t id, int level, const std::vector<std::string>& people,
                              time_point at, std::optional<time_point> due) {
  std::optional<std::string> d;
  if (due) d = ts(*due);
  db_.prepare("UPDATE escalations SET level = ?, level_paged_at = ?, due_at = ? WHERE id = ?")
      .bind(1, static_cast<std::int64_t>(level)).bind(2, ts(at)).bind(3, d).bind(4, id).run();
  due_changed_ = true;
  auto ins = db_.prepare("INSERT OR IGNORE INTO escalation_notified (escalation_id, person, level) VALUES (?, ?, ?)");
  for (const auto& p : people) {
    ins.reset();
    ins.bind(1, id).bind(2, p).bind(3, static_cast<std::int64_t>(level)).run();
  }
}

void sqlite_store::ack_escalation(std::int64_t id, const std::string& by, time_point at) {
  db_.prepare("UPDATE escalations SET status = 'acked', acked_by = ?, acked_at = ?, due_at = NULL WHERE id = ?")
      .bind(1, by).bind(2, ts(at)).bind(3, id).run();
}

void sqlite_store::resolve_escalation(std::int64_t id, const std::string& by, const std::string& note,
                                      time_point at) {
  db_.prepare("UPDATE escalations SET status = 'resolved', resolved_by = ?, resolved_at = ?, "
              "resolve_note = ?, due_at = NULL WHERE id = ?")
      .bind(1, by).bind(2, ts(at)).bind(3, note).bind(4, id).run();
}

std::vector<std::int64_t> sqlite_store::due_escalations(time_point now) {
  auto s = db_.prepare("SELECT id FROM escalations WHERE status = 'open' AND due_at IS NOT NULL AND "
                       "(due_at <= ? OR NOT due_at GLOB " SIGNOFF_TS_GLOB ") ORDER BY due_at, id");
  s.bind(1, ts(now));
  std::vector<std::int64_t> out;
  while (s.step()) out.push_back(s.i64(0));
  return out;
}

std::optional<time_point> sqlite_store::next_escalation_due() {
  auto s = db_.prepare("SELECT min(due_at) FROM escalations WHERE status = 'open' AND due_at IS NOT NULL "
                       "AND due_at GLOB " SIGNOFF_TS_GLOB);
  s.step();
  return opt_ts(s, 0);
}

// ---- audit ----------------------------------------------------------------

audit::record sqlite_store::append_audit(const audit::entry& e, time_point now) {
  return audit::append(db_, e, now, &tail_);
}

std::vector<audit::record> sqlite_store::query_audit(const audit::filter& f) {
  return audit::query(db_, f);
}

// ---- signed checkpoints -------------------------------------------------------

std::optional<stored_checkpoint> sqlite_store::latest_checkpoint() {
  auto s = db_.prepare("SELECT size, root_hash, note, ts FROM checkpoints ORDER BY size DESC LIMIT 1");
  if (!s.step()) return std::nullopt;
  return stored_checkpoint{s.i64(0), s.text(1), s.text(2), s.text(3)};
}

std::int64_t sqlite_store::records_since_checkpoint() {
  // Checkpoint posts' deliveries are told apart by detail.kind (written by
  // the executor's record_delivery); a detail that is not JSON counts.
  auto s = db_.prepare(
      "SELECT count(*) FROM audit_log WHERE seq > (SELECT coalesce(max(size), 0) FROM checkpoints) "
      "AND action <> 'audit.checkpoint' AND NOT (action IN ('post.sent', 'post.failed') AND "
      "CASE WHEN json_valid(detail) THEN json_extract(detail, '$.kind') = 'checkpoint' ELSE 0 END)");
  s.step();
  return s.i64(0);
}

std::pair<std::int64_t, merkle::hash> sqlite_store::tree_head() {
  thread_local merkle::hasher h;
  std::optional<merkle::compact_range> range;
  {
    auto s = db_.prepare("SELECT size, hashes FROM merkle_range WHERE id = 1");
    if (s.step()) {
      const auto hex = s.view(1);
      std::string raw;
      bool ok = hex.size() % 64 == 0;
      for (std::size_t i = 0; ok && i < hex.size(); i += 64) {
        auto node = merkle::from_hex(hex.substr(i, 64));
        ok = node.has_value();
        if (ok) raw.append(reinterpret_cast<const char*>(node->data()), node->size());
      }
      if (ok && s.i64(0) >= 0) range = merkle::compact_range::from_bytes(static_cast<std::uint64_t>(s.i64(0)), raw);
    }
  }
  std::int64_t last = 0;
  {
    auto s = db_.prepare("SELECT coalesce(max(seq), 0) FROM audit_log");
    s.step();
    last = s.i64(0);
  }
  // A range longer than the log (a backup restored under a newer range) or
  // unreadable is rebuilt: it is a cache of the records, never evidence.
  if (!range || range->size() > static_cast<std::uint64_t>(last)) range.emplace();
  auto s = db_.prepare("SELECT seq, hash FROM audit_log WHERE seq > ? ORDER BY seq");
  s.bind(1, static_cast<std::int64_t>(range->size()));
  while (s.step()) {
    const std::int64_t seq = s.i64(0);
    if (seq != static_cast<std::int64_t>(range->size()) + 1)
      throw corrupt_row("audit_log has no record " + std::to_string(range->size() + 1) +
                        " (the next is seq " + std::to_string(seq) + "): run signoff audit verify");
    auto leaf = merkle::from_hex(s.view(1));
    if (!leaf)
      throw corrupt_row("audit_log seq " + std::to_string(seq) +
                        ": hash is not 64 hex digits: run signoff audit verify");
    range->append(h.leaf(*leaf), h);
  }
  std::string hex;
  const std::string raw = range->bytes();
  hex = to_hex(raw);
  db_.prepare("INSERT INTO merkle_range (id, size, hashes) VALUES (1, ?, ?) "
              "ON CONFLICT (id) DO UPDATE SET size = excluded.size, hashes = excluded.hashes")
      .bind(1, static_cast<std::int64_t>(range->size())).bind(2, hex).run();
  const auto size = static_cast<std::int64_t>(range->size());
  committed_seq_ = std::max(committed_seq_, size);
  return {size, range->root(h)};
}

void sqlite_store::add_checkpoint(const stored_checkpoint& c) {
  db_.prepare("INSERT INTO checkpoints (size, root_hash, note, ts) VALUES (?, ?, ?, ?)")
      .bind(1, c.size).bind(2, c.root_hash).bind(3, c.note).bind(4, c.ts).run();
}

// ---- audit console -----------------------------------------------------------

void sqlite_store::add_console_token(const std::string& token_hash, const std::string& person, time_point at,
                                     time_point expires_at) {
  db_.prepare("INSERT INTO console_tokens (token_hash, person, created_at, expires_at) VALUES (?, ?, ?, ?)")
      .bind(1, token_hash).bind(2, person).bind(3, ts(at)).bind(4, ts(expires_at)).run();
}

std::optional<store::console_token> sqlite_store::find_console_token(const std::string& token_hash) {
  auto s = db_.prepare("SELECT person, expires_at, used_at FROM console_tokens WHERE token_hash = ?");
  s.bind(1, token_hash);
  if (!s.step()) return std::nullopt;
  console_token t{s.text(0), parse_ts(s.view(1)), std::nullopt};
  if (!s.is_null(2)) t.used_at = parse_ts(s.view(2));
  return t;
}

void sqlite_store::use_console_token(const std::string& token_hash, time_point at) {
  db_.prepare("UPDATE console_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL")
      .bind(1, ts(at)).bind(2, token_hash).run();
}

void sqlite_store::add_console_session(const std::string& id_hash, const std::string& person, time_point at,
                                       time_point expires_at) {
  db_.prepare("INSERT INTO console_sessions (id_hash, person, created_at, expires_at) VALUES (?, ?, ?, ?)")
      .bind(1, id_hash).bind(2, person).bind(3, ts(at)).bind(4, ts(expires_at)).run();
}

std::optional<std::string> sqlite_store::console_session_person(const std::string& id_hash, time_point now) {
  auto s = db_.prepare(
      "SELECT person FROM console_sessions WHERE id_hash = ? AND revoked_at IS NULL AND expires_at > ?");
  s.bind(1, id_hash).bind(2, ts(now));
  if (!s.step()) return std::nullopt;
  return s.text(0);
}

void sqlite_store::revoke_console_session(const std::string& id_hash, time_point at) {
  db_.prepare("UPDATE console_sessions SET revoked_at = ? WHERE id_hash = ? AND revoked_at IS NULL")
      .bind(1, ts(at)).bind(2, id_hash).run();
}

int sqlite_store::revoke_console_sessions_except(const std::vector<std::string>& keep, time_point at) {
  boost::json::array arr(keep.begin(), keep.end());
  db_.prepare("UPDATE console_sessions SET revoked_at = ? WHERE revoked_at IS NULL AND person NOT IN "
              "(SELECT value FROM json_each(?))")
      .bind(1, ts(at)).bind(2, boost::json::serialize(arr)).run();
  return db_.changes();
}

// ---- outbox ---------------------------------------------------------------

std::int64_t sqlite_store::enqueue_post(const outbox_post& p) {
  std::optional<std::string> card;
  if (p.card) card = card_json(*p.card);
  db_.prepare("INSERT INTO outbox (created_at, platform, channel, platform_channel, kind, subject, text, "
              "requested_by, approve_rev, mentions, card) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .bind(1, ts(p.created_at)).bind(2, to_string(p.platform)).bind(3, p.channel).bind(4, p.platform_channel)
      .bind(5, to_string(p.kind)).bind(6, p.subject).bind(7, p.text).bind(8, p.requested_by)
      .bind(9, p.approve_rev).bind(10, join_mentions(p.mentions)).bind(11, card).run();
  return db_.last_insert_rowid();
}

namespace {

constexpr const char* outbox_columns =
    "SELECT id, created_at, platform, channel, platform_channel, kind, subject, text, requested_by, "
    "attempts, approve_rev, mentions, card FROM outbox ";

// A post that cannot be read back: its id and why.
struct unreadable_post {
  std::int64_t id;
  std::string why;
};

// Posts in `s`'s order. A row that cannot be read back (a time, platform or
// kind signoff does not know) goes to `unreadable` when given; without it,
// it throws corrupt_row.
std::vector<outbox_post> load_posts(sql::stmt& s, std::vector<unreadable_post>* unreadable = nullptr) {
  std::vector<outbox_post> out;
  while (s.step()) {
    outbox_post p;
    p.id = s.i64(0);
    try {
      p.created_at = parse_ts(s.view(1));
      p.platform = parse_stored(parse_platform, "platform", s.view(2));
      p.kind = parse_stored(parse_post_kind, "post kind", s.view(5));
    } catch (const corrupt_row& e) {
      std::string why = "outbox post " + std::to_string(p.id) + ": " + e.what();
      if (!unreadable) throw corrupt_row(why);
      unreadable->push_back({p.id, std::move(why)});
      continue;
    }
    p.channel = s.text(3);
    p.platform_channel = s.text(4);
    p.subject = s.text(6);
    p.text = s.text(7);
    p.requested_by = s.text(8);
    p.attempts = static_cast<int>(s.i64(9));
    if (!s.is_null(10)) p.approve_rev = s.i64(10);
    p.mentions = split_mentions(s.view(11));
    if (!s.is_null(12)) p.card = card_from_json(s.view(12));
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace

std::vector<outbox_post> sqlite_store::pending_posts(platform on, int limit) {
  auto s = db_.prepare(std::string(outbox_columns) +
                       "WHERE platform = ? AND status = 'pending' ORDER BY id LIMIT ?");
  s.bind(1, to_string(on)).bind(2, static_cast<std::int64_t>(limit));
  return load_posts(s);
}

std::vector<outbox_post> sqlite_store::claim_posts(platform on, const std::string& owner,
                                                   time_point now, std::chrono::milliseconds lease,
                                                   int limit) {
  // Inside a group commit it rides the caller's transaction; alone it is one.
  std::optional<sql::transaction> own;
  if (sqlite3_get_autocommit(db_.handle())) own.emplace(db_);
  auto s = db_.prepare(std::string(outbox_columns) +
                       "WHERE platform = ? AND status = 'pending' AND (lease_until IS NULL OR "
                       "lease_until <= ? OR lease_owner = ?) ORDER BY id LIMIT ?");
  s.bind(1, to_string(on)).bind(2, ts(now)).bind(3, owner).bind(4, static_cast<std::int64_t>(limit));
  std::vector<unreadable_post> unreadable;
  auto posts = load_posts(s, &unreadable);
  auto claim = db_.prepare("UPDATE outbox SET lease_owner = ?, lease_until = ? WHERE id = ?");
  for (const auto& p : posts) {
    claim.reset();
    claim.bind(1, owner).bind(2, ts(now + lease)).bind(3, p.id).run();
  }
  if (!unreadable.empty()) {
    // Never sendable, and left pending they would fill every claim's LIMIT.
    auto fail = db_.prepare("UPDATE outbox SET status = 'failed', done_at = ?, result = ?, "
                            "lease_owner = NULL, lease_until = NULL WHERE id = ?");
    for (const auto& u : unreadable) {
      fail.reset();
      fail.bind(1, ts(now)).bind(2, u.why).bind(3, u.id).run();
      // Like any failed delivery, it is evidence: "this post never went out".
      boost::json::object d;
      d["outbox"] = u.id;
      d["error"] = u.why;
      append_audit({on, "", "", "system", "post.failed", "", std::nullopt, outcome::error, boost::json::serialize(d)},
                   now);
    }
  }
  if (own) own->commit();
  return posts;
}

bool sqlite_store::finish_post(std::int64_t id, bool sent, const std::string& result, time_point at) {
  db_.prepare("UPDATE outbox SET status = ?, attempts = attempts + 1, done_at = ?, result = ?, "
              "lease_owner = NULL, lease_until = NULL WHERE id = ? AND status = 'pending'")
      .bind(1, sent ? "sent" : "failed").bind(2, ts(at)).bind(3, result).bind(4, id).run();
  return db_.changes() == 1;
}

void sqlite_store::release_posts(const std::string& owner) {
  db_.prepare("UPDATE outbox SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ? AND status = 'pending'")
      .bind(1, owner).run();
}

std::optional<std::string> sqlite_store::sent_card(platform on,
                                                   const std::string& platform_channel,
                                                   const std::string& subject) {
  // kind IN: post_kind::card and card_update as stored, spelled as the
  // partial index outbox_sent_cards (schema.cpp) has them so that it serves.
  auto s = db_.prepare("SELECT result FROM outbox WHERE platform = ? AND platform_channel = ? AND subject = ? "
                       "AND status = 'sent' AND kind IN ('card', 'card_update') ORDER BY id DESC LIMIT 1");
  s.bind(1, to_string(on)).bind(2, platform_channel).bind(3, subject);
  if (!s.step() || s.is_null(0)) return std::nullopt;
  return s.text(0);
}

// ---- deliveries seen ---------------------------------------------------------

std::optional<seen_envelope> sqlite_store::find_envelope(platform on,
                                                         const std::string& envelope_id) {
  auto s = db_.prepare("SELECT seq, reply FROM seen_envelopes WHERE platform = ? AND envelope_id = ?");
  s.bind(1, to_string(on)).bind(2, envelope_id);
  if (!s.step()) return std::nullopt;
  return seen_envelope{s.i64(0), s.text(1)};
}

void sqlite_store::remember_envelope(platform on, const std::string& envelope_id,
                                     std::int64_t seq, const std::string& reply,
                                     const std::string& response_url, time_point at) {
  db_.prepare("INSERT INTO seen_envelopes (platform, envelope_id, seen_at, seq, reply, response_url) "
              "VALUES (?, ?, ?, ?, ?, ?)")
      .bind(1, to_string(on)).bind(2, envelope_id).bind(3, ts(at)).bind(4, seq).bind(5, reply)
      .bind(6, response_url).run();
}

void sqlite_store::confirm_envelopes(platform on, const std::vector<std::string>& ids) {
  if (ids.empty()) return;
  // One statement for the whole batch: the IDs as a JSON array.
  boost::json::array arr(ids.begin(), ids.end());
  db_.prepare("UPDATE seen_envelopes SET confirmed = 1 WHERE platform = ? AND envelope_id IN "
              "(SELECT value FROM json_each(?))")
      .bind(1, to_string(on)).bind(2, boost::json::serialize(arr)).run();
}

std::vector<unconfirmed_envelope> sqlite_store::unconfirmed_envelopes(platform on,
                                                                      time_point since) {
  auto s = db_.prepare("SELECT envelope_id, reply, response_url, seen_at FROM seen_envelopes "
                       "WHERE platform = ? AND confirmed = 0 AND seen_at >= ? ORDER BY seen_at");
  s.bind(1, to_string(on)).bind(2, ts(since));
  std::vector<unconfirmed_envelope> out;
  while (s.step()) out.push_back({s.text(0), s.text(1), s.text(2), parse_ts(s.view(3))});
  return out;
}

std::optional<time_point> sqlite_store::last_envelope_at(platform on) {
  auto s = db_.prepare("SELECT max(seen_at) FROM seen_envelopes WHERE platform = ?");
  s.bind(1, to_string(on));
  if (!s.step() || s.is_null(0)) return std::nullopt;
  return parse_ts(s.view(0));
}

std::optional<std::pair<std::string, time_point>> sqlite_store::stream_position(platform on) {
  auto s = db_.prepare("SELECT position, at FROM stream_positions WHERE platform = ?");
  s.bind(1, to_string(on));
  if (!s.step()) return std::nullopt;
  return std::pair{s.text(0), parse_ts(s.view(1))};
}

void sqlite_store::save_stream_position(platform on, const std::string& position, time_point at) {
  db_.prepare("INSERT INTO stream_positions (platform, position, at) VALUES (?1, ?2, ?3) "
              "ON CONFLICT(platform) DO UPDATE SET position = ?2, at = ?3")
      .bind(1, to_string(on)).bind(2, position).bind(3, ts(at)).run();
}

int sqlite_store::prune_envelopes(time_point before) {
  db_.prepare("DELETE FROM seen_envelopes WHERE seen_at < ?").bind(1, ts(before)).run();
  return db_.changes();
}

// ---- command limit -----------------------------------------------------------

bool sqlite_store::take_rate_slot(const std::string& key, time_point now, std::chrono::milliseconds window,
                                  int limit, time_point& retry_at) {
  // One statement on the common path: insert only while the window has room.
  const auto start = ts(std::max(now - window, min_time));
  db_.prepare("INSERT INTO rate_events (actor, at) SELECT ?1, ?2 WHERE "
              "(SELECT count(*) FROM rate_events WHERE actor = ?1 AND at > ?3) < ?4")
      .bind(1, key).bind(2, ts(now)).bind(3, start).bind(4, static_cast<std::int64_t>(limit)).run();
  if (db_.changes() == 1) return true;
  auto s = db_.prepare("SELECT min(at) FROM rate_events WHERE actor = ? AND at > ?");
  s.bind(1, key).bind(2, start);
  s.step();
  retry_at = (s.is_null(0) ? now : parse_ts(s.view(0))) + window;
  return false;
}

void sqlite_store::prune_rate_slots(time_point before) {
  db_.prepare("DELETE FROM rate_events WHERE at <= ?").bind(1, ts(before)).run();
}

}  // namespace signoff
