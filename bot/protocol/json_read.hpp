#pragma once
// Guarded reads of untrusted platform JSON, shared by the protocol codecs
// (Discord, Mattermost): a missing key or a value of the wrong type reads as
// absent, never as an exception.
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace signoff::json_read {

// v[key] when v is an object holding key; nullptr otherwise.
inline const boost::json::value* field(const boost::json::value* v, std::string_view key) {
  const auto* o = v ? v->if_object() : nullptr;
  return o ? o->if_contains(key) : nullptr;
}
inline const boost::json::value* field(const boost::json::value& v, std::string_view key) {
  return field(&v, key);
}

// The string at v, or "" when v is absent or not a string.
inline std::string text_of(const boost::json::value* v) {
  const auto* s = v ? v->if_string() : nullptr;
  return s ? std::string(*s) : std::string();
}

// An integral number at v within [lo, hi] (an int64, a uint64 or an
// integral double), else nullopt: "12", 1.5, 1e300 and 2^64 are absent.
inline std::optional<std::int64_t> whole_of(const boost::json::value* v, std::int64_t lo, std::int64_t hi) {
  if (!v) return std::nullopt;
  if (const auto* i = v->if_int64()) {
    if (*i >= lo && *i <= hi) return *i;
  } else if (const auto* u = v->if_uint64()) {
    if (hi >= 0 && *u <= static_cast<std::uint64_t>(hi)) return static_cast<std::int64_t>(*u);
  } else if (const auto* d = v->if_double()) {
    // Range-checked as doubles first, so a huge value is never converted.
    if (*d > -9.0e18 && *d < 9.0e18 && *d >= static_cast<double>(lo) && *d <= static_cast<double>(hi) &&
        *d == static_cast<double>(static_cast<std::int64_t>(*d)))
      return static_cast<std::int64_t>(*d);
  }
  return std::nullopt;
}

// At most 40 bytes of untrusted input for an error message, printable ASCII
// only ('?' for the rest, "..." when cut).
inline std::string excerpt(std::string_view s) {
  constexpr std::size_t max = 40;
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < max; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    out.push_back(c >= 0x20 && c < 0x7F ? static_cast<char>(c) : '?');
  }
  if (s.size() > max) out += "...";
  return out;
}

}  // namespace signoff::json_read
