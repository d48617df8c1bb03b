// Reading the audit chain: filtered queries and whole-chain verification.
// Appending and the hash itself: audit_log.cpp / audit_hash.hpp.
#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "bot/core/time.hpp"
#include "storage/audit_hash.hpp"
#include "storage/audit_log.hpp"
#include "storage/audit_values.hpp"

namespace signoff::audit {
namespace {

constexpr std::string_view columns =
    "seq, ts, platform, workspace, channel, actor, action, subject, revision, outcome, detail, "
    "prev_hash, hash";

// Filters become SQL so SQLite can use the subject/actor/action/ts indexes;
// since/until compare ts as text, which orders like time because every ts has
// the same fixed-width UTC format.
//
// A bare `ts >= ?` with ORDER BY seq leaves SQLite (which has no statistics)
// scanning the table in seq order: 0.3 s on a million records for an old
// --until or a recent export --since. So each time bound also becomes a seq
// bound, the least (greatest) seq whose ts matches, read from the ts index:
// the query is then a seq range, alone or within the subject/actor/action
// indexes (which end in seq). The ts conditions stay, so results are exact
// even where ts is not monotonic (a tampered log).
sql::stmt prepare_filtered(sql::db& d, const filter& f) {
  std::string q = "SELECT ";
  q += columns;
  q += " FROM audit_log";
  const char* glue = " WHERE ";
  auto cond = [&](const char* c) {
    q += glue;
    q += c;
    glue = " AND ";
  };
  if (f.seq) cond("seq = ?");
  if (!f.subject.empty()) cond("subject = ?");
  if (!f.actor.empty()) cond("actor = ?");
  if (!f.action.empty()) cond("action = ?");
  if (!f.outcome.empty()) cond("outcome = ?");
  if (!f.platform.empty()) cond("platform = ?");
  if (f.before) cond("seq < ?");
  if (f.after) cond("seq > ?");
  if (f.since) {
    cond("ts >= ?");
    cond("seq >= (SELECT min(seq) FROM audit_log INDEXED BY audit_log_ts WHERE ts >= ?)");
  }
  if (f.until) {
    cond("ts <= ?");
    cond("seq <= (SELECT max(seq) FROM audit_log INDEXED BY audit_log_ts WHERE ts <= ?)");
  }
  q += f.newest_first ? " ORDER BY seq DESC" : " ORDER BY seq";
  if (f.limit) q += " LIMIT ?";

  auto s = d.prepare(q);
  int i = 0;
  if (f.seq) s.bind(++i, *f.seq);
  if (!f.subject.empty()) s.bind(++i, f.subject);
  if (!f.actor.empty()) s.bind(++i, f.actor);
  if (!f.action.empty()) s.bind(++i, f.action);
  if (!f.outcome.empty()) s.bind(++i, f.outcome);
  if (!f.platform.empty()) s.bind(++i, f.platform);
  if (f.before) s.bind(++i, *f.before);
  if (f.after) s.bind(++i, *f.after);
  for (const auto& bound : {f.since, f.until}) {
    if (!bound) continue;
    const std::string ts = format_rfc3339_ms(*bound);
    s.bind(++i, ts);  // the ts condition
    s.bind(++i, ts);  // its seq bound
  }
  // SQLite reads a negative LIMIT as "no limit"; a caller asking for -1 rows
  // wants none.
  if (f.limit) s.bind(++i, std::max<std::int64_t>(*f.limit, 0));
  return s;
}

// `YYYY-MM-DDTHH:MM:SS.mmmZ`, the only form append writes. A forged ts in
// another form would still sort as text, wrongly, in since/until filters.
bool strict_ts(std::string_view ts) {
  static constexpr std::string_view pattern = "dddd-dd-ddTdd:dd:dd.dddZ";
  if (ts.size() != pattern.size()) return false;
  for (std::size_t i = 0; i < ts.size(); ++i) {
    if (pattern[i] == 'd' ? (ts[i] < '0' || ts[i] > '9') : ts[i] != pattern[i]) return false;
  }
  return true;
}

bool has_controls(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; });
}

// A forged value in a problem message, safe for a terminal and short:
// printable ASCII as is, other bytes as \xHH, at most `max_shown` bytes.
std::string shown(std::string_view v, std::size_t max_shown = 64) {
  std::string out = "'";
  for (std::size_t i = 0; i < v.size() && i < max_shown; ++i) {
    const auto c = static_cast<unsigned char>(v[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xf];
    }
  }
  out += v.size() > max_shown ? "'..." : "'";
  return out;
}

// --- the append-only triggers (SPEC: "triggers refuse UPDATE and DELETE") ---

// As storage/schema.cpp migration 1 creates them. A migration that changes
// them must change these too (every test that verifies a fresh store fails
// otherwise).
struct expected_trigger {
  std::string_view name, refuses, sql;
};
constexpr expected_trigger append_only_triggers[] = {
    {"audit_log_no_update", "UPDATE",
     "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log\n"
     "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END"},
    {"audit_log_no_delete", "DELETE",
     "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log\n"
     "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END"},
};

bool word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// A canonical form of a CREATE TRIGGER statement, so that layout does not
// count but meaning does: outside '...' literals ASCII letters are
// lowercased (SQL keywords and identifiers ignore case) and whitespace is
// dropped, except one space between two word characters; literals (the
// RAISE message) are kept byte for byte. Anything else that differs (a WHEN
// clause, `UPDATE OF seq`, RAISE(IGNORE), a comment) makes a different form.
std::string normalised_sql(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  bool space = false;  // whitespace seen since the last character kept
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      space = true;
      continue;
    }
    if (space && !out.empty() && word_char(out.back()) && word_char(c)) out += ' ';
    space = false;
    if (c == '\'') {
      // Copy the literal through its closing quote ('' is an escaped quote).
      std::size_t j = i + 1;
      while (j < sql.size() && !(sql[j] == '\'' && (j + 1 >= sql.size() || sql[j + 1] != '\''))) {
        j += sql[j] == '\'' ? 2 : 1;
      }
      out.append(sql.substr(i, j + 1 - i));
      i = j;
      continue;
    }
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  while (!out.empty() && out.back() == ';') out.pop_back();
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto low = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
           return low(x) == low(y);
         });
}

// One problem per append-only trigger that is missing, on another table, or
// no longer the refusing statement the schema created. Without them anyone
// with the file can UPDATE or DELETE records with plain SQL; verify still
// recomputes the chain, but the table is no longer append-only and an
// auditor must know.
std::vector<std::string> trigger_problems(sql::db& d) {
  auto s = d.prepare(
      "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger' AND "
      "lower(name) IN ('audit_log_no_update', 'audit_log_no_delete')");
  struct found {
    std::string table, sql;
    bool seen = false;
  };
  std::array<found, std::size(append_only_triggers)> got;
  while (s.step()) {
    const std::string_view name = s.view(0);
    for (std::size_t i = 0; i < got.size(); ++i) {
      if (iequals(name, append_only_triggers[i].name)) got[i] = {s.text(1), s.text(2), true};
    }
  }
  std::vector<std::string> problems;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const auto& want = append_only_triggers[i];
    const std::string what = "trigger " + std::string(want.name);
    const std::string refuses = std::string(want.refuses);
    if (!got[i].seen) {
      problems.push_back(what + " is missing: audit_log no longer refuses " + refuses);
    } else if (!iequals(got[i].table, "audit_log")) {
      problems.push_back(what + " is on table " + shown(got[i].table) +
                         ", not audit_log: audit_log no longer refuses " + refuses);
    } else if (normalised_sql(got[i].sql) != normalised_sql(want.sql)) {
      problems.push_back(what + " is not the schema's (audit_log may no longer refuse " + refuses +
                         "): it reads " + shown(got[i].sql, 240));
    }
  }
  return problems;
}

}  // namespace

void for_each(sql::db& d, const filter& f, const std::function<void(const record&)>& fn) {
  auto s = prepare_filtered(d, f);
  record r;  // reused: assign() keeps each string's capacity across rows
  while (s.step()) {
    r.seq = s.i64(0);
    r.ts.assign(s.view(1));
    r.platform.assign(s.view(2));
    r.workspace.assign(s.view(3));
    r.channel.assign(s.view(4));
    r.actor.assign(s.view(5));
    r.action.assign(s.view(6));
    r.subject.assign(s.view(7));
    r.revision = s.opt_i64(8);
    r.outcome.assign(s.view(9));
    r.detail.assign(s.view(10));
    r.prev_hash.assign(s.view(11));
    r.hash.assign(s.view(12));
    fn(r);
  }
}

std::vector<record> query(sql::db& d, const filter& f) {
  std::vector<record> out;
  for_each(d, f, [&](const record& r) { out.push_back(r); });
  return out;
}

// verify: the calling thread only reads rows and copies them into batches;
// a second thread runs every check, in seq order, and the hashing. Measured
// on a million records (2-core EPYC, SHA-NI): reading ~0.67 us of CPU per
// record, checking+hashing ~0.37 us, so overlapping them nearly halves the
// time (tests/bench/storage_bench.cpp). The copy is needed anyway: SQLite's
// column pointers die at the next step.
namespace {

// The record's text columns in the order copied into batch::bytes.
enum text_col : std::size_t {
  c_ts, c_platform, c_workspace, c_channel, c_actor, c_action, c_subject, c_outcome, c_detail,
  c_prev_hash, c_hash, n_text_cols
};
constexpr int sql_col[n_text_cols] = {1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12};

struct copied_row {
  std::int64_t seq;
  std::optional<std::int64_t> revision;
  bool revision_typed;  // NULL or INTEGER, as SPEC says
  std::size_t offset;   // of the first text column in batch::bytes
  std::array<std::uint32_t, n_text_cols> len;
};

struct batch {
  std::string bytes;
  std::vector<copied_row> rows;
};

// SPEC's rules over consecutive records, in the order a reader would check
// them by hand; stops at the first problem.
class chain_checker {
 public:
  explicit chain_checker(std::vector<std::int64_t> roots_at) : prev_hash_(64, '0'), roots_at_(std::move(roots_at)) {
    prev_ts_.reserve(32);
    std::sort(roots_at_.begin(), roots_at_.end());
    roots_at_.erase(std::unique(roots_at_.begin(), roots_at_.end()), roots_at_.end());
    next_root_ = roots_at_.begin();
    while (next_root_ != roots_at_.end() && *next_root_ < 0) ++next_root_;
    if (next_root_ != roots_at_.end() && *next_root_ == 0) roots_[0] = range_.root(merkle_);
    while (next_root_ != roots_at_.end() && *next_root_ <= 0) ++next_root_;
  }

  // False (and problem()/bad_seq() set) when `r` breaks the chain.
  bool check(const copied_row& r, std::string_view bytes) {
    std::array<std::string_view, n_text_cols> f;
    std::size_t pos = r.offset;
    for (std::size_t i = 0; i < n_text_cols; ++i) {
      f[i] = bytes.substr(pos, r.len[i]);
      pos += r.len[i];
    }
    ++records_;
    const std::int64_t expected = records_;
    if (r.seq != expected) {
      return fail(r.seq, r.seq > expected ? "seq gap: expected " + std::to_string(expected) +
                                                " (record(s) removed or renumbered)"
                                          : "seq out of order: expected " + std::to_string(expected));
    }
    if (!strict_ts(f[c_ts])) return fail(r.seq, "ts is not of the form YYYY-MM-DDTHH:MM:SS.mmmZ");
    if (!r.revision_typed) return fail(r.seq, "revision is neither NULL nor an integer");
    static constexpr std::pair<text_col, const char*> plain[] = {
        {c_platform, "platform"}, {c_workspace, "workspace"}, {c_channel, "channel"},
        {c_actor, "actor"},       {c_action, "action"},       {c_subject, "subject"},
        {c_outcome, "outcome"}};
    for (auto [col, name] : plain) {
      if (has_controls(f[col]))
        return fail(r.seq, std::string("control byte in ") + name +
                               " (only detail may hold them, JSON-escaped)");
    }
    if (f[c_prev_hash] != prev_hash_) {
      return fail(r.seq, r.seq == 1 ? "prev_hash of seq 1 is not 64 zeros"
                                    : "prev_hash does not match the hash of seq " +
                                          std::to_string(r.seq - 1));
    }
    const auto h = hasher_({.seq = r.seq,
                            .ts = f[c_ts],
                            .platform = f[c_platform],
                            .workspace = f[c_workspace],
                            .channel = f[c_channel],
                            .actor = f[c_actor],
                            .action = f[c_action],
                            .subject = f[c_subject],
                            .revision = r.revision,
                            .outcome = f[c_outcome],
                            .detail = f[c_detail],
                            .prev_hash = f[c_prev_hash]});
    if (f[c_hash] != std::string_view(h.data(), h.size()))
      return fail(r.seq, "hash does not match the record's contents (a field was altered)");
    if (f[c_ts] < prev_ts_) {
      return fail(r.seq, "ts decreases: " + std::string(f[c_ts]) + " is before " + prev_ts_ +
                             " of seq " + std::to_string(r.seq - 1));
    }
    // SPEC's vocabularies: a chain recomputed by a forger (or written by a
    // buggy writer) still holds, so only these catch `draft.aprove`.
    if (!is_spec_action(f[c_action]))
      return fail(r.seq, "action " + shown(f[c_action]) + " is not one of SPEC's actions");
    if (!is_spec_outcome(f[c_outcome]))
      return fail(r.seq, "outcome " + shown(f[c_outcome]) + " is not one of ok, denied, invalid, error");
    if (!is_spec_platform(f[c_platform]))
      return fail(r.seq, "platform " + shown(f[c_platform]) +
                             " is not one of slack, discord, mattermost, shell, console, system");
    prev_hash_.assign(f[c_hash]);
    prev_ts_.assign(f[c_ts]);
    if (next_root_ != roots_at_.end()) {
      // The hash matched its 64 lowercase hex digits just above.
      range_.append(merkle_.leaf(*merkle::from_hex(f[c_hash])), merkle_);
      if (*next_root_ == records_) {
        roots_[records_] = range_.root(merkle_);
        ++next_root_;
      }
    }
    return true;
  }

  verify_result result() const {
    verify_result res;
    res.records = records_;
    if (bad_seq_) {
      res.ok = false;
      res.first_bad_seq = bad_seq_;
      res.problem = problem_;
    } else if (records_ > 0) {
      res.last_hash = prev_hash_;
    }
    res.roots = roots_;
    return res;
  }

 private:
  bool fail(std::int64_t seq, std::string problem) {
    bad_seq_ = seq;
    problem_ = std::move(problem);
    return false;
  }

  detail::chain_hasher hasher_;
  std::string prev_hash_, prev_ts_;
  std::int64_t records_ = 0, bad_seq_ = 0;
  std::string problem_;
  // The Merkle tree, only while a requested size is still ahead.
  std::vector<std::int64_t> roots_at_;
  std::vector<std::int64_t>::const_iterator next_root_;
  merkle::hasher merkle_;
  merkle::compact_range range_;
  std::map<std::int64_t, merkle::hash> roots_;
};

// Batches flow reader -> checker through `ready_` and back through `free_`;
// three of them keep both threads busy without unbounded memory.
class check_pipeline {
 public:
  static constexpr std::size_t batch_rows = 512;

  explicit check_pipeline(std::vector<std::int64_t> roots_at) : checker_(std::move(roots_at)) {
    for (auto& b : pool_) {
      b.bytes.reserve(batch_rows * 400);
      b.rows.reserve(batch_rows);
    }
    for (std::size_t i = 1; i < pool_.size(); ++i) free_.push_back(&pool_[i]);
    worker_ = std::thread([this] { run(); });
  }
  // On an exception from the reader: stop the checker without throwing.
  ~check_pipeline() { stop(); }
  check_pipeline(const check_pipeline&) = delete;
  check_pipeline& operator=(const check_pipeline&) = delete;

  batch& current() { return *cur_; }

  // Hands the current batch to the checker and takes an empty one.
  void submit() {
    std::unique_lock lock(m_);
    ready_.push_back(cur_);
    cv_.notify_all();
    cv_.wait(lock, [&] { return !free_.empty(); });
    cur_ = free_.front();
    free_.pop_front();
    cur_->bytes.clear();
    cur_->rows.clear();
  }

  // True once the checker found a problem: reading on is pointless.
  bool failed() const { return failed_.load(std::memory_order_relaxed); }

  // Checks what is left and returns the verdict; rethrows a checker failure.
  verify_result finish() {
    stop();
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    return checker_.result();
  }

 private:
  void stop() noexcept {
    if (!worker_.joinable()) return;
    {
      std::lock_guard lock(m_);
      if (!cur_->rows.empty()) ready_.push_back(cur_);
      closing_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }

  void run() {
    for (;;) {
      batch* b;
      {
        std::unique_lock lock(m_);
        cv_.wait(lock, [&] { return !ready_.empty() || closing_; });
        if (ready_.empty()) return;
        b = ready_.front();
        ready_.pop_front();
      }
      if (!failed()) {
        try {
          for (const auto& r : b->rows) {
            if (!checker_.check(r, b->bytes)) {
              failed_.store(true, std::memory_order_relaxed);
              break;
            }
          }
        } catch (...) {
          error_ = std::current_exception();  // read by finish() after join
          failed_.store(true, std::memory_order_relaxed);
        }
      }
      {
        std::lock_guard lock(m_);
        free_.push_back(b);
      }
      cv_.notify_all();
    }
  }

  std::array<batch, 3> pool_;
  batch* cur_ = &pool_[0];
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<batch*> ready_, free_;
  bool closing_ = false;
  std::atomic<bool> failed_{false};
  chain_checker checker_;  // worker-only until join
  std::exception_ptr error_;
  std::thread worker_;  // last: starts after everything it uses exists
};

}  // namespace

verify_result verify(sql::db& d, const verify_options& opt) {
  // The schema first: a few rows of sqlite_master, whatever the chain holds.
  std::vector<std::string> schema = trigger_problems(d);
  // One statement = one read transaction: a consistent snapshot even while
  // the bot appends.
  auto s = d.prepare(
      "SELECT seq, ts, platform, workspace, channel, actor, action, subject, revision, outcome, "
      "detail, prev_hash, hash FROM audit_log ORDER BY seq");
  check_pipeline pipeline(opt.roots_at);
  while (!pipeline.failed() && s.step()) {
    batch& b = pipeline.current();
    copied_row& r = b.rows.emplace_back();
    r.seq = s.i64(0);
    // The hash uses revision's decimal form, which a TEXT or REAL value
    // would only imitate: only INTEGER or NULL is a revision.
    const int rev_type = s.type(8);
    r.revision_typed = rev_type == SQLITE_INTEGER || rev_type == SQLITE_NULL;
    r.revision = rev_type == SQLITE_INTEGER ? std::optional<std::int64_t>(s.i64(8)) : std::nullopt;
    r.offset = b.bytes.size();
    for (std::size_t i = 0; i < n_text_cols; ++i) {
      const std::string_view v = s.view(sql_col[i]);
      r.len[i] = static_cast<std::uint32_t>(v.size());
      b.bytes += v;
    }
    if (b.rows.size() == check_pipeline::batch_rows) pipeline.submit();
  }
  verify_result res = pipeline.finish();
  if (!schema.empty()) {
    res.ok = false;
    res.schema_problems = std::move(schema);
  }
  return res;
}

std::vector<merkle::hash> leaf_hashes(sql::db& d, std::int64_t size) {
  std::vector<merkle::hash> out;
  out.reserve(static_cast<std::size_t>(std::max<std::int64_t>(size, 0)));
  merkle::hasher h;
  auto s = d.prepare("SELECT seq, hash FROM audit_log WHERE seq <= ? ORDER BY seq");
  s.bind(1, size);
  while (s.step()) {
    const std::int64_t seq = s.i64(0);
    if (seq != static_cast<std::int64_t>(out.size()) + 1)
      throw corrupt_row("audit_log has no record " + std::to_string(out.size() + 1) + " (the next is seq " +
                        std::to_string(seq) + "): run signoff audit verify");
    auto leaf = merkle::from_hex(s.view(1));
    if (!leaf) throw corrupt_row("audit_log seq " + std::to_string(seq) + ": hash is not 64 hex digits");
    out.push_back(h.leaf(*leaf));
  }
  if (static_cast<std::int64_t>(out.size()) != size)
    throw corrupt_row("the log has " + std::to_string(out.size()) + " records, fewer than " + std::to_string(size));
  return out;
}

}  // namespace signoff::audit
