#include "storage/schema.hpp"

#include <string>

namespace signoff::sql {
namespace {

// Append-only list: never edit a migration that has shipped; add a new one.
const char* const migrations[] = {
    // 1: audit log (SPEC "Audit store") and workflow state.
    R"sql(
CREATE TABLE audit_log (
  seq       INTEGER PRIMARY KEY,
  ts        TEXT NOT NULL,
  platform  TEXT NOT NULL,
  workspace TEXT NOT NULL,
  channel   TEXT NOT NULL,
  actor     TEXT NOT NULL,
  action    TEXT NOT NULL,
  subject   TEXT NOT NULL,
  revision  INTEGER,
  outcome   TEXT NOT NULL,
  detail    TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL
);
CREATE INDEX audit_log_subject ON audit_log(subject, seq);
CREATE INDEX audit_log_actor ON audit_log(actor, seq);
CREATE INDEX audit_log_action ON audit_log(action, seq);
CREATE INDEX audit_log_ts ON audit_log(ts);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END;

CREATE TABLE drafts (
  id          INTEGER PRIMARY KEY,
  class       TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('pending','approved','rejected','withdrawn')),
  current_rev INTEGER NOT NULL,
  targets     TEXT NOT NULL DEFAULT '',
  embargo     TEXT,
  created_by  TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  status_by   TEXT NOT NULL,
  status_at   TEXT NOT NULL,
  status_note TEXT NOT NULL DEFAULT '',
  cleared_at  TEXT
);
CREATE INDEX drafts_embargo ON drafts(embargo) WHERE status = 'approved' AND cleared_at IS NULL AND embargo IS NOT NULL;
CREATE TABLE draft_authors (
  draft_id INTEGER NOT NULL REFERENCES drafts(id),
  person   TEXT NOT NULL,
  PRIMARY KEY (draft_id, person)
);
CREATE TABLE revisions (
  draft_id    INTEGER NOT NULL REFERENCES drafts(id),
  rev         INTEGER NOT NULL,
  text        TEXT NOT NULL,
  text_sha256 TEXT NOT NULL,
  author      TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  PRIMARY KEY (draft_id, rev)
);
CREATE TABLE approvals (
  draft_id   INTEGER NOT NULL REFERENCES drafts(id),
  rev        INTEGER NOT NULL,
  stage      TEXT NOT NULL,
  person     TEXT NOT NULL,
  note       TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  PRIMARY KEY (draft_id, rev, person)
);
CREATE TABLE crises (
  id         INTEGER PRIMARY KEY,
  sev        TEXT NOT NULL,
  title      TEXT NOT NULL,
  statement  TEXT NOT NULL DEFAULT '',
  started_by TEXT NOT NULL,
  started_at TEXT NOT NULL,
  ended_by   TEXT,
  ended_at   TEXT,
  end_note   TEXT
);
CREATE UNIQUE INDEX crises_one_active ON crises((1)) WHERE ended_at IS NULL;
CREATE TABLE escalations (
  id             INTEGER PRIMARY KEY,
  route          TEXT NOT NULL,
  sev            TEXT NOT NULL,
  summary        TEXT NOT NULL,
  opened_by      TEXT NOT NULL,
  opened_at      TEXT NOT NULL,
  status         TEXT NOT NULL CHECK (status IN ('open','acked','resolved')),
  level          INTEGER NOT NULL,
  level_paged_at TEXT NOT NULL,
  due_at         TEXT,
  acked_by       TEXT,
  acked_at       TEXT,
  resolved_by    TEXT,
  resolved_at    TEXT,
  resolve_note   TEXT
);
CREATE INDEX escalations_due ON escalations(due_at) WHERE due_at IS NOT NULL;
CREATE TABLE escalation_notified (
  escalation_id INTEGER NOT NULL REFERENCES escalations(id),
  person        TEXT NOT NULL,
  level         INTEGER NOT NULL,
  PRIMARY KEY (escalation_id, person)
) WITHOUT ROWID;
CREATE TABLE outbox (
  id               INTEGER PRIMARY KEY,
  created_at       TEXT NOT NULL,
  platform         TEXT NOT NULL,
  channel          TEXT NOT NULL,
  platform_channel TEXT NOT NULL,
  kind             TEXT NOT NULL,
  subject          TEXT NOT NULL,
  text             TEXT NOT NULL,
  requested_by     TEXT NOT NULL,
  status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','sent','failed')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  lease_owner      TEXT,
  lease_until      TEXT,
  done_at          TEXT,
  result           TEXT
);
CREATE INDEX outbox_pending ON outbox(platform, id) WHERE status = 'pending';
)sql",
    // 2: platform deliveries seen (executed once, also across restarts), the
    // revision an approval card's buttons act on, and finding a card's
    // platform message for updates.
    R"sql(
CREATE TABLE seen_envelopes (
  platform     TEXT NOT NULL,
  envelope_id  TEXT NOT NULL,
  seen_at      TEXT NOT NULL,
  seq          INTEGER NOT NULL,
  reply        TEXT NOT NULL,
  response_url TEXT NOT NULL DEFAULT '',
  confirmed    INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (platform, envelope_id)
) WITHOUT ROWID;
CREATE INDEX seen_envelopes_unconfirmed ON seen_envelopes(platform, seen_at) WHERE confirmed = 0;
CREATE INDEX seen_envelopes_age ON seen_envelopes(seen_at);
ALTER TABLE outbox ADD COLUMN approve_rev INTEGER;
ALTER TABLE outbox ADD COLUMN mentions TEXT NOT NULL DEFAULT '';
CREATE INDEX outbox_sent_cards ON outbox(platform, platform_channel, subject, id)
  WHERE status = 'sent' AND kind IN ('card', 'card_update');
)sql",
    // 3: the per-person command limit's window, shared by every process on
    // this database and kept across restarts; signoff's application_id; and
    // the repair of due times that earlier builds wrote past year 9999
    // (`after = "3000000d"`): such a time could not be read back and, sorting
    // first as text, stopped every timer. Clamped to the last representable
    // millisecond they mean what they meant: never.
    R"sql(
CREATE TABLE rate_events (
  actor TEXT NOT NULL,
  at    TEXT NOT NULL
);
CREATE INDEX rate_events_actor ON rate_events(actor, at);
CREATE INDEX rate_events_at ON rate_events(at);
UPDATE escalations SET due_at = '9999-12-31T23:59:59.999Z'
  WHERE due_at GLOB '[0-9][0-9][0-9][0-9][0-9]*';
UPDATE drafts SET embargo = '9999-12-31T23:59:59.999Z'
  WHERE embargo GLOB '[0-9][0-9][0-9][0-9][0-9]*';
PRAGMA application_id = 1397311310;
)sql",
    // 4: approval cards stored as values (JSON), which each platform renders
    // instead of parsing the card's text back.
    R"sql(
ALTER TABLE outbox ADD COLUMN card TEXT;
)sql",
    // 5: approval reminders (SPEC "Reminders"): when a pending draft is next
    // reminded; NULL when its class has no remind_after or it is decided.
    R"sql(
ALTER TABLE drafts ADD COLUMN remind_at TEXT;
CREATE INDEX drafts_remind ON drafts(remind_at) WHERE status = 'pending' AND remind_at IS NOT NULL;
)sql",
    // 6: where each platform's event stream was read up to (Mattermost: the
    // newest post whose commands are all recorded), so a restart catches up
    // on what was posted while signoff was down.
    R"sql(
CREATE TABLE stream_positions (
  platform TEXT PRIMARY KEY,
  position TEXT NOT NULL,
  at       TEXT NOT NULL
);
)sql",
    // 7: signed checkpoints (SPEC "Signed checkpoints"), append-only like the
    // log they witness, and the Merkle tree's compact range (the roots of
    // its perfect subtrees, leftmost first, as hex) as of `size` records, so
    // the next checkpoint hashes only the records appended since.
    R"sql(
CREATE TABLE checkpoints (
  size      INTEGER PRIMARY KEY,
  root_hash TEXT NOT NULL,
  note      TEXT NOT NULL,
  ts        TEXT NOT NULL
);
CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only: UPDATE refused'); END;
CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only: DELETE refused'); END;
CREATE TABLE merkle_range (
  id     INTEGER PRIMARY KEY CHECK (id = 1),
  size   INTEGER NOT NULL,
  hashes TEXT NOT NULL
);
)sql",
    // 8: the audit console's login links and sessions (SPEC "Audit
    // console"), each stored only as the SHA-256 of its secret, so the
    // database never holds a usable token or cookie.
    R"sql(
CREATE TABLE console_tokens (
  token_hash TEXT PRIMARY KEY,
  person     TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  used_at    TEXT
);
CREATE TABLE console_sessions (
  id_hash    TEXT PRIMARY KEY,
  person     TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  revoked_at TEXT
);
CREATE INDEX console_sessions_person ON console_sessions(person) WHERE revoked_at IS NULL;
)sql",
};

constexpr int n_migrations = static_cast<int>(sizeof migrations / sizeof migrations[0]);

}  // namespace

int schema_version() { return n_migrations; }

void check_ours(db& d, const std::string& path) {
  auto pragma = [&](const char* sql) {
    auto s = d.prepare(sql);
    s.step();
    return s.i64(0);
  };
  const std::int64_t app = pragma("PRAGMA application_id");
  if (app == application_id) return;
  std::string tables;
  bool has_audit_log = false;
  int objects = 0;
  {
    auto s = d.prepare("SELECT type, name FROM sqlite_master ORDER BY name");
    while (s.step()) {
      ++objects;
      if (s.view(0) != "table") continue;
      if (s.view(1) == "audit_log") has_audit_log = true;
      if (tables.size() < 200) tables += (tables.empty() ? "" : ", ") + s.text(1);
    }
  }
  if (app == 0 && objects == 0) return;  // a new, empty database: ours from now on
  // Databases signoff wrote before migration 3 have no application_id yet.
  const std::int64_t version = pragma("PRAGMA user_version");
  if (app == 0 && has_audit_log && version >= 1 && version <= n_migrations) return;
  std::string why = app != 0 ? "its application_id is " + std::to_string(app) + ", not signoff's"
                             : "it holds tables signoff did not create (" + tables + ")";
  throw store_error(SQLITE_MISMATCH, path + " is a SQLite database of another application (" + why +
                                         "); refusing to add signoff's tables to it. Point "
                                         "[storage] path (or --db) at a new file.");
}

void configure_rw(db& d, int busy_timeout_ms) {
  sqlite3_busy_timeout(d.handle(), busy_timeout_ms);
  d.exec("PRAGMA journal_mode=WAL");
  d.exec("PRAGMA synchronous=FULL");
  // Checkpoints run inside a commit and stall its ack: every 10,000 WAL pages
  // (about 40 MB) instead of SQLite's 1,000 keeps them rarer. Durability is
  // the WAL's fsync at every commit either way.
  d.exec("PRAGMA wal_autocheckpoint=10000");
  d.exec("PRAGMA foreign_keys=ON");
  // Savepoints (one per command in a group commit) and statement journals
  // stay in memory instead of temporary files under /var/tmp.
  d.exec("PRAGMA temp_store=MEMORY");
}

void migrate(db& d) {
  auto current = [&] {
    auto s = d.prepare("PRAGMA user_version");
    s.step();
    return static_cast<int>(s.i64(0));
  };
  int v = current();
  if (v > n_migrations)
    throw store_error(SQLITE_ERROR, "database schema version " + std::to_string(v) +
                                        " is newer than this build (" +
                                        std::to_string(n_migrations) + ")");
  while (v < n_migrations) {
    transaction tx(d);
    if (current() != v) break;  // another process migrated meanwhile
    d.exec(migrations[v]);
    d.exec(("PRAGMA user_version=" + std::to_string(v + 1)).c_str());
    tx.commit();
    ++v;
  }
}

}  // namespace signoff::sql
