#pragma once
// The audit console's read side (SPEC "Audit console"): every page model of
// bot/console/model.hpp, filled from a read-only SQLite connection of its
// own, so a slow page never waits on (or delays) the command pipeline's
// writes: in WAL mode a reader sees the last commit and blocks no writer.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bot/console/model.hpp"
#include "storage/audit_types.hpp"
#include "storage/sqlite.hpp"

namespace signoff::console {

// The audit query a console filter means: subject, actor, action, outcome and
// platform exact; since/until RFC 3339 or a duration back from `now` (as
// `/audit`). Nullopt, with `error` naming the field and the value
// ("--since '3x' is not ..."), when a time does not parse. Pure: no database.
std::optional<audit::filter> make_filter(const log_filter& f, time_point now, std::string& error);

class reader {
 public:
  // Opens `path` read-only (SQLITE_OPEN_READONLY, WAL reader; never creates
  // it), busy timeout `busy_ms`. Throws storage_failure naming the path when
  // it cannot, or when the file holds no audit_log (not signoff's).
  explicit reader(const std::string& path, int busy_ms = 2000);

  // Every method below: one read transaction (a consistent snapshot while the
  // bot appends), on the calling thread, which must be the only one using
  // this reader. Throws storage_failure when the database fails; never for
  // bad input.

  // One page of the log, newest first: at most `limit` (clamped to 1..1000)
  // records matching `f` with seq < `before` (all when before <= 0). Keyset
  // paging through the seq-ordered indexes, so a deep page costs what page 1
  // does. A filter that does not parse gives no rows and `error`.
  log_page log(const log_filter& f, std::int64_t before, int limit, time_point now);

  // Draft `draft_id`'s story: state, revisions with text, its audit records
  // (draft.new/edit/approve/reject/withdraw/cleared/remind, refused attempts
  // included) with the stage each approval counted toward, and its cards'
  // posts with their platform message IDs. found = false for no such draft.
  timeline draft_timeline(std::int64_t draft_id);

  // The newest `limit` escalations, newest first, each with the levels paged
  // (from its escalation.open / escalation.level records).
  std::vector<escalation_view> escalations(int limit = 200);

  // The newest `limit` crises, newest first, with the holding statements
  // issued in each (hold.issue records naming it) and what its freeze held
  // back: approvals refused because of it, and embargo releases it delayed
  // (draft.cleared after it ended, of a non-crisis draft whose embargo passed
  // while it was active).
  std::vector<crisis_view> crises(int limit = 100);

  // The chain's size (the last seq), last hash and ts, and the latest row of
  // `checkpoints` (none in databases older than that table). verify_* and
  // verifier_key are left for the caller.
  chain_view chain();

  // Approval time per class per ISO week, for drafts approved in the last
  // `weeks` weeks (from the approved revision's writing to the draft.approve
  // record that completed it; median and nearest-rank p90), by class then
  // week; and commands per day by outcome for each of the last `days` days
  // (oldest first, zeros included): records whose platform is not `system`
  // and whose action is not post.*.
  // (Qualified: an unqualified `charts` here would change meaning in the class.)
  console::charts charts(time_point now, int weeks = 12, int days = 30);

  // Streams every record matching `f`, oldest first, to `fn` (export); `fn`
  // sees one record object reused between calls. Returns '' when streamed,
  // else why the filter does not parse (nothing is streamed): check with
  // make_filter before sending a response's headers.
  std::string for_each(const log_filter& f, time_point now,
                       const std::function<void(const audit::record&)>& fn);

  // The person of a live session (not expired at `now`, not revoked) whose
  // cookie value hashes (SHA-256, hex) to `id_hash`; nullopt otherwise,
  // including before the console_sessions table exists.
  std::optional<std::string> session_person(const std::string& id_hash, time_point now);

  // The export, page by page so that the console's thread can send each one
  // before reading the next: at most `limit` records matching `f` with
  // after < seq <= upto, oldest first. `upto` pins the export to the log as
  // it was when it began (records appended meanwhile are not in it). Empty
  // with `error` set when the filter does not parse.
  std::vector<audit::record> export_page(const log_filter& f, std::int64_t after, std::int64_t upto, int limit,
                                         time_point now, std::string& error);
  // The last seq now (0 for an empty log).
  std::int64_t last_seq();

  // The person a login token (by the SHA-256 hex of the token) names and
  // whether it was used or has expired at `now`; nullopt for an unknown token.
  struct token_state {
    std::string person;
    bool used = false, expired = false;
  };
  std::optional<token_state> token(const std::string& token_hash, time_point now);

 private:
  bool has_table(const char* name);

  sql::db db_;
};

}  // namespace signoff::console
