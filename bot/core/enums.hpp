#pragma once
// Platform-neutral contracts as types, not strings (ARCHITECTURE: "enum class
// for platform, outcome, post kind"). Each has SPEC's exact string, which is
// what the database holds: storage binds to_string() and reads rows back with
// parse_*(); nothing else converts. A stored string parse_*() does not know
// is a corrupt row, never a crash.
//
// constexpr and allocation-free: `audit verify` checks every record's
// platform and outcome with these (storage/audit_values.hpp).
#include <array>
#include <optional>
#include <string_view>

namespace signoff {

// SPEC "Audit store" `platform`. `console` is the audit console (SPEC "Audit
// console"); `system` is timers, config loads and deliveries' records.
enum class platform { slack, discord, mattermost, shell, console, system };

inline constexpr std::array<platform, 6> all_platforms = {
    platform::slack, platform::discord, platform::mattermost,
    platform::shell, platform::console, platform::system};

constexpr std::string_view to_string(platform p) noexcept {
  switch (p) {
    case platform::slack: return "slack";
    case platform::discord: return "discord";
    case platform::mattermost: return "mattermost";
    case platform::shell: return "shell";
    case platform::console: return "console";
    case platform::system: return "system";
  }
  return {};  // not a platform (a cast gone wrong): no stored value matches ''
}

// SPEC "Audit store" `outcome`.
enum class outcome { ok, denied, invalid, error };

inline constexpr std::array<outcome, 4> all_outcomes = {outcome::ok, outcome::denied, outcome::invalid,
                                                        outcome::error};

constexpr std::string_view to_string(outcome o) noexcept {
  switch (o) {
    case outcome::ok: return "ok";
    case outcome::denied: return "denied";
    case outcome::invalid: return "invalid";
    case outcome::error: return "error";
  }
  return {};
}

// The kind of an outbox post (the `outbox.kind` column). SPEC names the
// posts ("approval cards, statements, escalation pages, card updates") but
// not the column's strings; these are the ones the outbox has always held.
// `notice` (an escalation acked or resolved, a draft's embargo cleared) is
// the one SPEC's list does not name. `dm` is a direct message to one person
// (SPEC "Escalations": each person paged is also sent one): its outbox
// `channel` is "@person" and `platform_channel` that person's user ID on the
// platform (the shell: the person's id). A dm whose subject is an
// escalation (E-n) is that escalation's page and offers an Ack button where
// the platform has buttons.
// A `checkpoint` is a signed audit checkpoint posted to [audit] channel.
enum class post_kind { card, card_update, statement, page, notice, dm, checkpoint };

inline constexpr std::array<post_kind, 7> all_post_kinds = {
    post_kind::card,   post_kind::card_update, post_kind::statement, post_kind::page,
    post_kind::notice, post_kind::dm,          post_kind::checkpoint};

constexpr std::string_view to_string(post_kind k) noexcept {
  switch (k) {
    case post_kind::card: return "card";
    case post_kind::card_update: return "card_update";
    case post_kind::statement: return "statement";
    case post_kind::page: return "page";
    case post_kind::notice: return "notice";
    case post_kind::dm: return "dm";
    case post_kind::checkpoint: return "checkpoint";
  }
  return {};
}

namespace detail {
template <class E, std::size_t N>
constexpr std::optional<E> parse_enum(const std::array<E, N>& all, std::string_view s) noexcept {
  for (E e : all)
    if (to_string(e) == s) return e;
  return std::nullopt;
}
}  // namespace detail

// SPEC's exact (case-sensitive) string, else nullopt.
constexpr std::optional<platform> parse_platform(std::string_view s) noexcept {
  return detail::parse_enum(all_platforms, s);
}
constexpr std::optional<outcome> parse_outcome(std::string_view s) noexcept {
  return detail::parse_enum(all_outcomes, s);
}
constexpr std::optional<post_kind> parse_post_kind(std::string_view s) noexcept {
  return detail::parse_enum(all_post_kinds, s);
}

}  // namespace signoff
