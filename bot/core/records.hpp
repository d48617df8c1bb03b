#pragma once
// Records the store keeps and the runtime and adapters handle: outbox posts
// and deliveries seen. Plain values, free of SQLite, so that adapters use
// them without including storage/.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bot/core/types.hpp"

namespace signoff {

// A person paged by a post, with their user ID on the delivering platform
// ('' when they have none there), resolved when the post was enqueued so
// that no adapter reads the config.
struct mention {
  std::string person, platform_id;
  bool operator==(const mention&) const = default;
};

// An approval card as a value (ARCHITECTURE: "a card is a struct that each
// platform renders, not text another layer parses back"). Its plain-text
// rendering, for the shell and for fallbacks, is the post's `text`.
struct approval_card {
  std::string draft;     // D-n
  std::string headline;  // "New draft for approval", "Draft approved", ...
  std::string status;    // "D-1 r2 [pending] class standard, needs comms (0/1)"
  std::vector<std::string> targets, authors;
  std::string body;      // the draft text
  // The revision its Approve/Reject buttons act on; none when the draft can
  // no longer be decided (approved, rejected, withdrawn).
  std::optional<std::int64_t> approve_rev;
  bool operator==(const approval_card&) const = default;
};

// One delivery of one post to one platform.
struct outbox_post {
  std::int64_t id = 0;
  time_point created_at;
  signoff::platform platform = signoff::platform::shell;  // delivering adapter
  std::string channel;           // config channel name
  std::string platform_channel;  // that platform's channel ID
  post_kind kind = post_kind::notice;
  std::string subject;           // D-n, E-n, C-n, statement key
  std::string text;
  std::string requested_by;      // person whose command caused it ('system' for timers)
  int attempts = 0;
  // Approval cards: the revision their Approve/Reject buttons act on; unset
  // when the card offers no decision (approved, rejected, withdrawn).
  std::optional<std::int64_t> approve_rev;
  // Pages: the people mentioned as "@id" in `text`; adapters render them as
  // platform mentions (Slack <@U…>).
  std::vector<mention> mentions;
  // Cards (kind card / card_update): the card itself. Unset in rows queued
  // by builds before cards were values (those are sent as plain text).
  std::optional<approval_card> card;
};

// A platform delivery (Slack envelope, Discord interaction) already executed.
struct seen_envelope {
  std::int64_t seq = 0;    // the audit record of its execution
  std::string reply;       // the reply it got, sent again on a redelivery
};
// An execution whose reply may not have reached its user (the ack was lost
// to a crash): confirmed late through the response URL after a restart.
struct unconfirmed_envelope {
  std::string envelope_id, reply, response_url;
  time_point seen_at;
};

}  // namespace signoff
