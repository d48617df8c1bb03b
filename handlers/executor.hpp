#pragma once
// The one path every command and timer action takes: parse, decide the
// outcome in SPEC's order, run the workflow rule, write exactly one audit
// record and the outbox posts in the same transaction, commit, and only then
// produce the reply. Pure of I/O but for the store; adapters call it.
// Not thread-safe: call from one thread (the adapters' executor).
#include <chrono>
#include <functional>
#include <cstdint>
#include <memory>
#include <set>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "bot/core/command.hpp"
#include "bot/core/types.hpp"
#include "config/config.hpp"
#include "config/diff.hpp"
#include "storage/store.hpp"

namespace signoff {

namespace note {
class signer;
}

class executor {
 public:
  // `delivery_platforms`: the adapters in this process that deliver posts
  // (shell, slack, ...); a post goes to each that has an ID for its channel.
  executor(const conf::config& cfg, store& db, std::vector<platform> delivery_platforms);  // `cfg` outlives it
  executor(std::shared_ptr<const conf::config> cfg, store& db, std::vector<platform> delivery_platforms);

  // Runs one command. The reply reports success only after the commit.
  execution execute(const incoming& in, time_point now);

  // Runs several commands in one transaction (group commit: one fsync for
  // all), each with its own audit record, in order; returns their results in
  // the same order once the commit is durable. A command whose delivery ID
  // was seen before is not executed again (`duplicate`). When the database
  // cannot record, every command of the batch is refused (not recorded).
  // `confirmed` (platform -> delivery IDs) marks earlier replies as
  // delivered in the same transaction.
  using confirmations = std::vector<std::pair<platform, std::vector<std::string>>>;
  std::vector<execution> execute_batch(const std::vector<incoming>& batch, time_point now,
                                       const confirmations& confirmed = {});

  // Other writes that ride a group commit, so one fsync serves them all:
  // confirmations, delivery records (post.sent / post.failed) and outbox
  // claims. Claims run after the commands, so a card a command enqueued is
  // claimed in the same commit.
  using delivery_record = signoff::delivery_record;
  using claim_request = signoff::claim_request;
  struct riders {
    confirmations confirmed;
    std::vector<delivery_record> deliveries;
    std::vector<claim_request> claims;
  };
  struct rider_results {
    bool recorded = false;             // the commit is durable
    std::string error;                 // when not
    std::vector<bool> delivered;       // per delivery: recorded (false: finished by another process)
    std::vector<std::vector<outbox_post>> claimed;  // per claim
    bool due_changed = false;          // a command may have brought a due time forward
  };
  std::vector<execution> execute_batch(const std::vector<incoming>& batch, time_point now, const riders& extra,
                                       rider_results& extra_out);

  // Writes the config.load (or config.reload) record. Throws storage_failure.
  void record_config(bool reload, const std::string& source, time_point now);

  // SIGHUP (SPEC "Configuration"): puts `loaded` (the file `source`, loaded
  // as by check-config) in force for every later command and timer, and
  // records config.reload (actor system) with its config_sha256, what
  // changed (detail.changes) and the restart-only keys it did not apply
  // (detail.ignored: those sections stay as they are). A file with errors
  // changes nothing and is recorded with outcome `invalid` and the errors in
  // detail.error; so is nothing changed when the record cannot be written.
  // Call it between two commands (a database-thread job): no command ever
  // sees part of each config. Never throws.
  struct reload_result {
    bool applied = false;
    bool recorded = false;
    std::string error;        // the file's errors, or why it could not be recorded
    conf::config_diff changes;
    std::shared_ptr<const conf::config> cfg;  // the config in force afterwards
    bool due_changed = false;  // reminders started for classes that gained remind_after
  };
  reload_result reload(const conf::load_result& loaded, const std::string& source, time_point now);

  // The config in force (shared: a reload replaces it, never changes it).
  std::shared_ptr<const conf::config> config() const { return cfg_; }

  // Fires every due timer action (escalation levels, embargo releases,
  // approval reminders), one transaction and one audit record each. Returns
  // the replies of what fired (for the shell's notices). A storage failure
  // stops the round; it is counted and returned in `error`, and the work
  // stays due for the next round.
  struct tick_result {
    std::vector<std::string> fired;
    std::vector<std::string> skipped;  // rows that could not be read, each reported once
    std::string error;
  };
  tick_result run_due(time_point now);

  // The earliest time a timer action is due (freeze-aware), if any.
  std::optional<time_point> next_due();

  // Marks an outbox post delivered or failed and records post.sent /
  // post.failed (actor system) in one transaction. Returns false (and
  // records nothing) when the post was already finished elsewhere. Throws
  // storage_failure.
  bool record_delivery(const outbox_post& p, bool sent, const std::string& result, time_point now);

  // SPEC "Signed checkpoints": when at least `min_new` records need one
  // (store::records_since_checkpoint), signs a checkpoint of the whole log
  // with `key` (whose name is [audit] origin), stores it, posts it to
  // [audit] channel on every delivering platform with an ID for it, and
  // records audit.checkpoint (actor system, detail size and root_hash), in
  // one transaction. Throws storage_failure (nothing stored).
  struct checkpoint_result {
    bool made = false;
    std::int64_t pending = 0;  // records the next checkpoint would witness, when none was made
    std::int64_t size = 0;
    std::string root_hash;     // base64
    std::string note;          // the signed note
    bool posted = false;       // outbox posts were enqueued
  };
  checkpoint_result checkpoint(const note::signer& key, std::int64_t min_new, time_point now);

  const executor_stats& stats() const { return stats_; }

  // The audit console (SPEC "Audit console"), each in one transaction with
  // its console.login / console.export record (platform `console`).
  // Exchanges login token `token` for a session: ok with the new session's
  // cookie value and its person, or denied (used, expired, unknown token,
  // or a person who no longer may audit), recorded either way.
  struct console_login_result {
    bool ok = false;
    std::string person;      // '' for an unknown token
    std::string session;     // the cookie value (only its hash is stored)
    std::string error;       // why refused
  };
  console_login_result console_login(const std::string& token, time_point now);
  void console_logout(const std::string& session, time_point now);
  // An export of the console's filtered view by `person` (detail: format and
  // the filters), recorded before a byte of it is sent.
  void console_export(const std::string& person, const std::string& format, boost::json::object filters,
                      time_point now);
  // Random secrets for tokens and sessions (tests replace it).
  std::function<std::string()> new_secret;

 private:
  bool over_limit(const actor& who, time_point now, std::string& why);
  // record_delivery's writes, inside the caller's transaction.
  bool record_delivery_in(const outbox_post& p, bool sent, const std::string& result, time_point now);
  // `a` with its person filled in from (platform, platform user ID) when the
  // adapter left it empty.
  actor resolved(const actor& a) const;
  execution run_one(const incoming& in, time_point now);

  std::shared_ptr<const conf::config> cfg_;  // replaced whole by reload(), between commands
  store& db_;
  std::vector<platform> platforms_;
  time_point last_prune_{};
  std::set<std::pair<std::string, std::int64_t>> skipped_;  // timer rows that failed to load
  executor_stats stats_;
};

}  // namespace signoff
