#pragma once
// What every workflow handler receives and returns. A handler reads and
// writes state through `store` inside the executor's transaction and returns
// its outcome; the executor writes the one audit record, enqueues the posts
// and commits before any reply leaves.
#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bot/core/types.hpp"
#include "config/config.hpp"
#include "handlers/grammar.hpp"
#include "storage/store.hpp"

namespace signoff::handlers {

// A post to a config channel name; the executor fans it out to every
// delivering platform that has an ID for that channel. A direct message
// (kind dm) names its person as channel "@person" and goes to every
// delivering platform where that person has an ID.
struct post_request {
  std::string channel;
  post_kind kind = post_kind::notice;
  std::string subject, text;
  std::optional<std::int64_t> approve_rev;  // cards: the revision their buttons act on
  std::vector<std::string> mentions;        // people paged: "@id" in text, rendered per platform
  std::optional<approval_card> card;        // cards: the card as a value (text is its plain form)
};

struct result {
  signoff::outcome outcome = signoff::outcome::ok;
  std::string subject;
  std::optional<std::int64_t> revision;
  boost::json::object detail;  // SPEC detail keys that apply (note, reason, error, ...)
  std::string reply;
  std::vector<post_request> posts;
  // The reply holds a secret (a console login link): the copy kept for a
  // redelivery or a late confirmation says so instead of repeating it.
  bool secret_reply = false;
};

struct context {
  const conf::config& cfg;
  store& db;
  time_point now;
  const conf::person& who;
};

// Refusals: outcome, detail.error and a reply naming why.
result denied(std::string why, std::string subject = {});
result invalid(std::string why, std::string subject = {});

std::string draft_id(std::int64_t n);
std::string escalation_id(std::int64_t n);
std::string crisis_id(std::int64_t n);

// Each returns the full result for one parsed command by a known person.
result handle_draft(const cmd::command& c, context& ctx);       // draft_* verbs
result handle_decision(const cmd::command& c, context& ctx);    // approve, reject
result handle_crisis(const cmd::command& c, context& ctx);      // crisis_*, hold_*
result handle_escalation(const cmd::command& c, context& ctx);  // escalate, ack, resolve, escalations
result handle_audit(const cmd::command& c, context& ctx);
// `/audit console`: a single-use login link to the audit console for the
// actor, valid 5 minutes, built around `token` (random, from the executor);
// only its SHA-256 is stored.
result handle_audit_console(const cmd::command& c, context& ctx, const std::string& token);
result handle_handover(const cmd::command& c, context& ctx);   // handlers/handover.cpp

// Who may see a draft (SPEC: /draft show and list; /handover filters the
// same way): its authors, holders of a role of one of its class's stages,
// admin, audit.
bool may_see_draft(const conf::config& cfg, const conf::person& who, const draft& d);
// One open escalation as /escalations and /handover show it: "E-1 [sev2]
// legal: summary | level 1/3, age 5m, paged dave, next level in 10m".
std::string escalation_line(const conf::config& cfg, const escalation& e, time_point now);
// Help for a person (nullptr: not in the config).
std::string help_text(const conf::config& cfg, const conf::person* who);

// Pure rule of /approve over values loaded once (SPEC "Drafts" and the
// outcome order): who may approve which stage of `d`, and whether that
// approval completes it. `active`: the active crisis (its freeze), if any.
struct approve_decision {
  signoff::outcome outcome = signoff::outcome::ok;  // ok | denied | invalid
  std::string error;           // why, when refused
  std::optional<std::int64_t> revision;  // the record's revision when refused ('' = none)
  std::optional<std::int64_t> crisis;    // the freezing crisis' n, when that refused it
  std::string stage;                     // when ok: the stage this approval counts toward
  bool completes = false;                // when ok: the last stage is then met
};
approve_decision decide_approve(const draft& d, const conf::approval_class& cls, const conf::person& who,
                                std::optional<std::int64_t> at_rev, const std::optional<crisis>& active);

// Pure rule of a reminder (SPEC "Reminders") over values loaded once: for
// each unmet stage of `d`'s current revision, in config order, the people
// (in config order) who can still sign it: they hold one of its roles, are
// not an author, and have not approved this revision (one person never
// satisfies two stages). `reminded`: all of them, each once.
struct stage_reminder {
  std::string stage;
  int missing = 0;                  // approvals the stage still needs
  std::vector<std::string> people;  // may be empty: nobody can sign it
};
struct reminder_plan {
  std::vector<stage_reminder> stages;
  std::vector<std::string> reminded;
};
reminder_plan decide_reminder(const draft& d, const conf::approval_class& cls,
                              const std::vector<conf::person>& people);
// When a clock started at `from` (a revision written, a reminder sent) next
// reminds: nullopt when the class has no remind_after (or past 9999-12-31).
std::optional<time_point> next_remind_at(const conf::approval_class& cls, time_point from);

// Timer actions (actor `system`), each one audit record's worth.
struct timer_action {
  std::string action;  // escalation.level | draft.cleared | draft.remind
  result res;
};
// Fires escalation `id`'s next level if it is still due at `now`.
std::optional<timer_action> fire_escalation(std::int64_t id, const conf::config& cfg, store& db,
                                            time_point now);
// Reminds the people who can still sign pending draft `id` if its reminder is
// due at `now` and no freeze holds it (draft.remind), and sets the next one.
// A reminder that can no longer be sent (its class gone from the config or
// without remind_after, no stage unmet) is stopped, recorded with outcome error.
std::optional<timer_action> remind_draft(std::int64_t id, const conf::config& cfg, store& db, time_point now);
// Clears an approved embargoed draft for publication if due and not frozen.
std::optional<timer_action> clear_embargo(std::int64_t id, const conf::config& cfg, store& db,
                                          time_point now);

}  // namespace signoff::handlers
