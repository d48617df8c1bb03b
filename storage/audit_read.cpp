// Reading the audit chain: filtered queries and whole-chain verification.
// Appending and the hash itself: audit_log.cpp / audit_hash.hpp.
#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "bot/core/time.hpp"
#include "storage/audit_hash.hpp"
#include "storage/audit_log.hpp"

namespace signoff::audit {
namespace {

constexpr std::string_view columns =
    "seq, ts, platform, workspace, channel, actor, action, subject, revision, outcome, detail, "
    "prev_hash, hash";

// Filters become SQL so SQLite can use the subject/actor/action/ts indexes;
// since/until compare ts as text, which orders like time because every ts has
// the same fixed-width UTC format.
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
  if (!f.subject.empty()) cond("subject = ?");
  if (!f.actor.empty()) cond("actor = ?");
  if (!f.action.empty()) cond("action = ?");
  if (f.since) cond("ts >= ?");
  if (f.until) cond("ts <= ?");
  q += f.newest_first ? " ORDER BY seq DESC" : " ORDER BY seq";
  if (f.limit) q += " LIMIT ?";

  auto s = d.prepare(q);
  int i = 0;
  if (!f.subject.empty()) s.bind(++i, f.subject);
  if (!f.actor.empty()) s.bind(++i, f.actor);
  if (!f.action.empty()) s.bind(++i, f.action);
  if (f.since) s.bind(++i, format_rfc3339_ms(*f.since));
  if (f.until) s.bind(++i, format_rfc3339_ms(*f.until));
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

// Verify reads rows on the calling thread and hashes on a second one: on
// two cores, SQLite's row decoding and SHA-256 cost about the same, and
// overlapping them is what brings a million-row log under a second (see
// tests/bench/storage_bench.cpp). The reader copies each record's preimage
// into a batch (it must: SQLite's column pointers die at the next step), so
// the hasher shares nothing with SQLite.
namespace {

struct hash_job {
  std::int64_t seq;
  std::size_t offset, length;  // the preimage within batch::bytes
  detail::hex_digest stored;
};

struct batch {
  std::string bytes;
  std::vector<hash_job> jobs;
};

class hash_pipeline {
 public:
  static constexpr std::size_t batch_records = 512;

  hash_pipeline() {
    for (auto& b : pool_) {
      b.bytes.reserve(batch_records * 320);
      b.jobs.reserve(batch_records);
    }
    for (std::size_t i = 1; i < pool_.size(); ++i) free_.push_back(&pool_[i]);
    worker_ = std::thread([this] { run(); });
  }
  // On an exception from the reader: stop the hasher without throwing.
  ~hash_pipeline() { stop(); }
  hash_pipeline(const hash_pipeline&) = delete;
  hash_pipeline& operator=(const hash_pipeline&) = delete;

  batch& current() { return *cur_; }

  // Hands the current batch to the hasher and takes an empty one.
  void submit() {
    std::unique_lock lock(m_);
    ready_.push_back(cur_);
    cv_.notify_all();
    cv_.wait(lock, [&] { return !free_.empty(); });
    cur_ = free_.front();
    free_.pop_front();
    cur_->bytes.clear();
    cur_->jobs.clear();
  }

  // True once the hasher has found a mismatch: reading on is pointless.
  bool mismatch_found() const { return bad_seq_.load(std::memory_order_relaxed) != 0; }

  // Hashes what is left; returns the first seq whose hash does not match, or
  // 0. Rethrows a hashing failure.
  std::int64_t finish() {
    stop();
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    return bad_seq_.load();
  }

 private:
  void stop() noexcept {
    if (!worker_.joinable()) return;
    {
      std::lock_guard lock(m_);
      if (!cur_->jobs.empty()) ready_.push_back(cur_);
      closing_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }

  void run() {
    detail::chain_hasher hasher;
    for (;;) {
      batch* b;
      {
        std::unique_lock lock(m_);
        cv_.wait(lock, [&] { return !ready_.empty() || closing_; });
        if (ready_.empty()) return;
        b = ready_.front();
        ready_.pop_front();
      }
      // Batches arrive in seq order, so the first mismatch seen is the first.
      if (bad_seq_.load(std::memory_order_relaxed) == 0 && !error_) {
        try {
          for (const auto& j : b->jobs) {
            if (hasher.sha256(std::string_view(b->bytes).substr(j.offset, j.length)) != j.stored) {
              bad_seq_.store(j.seq);
              break;
            }
          }
        } catch (...) {
          error_ = std::current_exception();  // read by finish() after join
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
  std::atomic<std::int64_t> bad_seq_{0};
  std::exception_ptr error_;
  std::thread worker_;  // last: starts after everything it uses exists
};

}  // namespace

verify_result verify(sql::db& d) {
  // Column 13 flags a revision that is neither NULL nor an INTEGER: the hash
  // uses its decimal form, which a TEXT or REAL value would only imitate.
  auto s = d.prepare(
      "SELECT seq, ts, platform, workspace, channel, actor, action, subject, revision, outcome, "
      "detail, prev_hash, hash, typeof(revision) IN ('integer', 'null') "
      "FROM audit_log ORDER BY seq");
  hash_pipeline hashing;
  std::int64_t rows = 0;
  std::string prev_hash(64, '0');  // what seq 1 must carry
  std::string prev_ts;
  prev_ts.reserve(32);

  // A problem found by the reader at row `rows`. Checks run in this order per
  // record: seq, ts form, revision type, control bytes, prev_hash, hash, ts
  // order; the hasher lags behind, so an earlier hash mismatch wins.
  std::int64_t bad_seq = 0;
  std::string problem;
  auto found = [&](std::int64_t seq, std::string what) {
    bad_seq = seq;
    problem = std::move(what);
  };

  while (!hashing.mismatch_found() && s.step()) {
    ++rows;
    const std::int64_t seq = s.i64(0);
    if (seq != rows) {
      found(seq, seq > rows ? "seq gap: expected " + std::to_string(rows) +
                                  " (record(s) removed or renumbered)"
                            : "seq out of order: expected " + std::to_string(rows));
      break;
    }
    const std::string_view ts = s.view(1);
    if (!strict_ts(ts)) {
      found(seq, "ts is not of the form YYYY-MM-DDTHH:MM:SS.mmmZ");
      break;
    }
    if (s.i64(13) == 0) {
      found(seq, "revision is neither NULL nor an integer");
      break;
    }
    const detail::hash_input in{.seq = seq,
                                .ts = ts,
                                .platform = s.view(2),
                                .workspace = s.view(3),
                                .channel = s.view(4),
                                .actor = s.view(5),
                                .action = s.view(6),
                                .subject = s.view(7),
                                .revision = s.opt_i64(8),
                                .outcome = s.view(9),
                                .detail = s.view(10),
                                .prev_hash = s.view(11)};
    static constexpr const char* names[] = {"platform", "workspace", "channel", "actor",
                                            "action",   "subject",   "outcome"};
    const std::string_view plain[] = {in.platform, in.workspace, in.channel, in.actor,
                                      in.action,   in.subject,   in.outcome};
    for (std::size_t i = 0; i < std::size(plain) && !bad_seq; ++i) {
      if (has_controls(plain[i]))
        found(seq, std::string("control byte in ") + names[i] +
                       " (only detail may hold them, JSON-escaped)");
    }
    if (bad_seq) break;
    if (in.prev_hash != prev_hash) {
      found(seq, seq == 1 ? "prev_hash of seq 1 is not 64 zeros"
                          : "prev_hash does not match the hash of seq " + std::to_string(seq - 1));
      break;
    }
    const std::string_view stored = s.view(12);
    {
      batch& b = hashing.current();
      hash_job j{.seq = seq, .offset = b.bytes.size(), .length = 0, .stored = {}};
      detail::chain_hasher::append_preimage(b.bytes, in);
      j.length = b.bytes.size() - j.offset;
      // A stored hash of the wrong length can never match: keep it unequal.
      if (stored.size() == j.stored.size())
        std::copy(stored.begin(), stored.end(), j.stored.begin());
      else
        j.stored.fill('!');
      b.jobs.push_back(j);
      if (b.jobs.size() == hash_pipeline::batch_records) hashing.submit();
    }
    if (ts < prev_ts) {
      found(seq, "ts decreases: " + std::string(ts) + " is before " + prev_ts + " of seq " +
                     std::to_string(seq - 1));
      break;
    }
    prev_hash.assign(stored);
    prev_ts.assign(ts);
  }

  verify_result res;
  if (const std::int64_t hash_bad = hashing.finish(); hash_bad != 0) {
    // Every record before it passed the seq check, so its position is its seq.
    res.ok = false;
    res.records = hash_bad;
    res.first_bad_seq = hash_bad;
    res.problem = "hash does not match the record's contents (a field was altered)";
  } else if (bad_seq != 0) {
    res.ok = false;
    res.records = rows;
    res.first_bad_seq = bad_seq;
    res.problem = std::move(problem);
  } else {
    res.records = rows;
    if (rows > 0) res.last_hash = prev_hash;
  }
  return res;
}

}  // namespace signoff::audit
