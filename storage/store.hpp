#pragma once
// The store interface the workflow rules run against. Free of SQLite so the
// core library (grammar, handlers) links without it; storage/sqlite_store.hpp
// implements it. Every method throws storage_failure on failure: the executor turns that into one "not
// recorded" reply and a rolled-back transaction (all-or-nothing is exactly
// exception semantics, so this is the one place exceptions carry errors).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bot/core/merkle.hpp"
#include "bot/core/records.hpp"
#include "bot/core/types.hpp"
#include "storage/audit_types.hpp"
#include "storage/errors.hpp"

namespace signoff {

enum class draft_status { pending, approved, rejected, withdrawn };

// Inline: the core handlers use these and must link without the SQLite library.
inline std::string_view to_string(draft_status s) {
  switch (s) {
    case draft_status::pending: return "pending";
    case draft_status::approved: return "approved";
    case draft_status::rejected: return "rejected";
    case draft_status::withdrawn: return "withdrawn";
  }
  return "pending";
}

inline std::optional<draft_status> draft_status_from(std::string_view s) {
  for (auto st : {draft_status::pending, draft_status::approved, draft_status::rejected,
                  draft_status::withdrawn})
    if (to_string(st) == s) return st;
  return std::nullopt;
}

struct approval {
  std::int64_t rev = 0;
  std::string stage, person, note;
  time_point at;
};

struct draft {
  std::int64_t id = 0;
  std::string cls;
  draft_status status = draft_status::pending;
  std::int64_t rev = 0;             // current revision
  std::string text;                 // text of the current revision
  std::string text_sha256;
  std::vector<std::string> targets;
  std::optional<time_point> embargo;
  std::string created_by;
  time_point created_at;
  std::string status_by;            // who last changed the status
  time_point status_at;
  std::string status_note;          // reject / withdraw reason
  std::optional<time_point> cleared_at;
  std::optional<time_point> remind_at;  // when a pending draft is next reminded
  std::vector<std::string> authors;
  std::vector<approval> approvals;  // on the current revision
};

struct new_draft {
  std::string cls;
  std::vector<std::string> targets;
  std::optional<time_point> embargo;
  std::string author, text, text_sha256;
  std::optional<time_point> remind_at;  // first reminder, when its class has remind_after
};

struct crisis {
  std::int64_t id = 0;
  std::string sev, title, statement, started_by;
  time_point started_at;
  std::optional<time_point> ended_at;
  std::string ended_by, end_note;
};

enum class escalation_status { open, acked, resolved };

inline std::string_view to_string(escalation_status s) {
  switch (s) {
    case escalation_status::open: return "open";
    case escalation_status::acked: return "acked";
    case escalation_status::resolved: return "resolved";
  }
  return "open";
}

struct escalation {
  std::int64_t id = 0;
  std::string route, sev, summary, opened_by;
  time_point opened_at;
  escalation_status status = escalation_status::open;
  int level = 1;                 // 1-based level paged last
  time_point level_paged_at;
  std::optional<time_point> due_at;  // when the next level fires
  std::string acked_by, resolved_by, resolve_note;
  std::optional<time_point> acked_at, resolved_at;
  std::vector<std::string> notified;  // everyone paged so far, in order
};

// A signed checkpoint as stored (SPEC "Signed checkpoints": table
// `checkpoints`).
struct stored_checkpoint {
  std::int64_t size = 0;
  std::string root_hash;  // base64, as in the note
  std::string note;       // the whole signed note
  std::string ts;         // as in audit_log
};

class store {
 public:
  virtual ~store() = default;

  // BEGIN IMMEDIATE / COMMIT / ROLLBACK. Commit returning means durable.
  virtual void begin() = 0;
  virtual void commit() = 0;
  virtual void rollback() noexcept = 0;
  // Inside a transaction: a nested unit that can be undone alone (grouped
  // commits run several commands in one transaction, each in a savepoint).
  virtual void savepoint() = 0;
  virtual void release_savepoint() = 0;
  virtual void rollback_to_savepoint() = 0;

  // Drafts
  virtual std::int64_t create_draft(const new_draft& d, time_point at) = 0;  // revision 1
  virtual std::optional<draft> get_draft(std::int64_t id) = 0;
  // Newest first. A row that cannot be read back (corrupt_row) is skipped and
  // its ID added to `unreadable` when given; without it, it throws.
  virtual std::vector<draft> list_drafts(std::optional<draft_status> status,
                                         std::vector<std::int64_t>* unreadable = nullptr) = 0;
  // Revision `rev` (the current one + 1, which the caller loaded) by `author`
  // (who becomes an author); status becomes pending, the reminder clock
  // restarts at `remind_at`.
  virtual void add_revision(std::int64_t id, std::int64_t rev, const std::string& text,
                            const std::string& text_sha256, const std::string& author, time_point at,
                            std::optional<time_point> remind_at) = 0;
  // Any status but pending also stops the draft's reminders.
  virtual void set_draft_status(std::int64_t id, draft_status s, const std::string& by,
                                const std::string& note, time_point at) = 0;
  virtual void add_approval(std::int64_t id, const approval& a) = 0;
  virtual void mark_cleared(std::int64_t id, time_point at) = 0;
  // Approved, not yet cleared, embargo <= now; oldest embargo first. With
  // `crisis_class_only`, only drafts of class "crisis" (a freeze holds the rest).
  virtual std::vector<std::int64_t> due_embargoes(time_point now, bool crisis_class_only) = 0;
  virtual std::optional<time_point> next_embargo(bool crisis_class_only) = 0;
  // Reminders (SPEC "Reminders"): when draft `id` is next reminded (nullopt: never).
  virtual void set_remind_at(std::int64_t id, std::optional<time_point> at) = 0;
  // Pending drafts whose reminder is due at `now` (plus unreadable due times,
  // as for due_escalations), oldest due first; `crisis_class_only` as for
  // due_embargoes (a freeze pauses the rest).
  virtual std::vector<std::int64_t> due_reminders(time_point now, bool crisis_class_only) = 0;
  virtual std::optional<time_point> next_reminder(bool crisis_class_only) = 0;

  // Crises
  virtual std::optional<crisis> active_crisis() = 0;
  virtual std::optional<crisis> last_crisis() = 0;
  virtual std::int64_t start_crisis(const crisis& c) = 0;
  virtual void end_crisis(std::int64_t id, const std::string& by, const std::string& note,
                          time_point at) = 0;

  // Escalations
  virtual std::int64_t open_escalation(const escalation& e) = 0;  // adds e.notified at level 1
  virtual std::optional<escalation> get_escalation(std::int64_t id) = 0;
  // Oldest first; unreadable rows as for list_drafts.
  virtual std::vector<escalation> unresolved_escalations(
      std::vector<std::int64_t>* unreadable = nullptr) = 0;
  virtual void page_level(std::int64_t id, int level, const std::vector<std::string>& people,
                          time_point at, std::optional<time_point> due) = 0;
  virtual void ack_escalation(std::int64_t id, const std::string& by, time_point at) = 0;
  virtual void resolve_escalation(std::int64_t id, const std::string& by, const std::string& note,
                                  time_point at) = 0;
  // Open escalations due at `now`, plus any whose stored due time is not in
  // signoff's one timestamp form (so the scheduler meets them, reports them
  // and skips them instead of never noticing).
  virtual std::vector<std::int64_t> due_escalations(time_point now) = 0;
  virtual std::optional<time_point> next_escalation_due() = 0;
  // True when a write since the last call may have brought the earliest due
  // time forward (an escalation opened or paged, a draft approved, created or
  // revised with a reminder, a crisis ended, so a freeze no longer holds
  // embargoes and reminders); resets it. The scheduler
  // looks again only then, not after every commit.
  virtual bool take_due_changed() = 0;

  // Audit log
  virtual audit::record append_audit(const audit::entry& e, time_point now) = 0;
  virtual std::vector<audit::record> query_audit(const audit::filter& f) = 0;

  // The seq of the last audit record this store appended in a committed
  // transaction or found at its last checkpoint (0 before either): a hint
  // for when the next checkpoint is due. Another process may have appended
  // since; the checkpoint itself reads the log.
  virtual std::int64_t log_size_hint() const = 0;

  // Signed checkpoints (SPEC "Signed checkpoints").
  // Records after the newest stored checkpoint that the next one would
  // witness: every record but audit.checkpoint records and the deliveries
  // (post.sent / post.failed) of checkpoint posts, so that a log nobody
  // writes to is not checkpointed again and again by its own checkpoints.
  // All records when no checkpoint is stored.
  virtual std::int64_t records_since_checkpoint() = 0;
  // Inside a write transaction: the Merkle tree head of the whole log (its
  // size and RFC 6962 root). Extends the stored compact range by the
  // records appended since and stores it again; a stored range that does
  // not fit the log (a restored backup) is rebuilt from every record.
  // Throws corrupt_row for a record whose hash is not 64 hex digits.
  virtual std::pair<std::int64_t, merkle::hash> tree_head() = 0;
  virtual void add_checkpoint(const stored_checkpoint& c) = 0;
  virtual std::optional<stored_checkpoint> latest_checkpoint() = 0;

  // The audit console (SPEC "Audit console"): login tokens and sessions,
  // by the SHA-256 hex of their secret.
  struct console_token {
    std::string person;
    time_point expires_at;
    std::optional<time_point> used_at;
  };
  virtual void add_console_token(const std::string& token_hash, const std::string& person, time_point at,
                                 time_point expires_at) = 0;
  virtual std::optional<console_token> find_console_token(const std::string& token_hash) = 0;
  virtual void use_console_token(const std::string& token_hash, time_point at) = 0;
  virtual void add_console_session(const std::string& id_hash, const std::string& person, time_point at,
                                   time_point expires_at) = 0;
  // The person of the live session `id_hash` (not revoked, not expired at `now`).
  virtual std::optional<std::string> console_session_person(const std::string& id_hash, time_point now) = 0;
  virtual void revoke_console_session(const std::string& id_hash, time_point at) = 0;
  // Revokes every live session whose person is not in `keep`; returns how many.
  virtual int revoke_console_sessions_except(const std::vector<std::string>& keep, time_point at) = 0;

  // Outbox
  virtual std::int64_t enqueue_post(const outbox_post& p) = 0;
  // Pending posts for `on`, oldest first (inspection; does not claim).
  // Throws corrupt_row for a row that cannot be read back.
  virtual std::vector<outbox_post> pending_posts(platform on, int limit) = 0;
  // Claims up to `limit` pending posts for `owner` until `now + lease`, in
  // one transaction: another process sharing the database skips them, so a
  // post is delivered once. A claimer that dies leaves its lease to expire,
  // after which the post is claimed again (delivered twice only when it was
  // in flight at the crash: the platforms offer no idempotency key).
  // A row that cannot be read back (a time, platform or kind signoff does
  // not know: corrupt_row) is not claimed but marked failed, its result
  // naming why, so that it never holds up the posts behind it.
  virtual std::vector<outbox_post> claim_posts(platform on, const std::string& owner,
                                               time_point now, std::chrono::milliseconds lease,
                                               int limit) = 0;
  // Gives up `owner`'s leases on pending posts (a clean shutdown), so the
  // next process delivers them at once instead of after the lease.
  virtual void release_posts(const std::string& owner) = 0;
  // Marks a post sent or failed. False when it was no longer pending (already
  // finished by another process), in which case nothing changed.
  virtual bool finish_post(std::int64_t id, bool sent, const std::string& result, time_point at) = 0;
  // The platform message ID (finish_post's result) of the newest card sent
  // for `subject` in that channel: what a card update edits.
  virtual std::optional<std::string> sent_card(platform on,
                                               const std::string& platform_channel,
                                               const std::string& subject) = 0;

  // Deliveries seen (SPEC: a platform delivery seen twice is executed once).
  virtual std::optional<seen_envelope> find_envelope(platform on,
                                                     const std::string& envelope_id) = 0;
  virtual void remember_envelope(platform on, const std::string& envelope_id,
                                 std::int64_t seq, const std::string& reply,
                                 const std::string& response_url, time_point at) = 0;
  // The replies of these envelopes reached their users (ack written).
  virtual void confirm_envelopes(platform on, const std::vector<std::string>& ids) = 0;
  // Unconfirmed executions seen at or after `since`, oldest first.
  virtual std::vector<unconfirmed_envelope> unconfirmed_envelopes(platform on,
                                                                  time_point since) = 0;
  // When the newest delivery on `on` still remembered was seen (nullopt:
  // none). Mattermost catches up on posts made while it was away from there.
  virtual std::optional<time_point> last_envelope_at(platform on) = 0;
  // Where `on`'s event stream was read up to (platform-defined text), and
  // when that was saved; nullopt before the first save.
  virtual std::optional<std::pair<std::string, time_point>> stream_position(platform on) = 0;
  virtual void save_stream_position(platform on, const std::string& position, time_point at) = 0;
  // Forgets deliveries seen before `before`; returns how many.
  virtual int prune_envelopes(time_point before) = 0;

  // The command limit (SPEC [limits] commands_per_person), kept in the
  // database so it holds across processes sharing it and across restarts.
  // Takes a slot for `key` at `now` when fewer than `limit` were taken in
  // (now - window, now]; otherwise takes none, sets `retry_at` to when the
  // oldest slot leaves the window, and returns false.
  virtual bool take_rate_slot(const std::string& key, time_point now, std::chrono::milliseconds window,
                              int limit, time_point& retry_at) = 0;
  // Forgets slots taken at or before `before` (outside every window).
  virtual void prune_rate_slots(time_point before) = 0;
};

// BEGIN IMMEDIATE on construction; rolls back on destruction unless
// committed (an exception, an early return). The one way code outside the
// store opens a write transaction.
class write_transaction {
 public:
  explicit write_transaction(store& s) : s_(s) { s_.begin(); }
  ~write_transaction() {
    if (!done_) s_.rollback();
  }
  write_transaction(const write_transaction&) = delete;
  write_transaction& operator=(const write_transaction&) = delete;
  // Returns once the transaction is durable.
  void commit() {
    s_.commit();
    done_ = true;
  }

 private:
  store& s_;
  bool done_ = false;
};

}  // namespace signoff
