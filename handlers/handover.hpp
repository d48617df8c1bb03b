#pragma once
// /handover (SPEC "Shift handover"): what whoever takes over a shift must
// know, in one screen. The summary is a pure function of values loaded
// once (build_handover), so its rules are tested without a store.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "bot/core/types.hpp"
#include "config/config.hpp"
#include "storage/audit_types.hpp"
#include "storage/store.hpp"

namespace signoff::handlers {

// What the summary is built from, as loaded.
struct handover_input {
  std::vector<draft> pending;               // pending drafts, any order
  std::vector<draft> approved;              // approved drafts, any order
  std::vector<escalation> open;             // unresolved escalations, oldest first
  std::optional<crisis> active;             // the active crisis
  std::vector<audit::record> failed_posts;  // post.failed records of the last 24 h, newest first
  std::vector<std::int64_t> unreadable_drafts, unreadable_escalations;  // rows that could not be read
};

struct handover_options {
  std::chrono::hours window{12};  // embargoes passing within now + window
  std::size_t per_section = 10;   // lines per section, then "… and K more"
};

struct handover_summary {
  std::string text;             // the reply
  boost::json::object detail;   // counts per section, the window
};

// Pending drafts `who` may see (as /draft list filters) with their unmet
// stages and who can sign them (decide_reminder's rule), oldest first; approved, not yet cleared drafts `who`
// may see whose embargo passes by now + window (one already passed is
// waiting for a freeze to end or for the scheduler), soonest first; open
// escalations; the active crisis; failed posts. Each section states its
// count and shows at most per_section lines.
handover_summary build_handover(const conf::config& cfg, const conf::person& who, const handover_input& in,
                                time_point now, const handover_options& opt = {});

}  // namespace signoff::handlers
