#pragma once
// What adapters hand the command pipeline and get back: a command as
// received, its execution, and the writes that ride a group commit. Plain
// values, so that adapters need neither handlers/ nor storage/.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "bot/core/records.hpp"
#include "bot/core/types.hpp"

namespace signoff {

struct incoming {
  // who.platform and who.platform_user name the sender; who.person may be
  // left empty: the executor resolves it from the config. who.envelope: the
  // platform delivery ID, deduplicated.
  actor who;
  std::string line;          // the command line as received (may be invalid UTF-8)
  std::string response_url;  // where a late confirmation may go ('' when none)
  // Not empty: the adapter refuses this delivery (a button click whose
  // signature, user or freshness does not check out). It is recorded as
  // the line's action with outcome `denied` and this text in detail.error;
  // nothing runs, and the envelope is neither looked up nor remembered, so
  // every replay of a forged click is recorded again.
  std::string refusal;
};

struct execution {
  std::string reply;
  std::optional<signoff::outcome> outcome;  // nullopt when not recorded
  bool recorded = false;
  std::int64_t seq = 0;  // audit seq when recorded
  std::string action, subject;
  std::string error;  // when not recorded: the storage failure, for the operator's log
  bool duplicate = false;  // a delivery seen before: not executed again, `reply` is the first reply
  // The command only shows something (cmd::read_only): Mattermost sends
  // such replies to the actor by direct message.
  bool read_only = false;
  std::size_t posts_enqueued = 0;  // outbox entries the command added (adapters wake their outbox)
};

struct executor_stats {
  std::uint64_t commands = 0;
  std::uint64_t not_recorded = 0;   // refused because the database could not record
  std::uint64_t timer_actions = 0;
  std::uint64_t timer_failures = 0;
  std::uint64_t timer_rows_skipped = 0;  // timer rows that could not be read back, skipped
  std::uint64_t posts_sent = 0, posts_failed = 0;
  std::uint64_t duplicates = 0;     // deliveries seen before, not executed again
  std::int64_t log_size = 0;        // store::log_size_hint() after the last database job
};

// A post's delivery, recorded as post.sent / post.failed.
struct delivery_record {
  outbox_post post;
  bool sent = false;
  std::string result;  // message ID or error
};

// Claims up to `limit` of `platform`'s pending posts for `owner`.
struct claim_request {
  signoff::platform platform = signoff::platform::shell;
  std::string owner;
  std::chrono::milliseconds lease{60000};
  int limit = 50;
};

}  // namespace signoff
