#pragma once
// RFC 3339 formatting and parsing, and durations (`30s`, `15m`, `2h`, `7d`).
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "bot/core/types.hpp"

namespace signoff {

// `2026-11-22T14:03:07.123Z`: the audit log's `ts` format.
std::string format_rfc3339_ms(time_point t);

// Parses RFC 3339 date-time with `Z` or a numeric offset (fractional seconds
// optional, truncated to ms). A time without a zone is rejected: a bare local
// time is ambiguous, and an embargo must never depend on the server's zone.
std::optional<time_point> parse_rfc3339(std::string_view s);

// Parses `<n>ms`, `<n>s`, `<n>m`, `<n>h`, `<n>d` (n a positive integer).
// `allow_ms` admits the `ms` unit (internal settings only; SPEC durations
// are `30s`, `15m`, `2h`, `7d`).
std::optional<std::chrono::milliseconds> parse_duration(std::string_view s, bool allow_ms = false);

// A human-readable age such as `1h 05m` or `42s`.
std::string format_age(std::chrono::milliseconds d);

// `--since` / `--until`: RFC 3339, or a duration back from `now`.
std::optional<time_point> parse_time_or_ago(std::string_view s, time_point now);

}  // namespace signoff
