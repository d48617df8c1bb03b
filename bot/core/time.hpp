#pragma once
// RFC 3339 formatting and parsing, and durations (`30s`, `15m`, `2h`, `7d`).
//
// Range (SPEC "Commands"): every time signoff accepts, computes or stores
// lies in [min_time, max_time], 1970-01-01T00:00:00.000Z to
// 9999-12-31T23:59:59.999Z, so the fixed-width form `format_rfc3339_ms`
// writes always has a four-digit year, sorts as text like time, and parses
// back. Durations are at most `max_duration` (36500 days, about 100 years).
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "bot/core/types.hpp"

namespace signoff {

inline constexpr time_point min_time{std::chrono::milliseconds{0}};
inline constexpr time_point max_time =
    time_point{std::chrono::sys_days{std::chrono::year{9999} / 12 / 31}.time_since_epoch()} +
    std::chrono::milliseconds{86'399'999};
inline constexpr std::chrono::milliseconds max_duration = std::chrono::days{36500};

inline constexpr bool in_range(time_point t) noexcept { return t >= min_time && t <= max_time; }

// `t + d`, or nullopt when the sum falls outside [min_time, max_time].
// (`d` within ±max_duration, as every parsed duration is, cannot overflow.)
std::optional<time_point> checked_add(time_point t, std::chrono::milliseconds d) noexcept;

// The system clock in signoff's resolution (UTC, milliseconds).
inline time_point clock_now() {
  return std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

// `2026-11-22T14:03:07.123Z`: the audit log's `ts` format, and the form
// every time is stored in. Throws std::out_of_range for a time outside
// [min_time, max_time] (which no caller may pass: every source of times is
// range-checked), so nothing it writes can fail to parse back.
std::string format_rfc3339_ms(time_point t);

// Why a time or duration was refused, for a reply naming it.
enum class time_error { malformed, out_of_range };

// Parses RFC 3339 date-time with `Z` or a numeric offset (fractional seconds
// optional, truncated to ms). A time without a zone is rejected: a bare local
// time is ambiguous, and an embargo must never depend on the server's zone.
// A time outside [min_time, max_time] (after applying the offset) is refused
// with `out_of_range` when `why` is given.
std::optional<time_point> parse_rfc3339(std::string_view s, time_error* why = nullptr);

// Parses `<n>ms`, `<n>s`, `<n>m`, `<n>h`, `<n>d` (n a positive integer), at
// most `max_duration` (`out_of_range` beyond it). `allow_ms` admits the `ms`
// unit (internal settings only; SPEC durations are `30s`, `15m`, `2h`, `7d`).
std::optional<std::chrono::milliseconds> parse_duration(std::string_view s, bool allow_ms = false,
                                                        time_error* why = nullptr);

// A human-readable age such as `1h 05m` or `42s`.
std::string format_age(std::chrono::milliseconds d);

// `--since` / `--until`: RFC 3339, or a duration back from `now`. The result
// must be within range too (`7d` back from a clock near 1970 is not).
std::optional<time_point> parse_time_or_ago(std::string_view s, time_point now,
                                            time_error* why = nullptr);

// The explanation a reply gives after quoting the refused value, e.g.
// "is not an RFC 3339 time with a zone (e.g. 2026-12-01T09:00:00Z)".
std::string describe_time_error(time_error e, bool durations_allowed = false);

}  // namespace signoff
