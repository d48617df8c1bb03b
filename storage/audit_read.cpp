// Reading the audit chain: filtered queries and whole-chain verification.
// Appending and the hash itself: audit_log.cpp / audit_hash.hpp.
#include <algorithm>
#include <string>
#include <string_view>

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

verify_result verify(sql::db& d) {
  // Column 13 flags a revision that is neither NULL nor an INTEGER: the hash
  // uses its decimal form, which a TEXT or REAL value would only imitate.
  auto s = d.prepare(
      "SELECT seq, ts, platform, workspace, channel, actor, action, subject, revision, outcome, "
      "detail, prev_hash, hash, typeof(revision) IN ('integer', 'null') "
      "FROM audit_log ORDER BY seq");
  detail::chain_hasher hasher;
  verify_result res;
  std::string prev_hash(64, '0');  // what seq 1 must carry
  std::string prev_ts;
  prev_ts.reserve(32);
  std::int64_t expected = 1;

  auto fail = [&](std::int64_t seq, std::string problem) {
    res.ok = false;
    res.first_bad_seq = seq;
    res.problem = std::move(problem);
    return res;
  };

  while (s.step()) {
    ++res.records;
    const std::int64_t seq = s.i64(0);
    if (seq != expected) {
      return fail(seq, seq > expected ? "seq gap: expected " + std::to_string(expected) +
                                            " (record(s) removed or renumbered)"
                                      : "seq out of order: expected " + std::to_string(expected));
    }
    const std::string_view ts = s.view(1);
    if (!strict_ts(ts)) return fail(seq, "ts is not of the form YYYY-MM-DDTHH:MM:SS.mmmZ");
    detail::hash_input in{.seq = seq,
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
    if (s.i64(13) == 0) return fail(seq, "revision is neither NULL nor an integer");
    static constexpr const char* names[] = {"platform", "workspace", "channel", "actor",
                                            "action",   "subject",   "outcome"};
    const std::string_view plain[] = {in.platform, in.workspace, in.channel, in.actor,
                                      in.action,   in.subject,   in.outcome};
    for (std::size_t i = 0; i < std::size(plain); ++i) {
      if (has_controls(plain[i]))
        return fail(seq, std::string("control byte in ") + names[i] +
                             " (only detail may hold them, JSON-escaped)");
    }
    if (in.prev_hash != prev_hash) {
      return fail(seq, seq == 1 ? "prev_hash of seq 1 is not 64 zeros"
                                : "prev_hash does not match the hash of seq " +
                                      std::to_string(seq - 1));
    }
    const auto h = hasher(in);
    const std::string_view stored = s.view(12);
    if (stored != std::string_view(h.data(), h.size()))
      return fail(seq, "hash does not match the record's contents (a field was altered)");
    if (ts < prev_ts) {
      return fail(seq, "ts decreases: " + std::string(ts) + " is before " + prev_ts + " of seq " +
                           std::to_string(seq - 1));
    }
    prev_hash.assign(stored);
    prev_ts.assign(ts);
    ++expected;
  }
  if (res.records > 0) res.last_hash = prev_hash;
  return res;
}

}  // namespace signoff::audit
