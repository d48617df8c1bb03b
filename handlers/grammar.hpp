#pragma once
// The command grammar (SPEC "Commands"): a platform-neutral command line ->
// a typed command, or an error naming what is wrong plus the verb's usage.
// Pure: no store, no config beyond the limits passed in.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "bot/core/types.hpp"

namespace signoff::cmd {

enum class verb {
  draft_new, draft_edit, draft_show, draft_list, draft_withdraw,
  approve, reject,
  crisis_start, crisis_end, crisis_status,
  hold_list, hold_show, hold_issue,
  escalate, ack, resolve, escalations,
  audit, audit_console, handover, help,
};

// The audit `action` a verb records (SPEC "Audit store").
std::string_view action_of(verb v);
// SPEC "Mattermost specifics": the verbs whose reply only shows something
// (draft show/list, crisis status, hold show/list, /escalations, /audit,
// /handover, help) and changes nothing; Mattermost sends their replies to
// the actor by direct message.
bool read_only(verb v);
// One usage line, e.g. "/approve D-n[@R] [NOTE]".
std::string_view usage_of(verb v);
// Every verb, in help order.
const std::vector<verb>& all_verbs();

struct command {
  verb v = verb::help;
  std::int64_t id = 0;                  // n of D-n / E-n
  std::optional<std::int64_t> at_rev;   // R of D-n@R
  std::string key;                      // statement key, route, sev (crisis start), list filter, audit subject
  std::string sev;                      // --sev (escalate); crisis start uses key
  std::string text;                     // free text: post text, note, reason, title, summary
  std::vector<std::string> to;          // --to
  std::string cls;                      // --class ('' = default)
  std::optional<time_point> embargo;    // --embargo
  std::vector<std::pair<std::string, std::string>> values;  // NAME=VALUE, in order
  // /audit filters
  std::string actor, action;
  std::optional<time_point> since, until;
  std::optional<std::int64_t> limit;
  std::optional<std::int64_t> hours;    // /handover --hours
  // Known options of this verb found as words in the free text, with the
  // word after each (`--class regulated`): taken as text, as SPEC says, and
  // named in the reply so nobody mistakes them for options that applied.
  std::vector<std::string> options_in_text;
};

struct parse_error {
  std::optional<verb> v;  // the recognised verb, when there is one
  std::string message;    // what is wrong, naming the bad part
  std::string subject;    // D-n / E-n / statement key when parsed before the error, else ''
};

// The audit subject a command names (D-n, E-n, statement key), or ''.
std::string subject_of(const command& c);

struct limits {
  std::size_t max_text = 4000;  // code points in any free text or value
};

// SPEC "Commands": IDs, keys, class, route, target and filter names are at
// most 64 characters; --to names at most 20 targets. NAME=VALUE pairs are
// at most 64 per command.
inline constexpr std::size_t max_name = 64;
inline constexpr std::size_t max_targets = 20;
inline constexpr std::size_t max_values = 64;
// /handover --hours: 1 to a week.
inline constexpr std::int64_t max_handover_hours = 168;

// The audit action a line would record (its verb's, or command.invalid),
// without a store: for logging a command the database refused.
std::string_view action_for_line(std::string_view line);

// Parses one command line (`/verb args`, leading slash optional; `/signoff
// VERB args` is the same as `/VERB args`). `line` must be valid UTF-8 (the
// caller checks and records raw_hex otherwise). `now` resolves `7d`-style
// times and refuses an embargo in the past.
std::variant<command, parse_error> parse(std::string_view line, time_point now, const limits& lim);

}  // namespace signoff::cmd
