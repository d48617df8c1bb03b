#pragma once
// The SQLite implementation of `store`: WAL, synchronous=FULL, one
// connection, used from one thread.
#include <memory>
#include <string>
#include <utility>

#include "storage/sqlite.hpp"
#include "storage/store.hpp"

namespace signoff {

class sqlite_store final : public store {
 public:
  struct options {
    int busy_timeout_ms = 5000;
    const char* vfs = nullptr;  // tests inject faults through a shim VFS
  };
  // Opens (creating if needed) and migrates. Throws storage_failure.
  sqlite_store(const std::string& path, options opt);
  explicit sqlite_store(const std::string& path) : sqlite_store(path, options{}) {}

  sql::db& raw() { return db_; }

  // A warning when group or others may access the database file (one
  // created before signoff made new files 0600), else '': run and shell
  // print it, since the file holds embargoed drafts.
  std::string permission_warning() const;

  void begin() override;
  void commit() override;
  void rollback() noexcept override;
  void savepoint() override;
  void release_savepoint() override;
  void rollback_to_savepoint() override;

  std::int64_t create_draft(const new_draft& d, time_point at) override;
  std::optional<draft> get_draft(std::int64_t id) override;
  std::vector<draft> list_drafts(std::optional<draft_status> status,
                                 std::vector<std::int64_t>* unreadable = nullptr) override;
  void add_revision(std::int64_t id, std::int64_t rev, const std::string& text, const std::string& sha,
                    const std::string& author, time_point at, std::optional<time_point> remind_at) override;
  void set_draft_status(std::int64_t id, draft_status s, const std::string& by,
                        const std::string& note, time_point at) override;
  void add_approval(std::int64_t id, const approval& a) override;
  void mark_cleared(std::int64_t id, time_point at) override;
  std::vector<std::int64_t> due_embargoes(time_point now, bool crisis_class_only) override;
  std::optional<time_point> next_embargo(bool crisis_class_only) override;
  void set_remind_at(std::int64_t id, std::optional<time_point> at) override;
  std::vector<std::int64_t> due_reminders(time_point now, bool crisis_class_only) override;
  std::optional<time_point> next_reminder(bool crisis_class_only) override;

  std::optional<crisis> active_crisis() override;
  std::optional<crisis> last_crisis() override;
  std::int64_t start_crisis(const crisis& c) override;
  void end_crisis(std::int64_t id, const std::string& by, const std::string& note, time_point at) override;

  std::int64_t open_escalation(const escalation& e) override;
  std::optional<escalation> get_escalation(std::int64_t id) override;
  std::vector<escalation> unresolved_escalations(std::vector<std::int64_t>* unreadable = nullptr) override;
  void page_level(std::int64_t id, int level, const std::vector<std::string>& people, time_point at,
                  std::optional<time_point> due) override;
  void ack_escalation(std::int64_t id, const std::string& by, time_point at) override;
  void resolve_escalation(std::int64_t id, const std::string& by, const std::string& note,
                          time_point at) override;
  std::vector<std::int64_t> due_escalations(time_point now) override;
  std::optional<time_point> next_escalation_due() override;
  bool take_due_changed() override { return std::exchange(due_changed_, false); }

  audit::record append_audit(const audit::entry& e, time_point now) override;
  std::vector<audit::record> query_audit(const audit::filter& f) override;

  std::int64_t log_size_hint() const override { return committed_seq_; }
  std::int64_t records_since_checkpoint() override;
  std::pair<std::int64_t, merkle::hash> tree_head() override;
  void add_checkpoint(const stored_checkpoint& c) override;
  std::optional<stored_checkpoint> latest_checkpoint() override;

  void add_console_token(const std::string& token_hash, const std::string& person, time_point at,
                         time_point expires_at) override;
  std::optional<console_token> find_console_token(const std::string& token_hash) override;
  void use_console_token(const std::string& token_hash, time_point at) override;
  void add_console_session(const std::string& id_hash, const std::string& person, time_point at,
                           time_point expires_at) override;
  std::optional<std::string> console_session_person(const std::string& id_hash, time_point now) override;
  void revoke_console_session(const std::string& id_hash, time_point at) override;
  int revoke_console_sessions_except(const std::vector<std::string>& keep, time_point at) override;

  std::int64_t enqueue_post(const outbox_post& p) override;
  std::vector<outbox_post> pending_posts(platform on, int limit) override;
  void release_posts(const std::string& owner) override;
  std::optional<std::string> sent_card(platform on, const std::string& platform_channel,
                                       const std::string& subject) override;
  std::optional<seen_envelope> find_envelope(platform on,
                                             const std::string& envelope_id) override;
  void remember_envelope(platform on, const std::string& envelope_id, std::int64_t seq,
                         const std::string& reply, const std::string& response_url,
                         time_point at) override;
  void confirm_envelopes(platform on, const std::vector<std::string>& ids) override;
  std::vector<unconfirmed_envelope> unconfirmed_envelopes(platform on,
                                                          time_point since) override;
  std::optional<time_point> last_envelope_at(platform on) override;
  std::optional<std::pair<std::string, time_point>> stream_position(platform on) override;
  void save_stream_position(platform on, const std::string& position, time_point at) override;
  int prune_envelopes(time_point before) override;
  bool take_rate_slot(const std::string& key, time_point now, std::chrono::milliseconds window, int limit,
                      time_point& retry_at) override;
  void prune_rate_slots(time_point before) override;
  std::vector<outbox_post> claim_posts(platform on, const std::string& owner,
                                       time_point now, std::chrono::milliseconds lease,
                                       int limit) override;
  bool finish_post(std::int64_t id, bool sent, const std::string& result, time_point at) override;

 private:
  std::vector<draft> load_drafts(sql::stmt& s, std::vector<std::int64_t>* unreadable);
  escalation load_escalation(sql::stmt& s);
  crisis load_crisis(sql::stmt& s);

  sql::db db_;
  std::string path_;
  bool due_changed_ = false;
  int loose_mode_ = 0;
  audit::chain_tail tail_, saved_tail_;  // see audit::chain_tail
  std::int64_t committed_seq_ = 0;       // log_size_hint()
};

}  // namespace signoff
