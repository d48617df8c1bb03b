#pragma once
// The audit console's page models (SPEC "Audit console"): plain values that
// storage/console_read.* fills from a read-only connection and
// bot/console/render.* turns into HTML. No SQLite, no sockets: both sides are
// tested on their own.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/audit_types.hpp"

namespace signoff::console {

// The filters of `/audit`, from the query string (SPEC "Audit"): every value
// as typed, so the form shows it again. Times are RFC 3339 or a duration
// back from now ("7d"); the reader parses them.
struct log_filter {
  std::string subject, actor, action, since, until, outcome, platform;
  bool operator==(const log_filter&) const = default;
};

// One page of the log, newest first, by keyset: records with seq < `before`
// (all when 0). `older` is the `before` of the next page (0: none), `newer`
// the `before` of the previous one (0: this is the first page).
struct log_page {
  log_filter filter;
  std::vector<audit::record> rows;
  std::int64_t before = 0;
  std::int64_t older = 0;
  std::optional<std::int64_t> newer;  // nullopt: no newer page; 0: the first page
  std::string error;                  // a filter that does not parse, named ("--since: ...")
};

struct revision_view {
  std::int64_t rev = 0;
  std::string text, text_sha256, author, at;
};

// A decision or event on the draft, from its audit records (draft.new,
// draft.edit, draft.approve, draft.reject, draft.withdraw, draft.cleared,
// draft.remind, and refused attempts), oldest first.
struct timeline_event {
  std::int64_t seq = 0;
  std::string at, actor, action, outcome;
  std::optional<std::int64_t> revision;
  std::string stage;  // approvals: the stage it counted toward ('' when none)
  std::string note;   // note, reason or error from the record's detail
};

// A post about the draft (its cards and their updates), with where it went.
struct post_view {
  std::int64_t outbox_id = 0;
  std::string kind, platform, channel, status, message_id, at;
  // The platform's channel ID (message IDs are per channel on Slack), and
  // why a failed post failed. `at`: when it was sent or failed, else queued.
  std::string platform_channel, error;
};

struct timeline {
  std::string draft;  // "D-n"
  bool found = false;
  std::string cls, status, created_by, created_at, embargo, cleared_at;
  std::vector<std::string> targets;
  std::vector<revision_view> revisions;  // oldest first
  std::vector<timeline_event> events;    // oldest first
  std::vector<post_view> posts;          // oldest first
};

struct escalation_level_view {
  int level = 0;
  std::vector<std::string> notified;
  std::string paged_at;
};

struct escalation_view {
  std::int64_t id = 0;
  std::string route, sev, summary, opened_by, opened_at, status;
  int level = 1;
  std::string acked_by, acked_at, resolved_by, resolved_at, resolve_note;
  std::vector<escalation_level_view> levels;  // from escalation.open / escalation.level records
};

struct statement_issue {
  std::int64_t seq = 0;
  std::string at, actor, key, text_sha256;
  std::int64_t version = 0;
};

struct crisis_view {
  std::int64_t id = 0;
  std::string sev, title, started_by, started_at, ended_by, ended_at, end_note;
  std::vector<statement_issue> statements;
  // What the freeze held back: approvals refused while it was active, and
  // embargo releases it delayed (draft.cleared after it ended).
  std::vector<audit::record> held_back;
};

struct checkpoint_view {
  std::int64_t size = 0;
  std::string root_hash, ts, note;
};

struct chain_view {
  std::int64_t records = 0;
  std::string last_hash, last_ts;
  // The last verify this process ran (the console runs it in the background).
  std::optional<bool> verify_ok;
  std::string verify_at, verify_problem;
  std::int64_t verified_records = 0;
  std::optional<checkpoint_view> latest_checkpoint;
  std::string verifier_key;  // '' without [audit]
};

// Approval time per class per ISO week: from a revision's writing to the
// draft's approval, for drafts approved that week.
struct approval_week {
  std::string cls, week;  // week: "2026-W48"
  std::int64_t drafts = 0;
  double median_s = 0, p90_s = 0;
};

struct outcome_day {
  std::string day;  // "2026-11-22"
  std::int64_t ok = 0, denied = 0, invalid = 0, error = 0;
};

struct charts {
  std::vector<approval_week> approvals;  // by class, then week
  std::vector<outcome_day> commands;     // by day; commands only (not system records)
};

}  // namespace signoff::console
