#include "bot/core/time.hpp"

#include <charconv>
#include <cstdio>
#include <stdexcept>

namespace signoff {
namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

}  // namespace

std::optional<time_point> checked_add(time_point t, std::chrono::milliseconds d) noexcept {
  // Both operands are far inside int64 milliseconds, so the sum cannot wrap.
  auto sum = t + d;
  if (!in_range(sum)) return std::nullopt;
  return sum;
}

std::string format_rfc3339_ms(time_point t) {
  using namespace std::chrono;
  if (!in_range(t))
    throw std::out_of_range("time outside 1970-01-01T00:00:00Z..9999-12-31T23:59:59Z (" +
                            std::to_string(t.time_since_epoch().count()) + " ms)");
  auto day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss<milliseconds> hms{t - day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()), static_cast<int>(hms.subseconds().count()));
  return buf;
}

std::optional<time_point> parse_rfc3339(std::string_view s, time_error* why) {
  using namespace std::chrono;
  if (why) *why = time_error::malformed;
  int y, mo, d, h, mi, se;
  if (s.size() < 20) return std::nullopt;
  if (!digits(s, 0, 4, y) || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2, h) ||
      s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, se))
    return std::nullopt;
  std::size_t pos = 19;
  int ms = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t start = pos;
    int scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      ms += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  if (pos >= s.size()) return std::nullopt;  // no zone
  int offset_min = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(s, pos + 4, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_min = (oh * 60 + om) * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || se > 60) return std::nullopt;
  if (se == 60) se = 59;  // leap second: clamp, sys_time has none
  auto t = time_point{sys_days{ymd} + hours{h} + minutes{mi} + seconds{se} + milliseconds{ms} -
                      minutes{offset_min}};
  if (!in_range(t)) {
    if (why) *why = time_error::out_of_range;
    return std::nullopt;
  }
  return t;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view s, bool allow_ms,
                                                        time_error* why) {
  using namespace std::chrono;
  if (why) *why = time_error::malformed;
  std::size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  if (i == 0) return std::nullopt;
  std::string_view unit = s.substr(i);
  long long scale;  // milliseconds per unit
  if (unit == "ms" && allow_ms) scale = 1;
  else if (unit == "s") scale = 1000;
  else if (unit == "m") scale = 60'000;
  else if (unit == "h") scale = 3'600'000;
  else if (unit == "d") scale = 86'400'000;
  else return std::nullopt;
  // Digits past 12 exceed the maximum in any unit; parsing them would only
  // risk overflow. Leading zeros are fine ("015m").
  std::string_view num = s.substr(0, i);
  while (num.size() > 1 && num.front() == '0') num.remove_prefix(1);
  long long n = 0;
  if (num.size() > 12) {
    if (why) *why = time_error::out_of_range;
    return std::nullopt;
  }
  std::from_chars(num.data(), num.data() + num.size(), n);
  if (n <= 0) return std::nullopt;
  if (n > max_duration.count() / scale) {
    if (why) *why = time_error::out_of_range;
    return std::nullopt;
  }
  return milliseconds{n * scale};
}

std::string format_age(std::chrono::milliseconds d) {
  using namespace std::chrono;
  if (d < milliseconds{0}) d = milliseconds{0};
  auto total = duration_cast<seconds>(d).count();
  char buf[48];
  if (total < 60) std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(total));
  else if (total < 3600)
    std::snprintf(buf, sizeof buf, "%lldm %02llds", static_cast<long long>(total / 60),
                  static_cast<long long>(total % 60));
  else if (total < 86400)
    std::snprintf(buf, sizeof buf, "%lldh %02lldm", static_cast<long long>(total / 3600),
                  static_cast<long long>((total % 3600) / 60));
  else
    std::snprintf(buf, sizeof buf, "%lldd %02lldh", static_cast<long long>(total / 86400),
                  static_cast<long long>((total % 86400) / 3600));
  return buf;
}

std::optional<time_point> parse_time_or_ago(std::string_view s, time_point now, time_error* why) {
  time_error e = time_error::malformed;
  if (auto d = parse_duration(s, false, &e)) {
    auto t = checked_add(now, -*d);
    if (!t && why) *why = time_error::out_of_range;
    return t;
  }
  if (e == time_error::out_of_range) {  // a duration, but too long
    if (why) *why = e;
    return std::nullopt;
  }
  return parse_rfc3339(s, why);
}

std::string describe_time_error(time_error e, bool durations_allowed) {
  if (e == time_error::out_of_range)
    return durations_allowed
               ? "is out of range: times must fall between 1970-01-01T00:00:00Z and "
                 "9999-12-31T23:59:59Z UTC, and durations are at most 36500d"
               : "is out of range: times must fall between 1970-01-01T00:00:00Z and "
                 "9999-12-31T23:59:59Z UTC";
  return durations_allowed
             ? "is not an RFC 3339 time with a zone (e.g. 2026-12-01T09:00:00Z) or a duration "
               "like 7d"
             : "is not an RFC 3339 time with a zone (e.g. 2026-12-01T09:00:00Z)";
}

}  // namespace signoff
