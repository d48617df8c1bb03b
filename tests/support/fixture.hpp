#pragma once
// A signoff installation in a temporary directory for integration tests: a
// small config of its own (never the example file), a database path, and
// ways to run `signoff shell` and the CLI against them.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "support/process.hpp"
#include "support/sqlite_db.hpp"

namespace signoff::test {

// Knobs of the test config; the defaults give the config described in
// fixture.cpp (people alice..ivan, classes standard/regulated/crisis,
// routes `fast` (1 s levels) and `slow`, one holding statement).
struct config_options {
  std::string busy_timeout = "200ms";
  std::string commands_per_person = "off";
  int max_text = 50;
  std::string fast_level2_after = "1h";  // `fast` route: level 1 after 1s, level 2 after this
  std::string extra;                     // appended verbatim (new top-level tables)
  bool slack_ids = false;                // give each person slack = "U0<ID in capitals>"
  bool discord_ids = false;              // give each person discord = discord_id(id), each channel one
  bool mattermost_ids = false;           // give each person mattermost = mattermost_id(id), each channel one
};

// The Mattermost user ID test_config gives `person` when mattermost_ids is
// set (26 characters [a-z0-9], as Mattermost's IDs are), and the channels'.
std::string mattermost_id(const std::string& person);
inline constexpr const char* mattermost_approvals = "chapprovals000000000000000";
inline constexpr const char* mattermost_escalations = "chescalations0000000000000";
inline constexpr const char* mattermost_statements = "chstatements00000000000000";
inline constexpr const char* mattermost_audit = "chaudit0000000000000000000";

// The Discord user ID test_config gives `person` when discord_ids is set (a
// snowflake made of the name's letters), and the channels' Discord IDs.
std::string discord_id(const std::string& person);
inline constexpr const char* discord_approvals = "1300000000000000001";
inline constexpr const char* discord_escalations = "1300000000000000002";
inline constexpr const char* discord_statements = "1300000000000000003";
inline constexpr const char* discord_audit = "1300000000000000004";

// The Slack user ID test_config gives `person` when slack_ids is set.
std::string slack_id(const std::string& person);

// The TOML text of the test config, with [storage] path = `db_path`.
std::string test_config(const std::string& db_path, const config_options& o = {});

// The OS user the shell records in detail.os_user.
std::string current_os_user();

// One audit_log row (the hash columns aside).
struct audit_row {
  std::int64_t seq = 0;
  std::string ts, platform, actor, action, subject;
  std::optional<std::int64_t> revision;
  std::string outcome, detail;
};

// Rows of audit_log matching the SQL condition `where`, in seq order.
std::vector<audit_row> audit_rows(sqlite_db& db, const std::string& where = "1");
// The records written for commands (actor other than `system`).
std::vector<audit_row> command_rows(sqlite_db& db);
// json_extract(detail, '$.KEY') of record `seq`, as text (nullopt when absent).
std::optional<std::string> detail_of(sqlite_db& db, std::int64_t seq, const std::string& key);

// RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF line ends) into
// rows of fields.
std::vector<std::vector<std::string>> parse_csv(std::string_view text);
// Splits on '\n' (a final empty piece after a trailing newline is dropped).
std::vector<std::string> split_lines(std::string_view text);

// `2026-11-22T14:03:07.123Z` for a system-clock time (UTC).
std::string rfc3339_ms(std::chrono::system_clock::time_point t);

// Recomputes the audit_log hash chain from SPEC "Audit store" (fields joined
// by 0x1F, SHA-256, prev_hash links, seq without gaps) independently of
// signoff's code. Returns the first seq that does not hold, or 0 when the
// whole chain holds.
std::int64_t first_bad_seq(sqlite_db& db);

// A forger's rewrite: recomputes prev_hash and hash of every record from
// `from_seq` on by SPEC's definition, so the chain holds again after rows
// were altered or removed. The append-only triggers must be dropped first.
void rewrite_chain(sqlite_db& db, std::int64_t from_seq);

// A fresh Ed25519 private key as PKCS#8 PEM (what `openssl genpkey
// -algorithm ed25519` writes), generated in-process.
std::string ed25519_pem();

class installation {
 public:
  // `binary`: the signoff executable under test (tests pass SIGNOFF_BINARY).
  explicit installation(std::string binary, const config_options& o = {});

  const std::string& binary() const { return binary_; }

  const temp_dir& dir() const { return dir_; }
  const std::string& config_path() const { return config_; }
  const std::string& db_path() const { return db_; }

  // argv for `signoff shell --config C --db D` plus `extra`.
  std::vector<std::string> shell_argv(const std::vector<std::string>& extra = {}) const;
  // Runs a whole shell session with `script` on stdin.
  run_result shell(std::string_view script, const std::vector<std::string>& extra = {}) const;
  // Starts a shell whose stdin stays open until the test closes it.
  child start_shell(const std::vector<std::string>& extra = {}) const;
  // Starts a shell reading `stdin_fd` (a terminal's slave side, say).
  child start_shell_on(int stdin_fd, const std::vector<std::string>& extra = {}) const;
  // `signoff audit SUB --db D ARGS...`
  run_result audit(const std::string& sub, const std::vector<std::string>& args = {}) const;

  // A fresh connection to the database (it must exist).
  sqlite_db db() const { return sqlite_db(db_); }

 private:
  std::string binary_;
  temp_dir dir_;
  std::string config_, db_;
};

}  // namespace signoff::test
