#pragma once
// The values SPEC "Audit store" allows in `action`, `outcome` and `platform`.
// `audit verify` refuses a record holding anything else, so a record forged
// with a correct hash chain but an impossible action (`draft.aprove`) or
// outcome (`okay`) still fails verification. Free of SQLite: handlers may use
// these lists too.
//
// Lookups are on verify's checker thread for every record (a million a
// second), so they allocate nothing: a binary search over a sorted array of
// string_views for the 32 actions (at most 6 comparisons), a linear scan of
// the 4 outcomes and 6 platforms.
#include <algorithm>
#include <array>
#include <string_view>

#include "bot/core/enums.hpp"

namespace signoff::audit {

// SPEC's action list, exactly, sorted (byte order) for binary search.
inline constexpr std::array<std::string_view, 32> spec_actions = {
    "audit.checkpoint", "audit.console",     "audit.query",     "command.invalid",
    "config.load",      "config.reload",     "console.export",  "console.login",
    "crisis.end",       "crisis.start",      "crisis.status",   "draft.approve",
    "draft.cleared",    "draft.edit",        "draft.list",      "draft.new",
    "draft.reject",     "draft.remind",      "draft.show",      "draft.withdraw",
    "escalation.ack",   "escalation.level",  "escalation.list", "escalation.open",
    "escalation.resolve", "handover",        "help",            "hold.issue",
    "hold.list",        "hold.show",         "post.failed",     "post.sent",
};
static_assert(std::is_sorted(spec_actions.begin(), spec_actions.end()),
              "spec_actions must stay sorted: lookups binary-search it");
static_assert(std::adjacent_find(spec_actions.begin(), spec_actions.end()) == spec_actions.end());


constexpr bool is_spec_action(std::string_view a) noexcept {
  return std::binary_search(spec_actions.begin(), spec_actions.end(), a);
}
// Outcomes and platforms are the enums' (bot/core/enums.hpp): one list each.
constexpr bool is_spec_outcome(std::string_view o) noexcept { return parse_outcome(o).has_value(); }
constexpr bool is_spec_platform(std::string_view p) noexcept { return parse_platform(p).has_value(); }

static_assert(is_spec_action("draft.approve") && !is_spec_action("draft.aprove") &&
              !is_spec_action("Draft.approve") && !is_spec_action(""));
static_assert(is_spec_outcome("ok") && !is_spec_outcome("okay"));
static_assert(is_spec_platform("system") && !is_spec_platform("irc"));

}  // namespace signoff::audit
