// Fuzzes time and duration parsing with round-trip properties (SPEC
// "Commands": every time between 1970-01-01 and 9999-12-31 UTC):
// - whatever parses is in range, and format(parse(s)) parses back to it;
// - format then parse is the identity for any time in range (the first 8
//   bytes pick one), so nothing signoff stores can fail to read back;
// - durations are positive and at most max_duration, and a duration back
//   from now never leaves the range;
// - the display helpers never grow a line break out of nothing.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "bot/core/text.hpp"
#include "bot/core/time.hpp"

using namespace signoff;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view s(reinterpret_cast<const char*>(data), size);

  if (auto t = parse_rfc3339(s)) {
    if (!in_range(*t)) __builtin_trap();
    if (parse_rfc3339(format_rfc3339_ms(*t)) != *t) __builtin_trap();
  }
  for (bool ms : {false, true}) {
    if (auto d = parse_duration(s, ms))
      if (d->count() <= 0 || *d > max_duration) __builtin_trap();
  }
  if (size >= 8) {
    std::uint64_t raw;
    std::memcpy(&raw, data, 8);
    const auto span = static_cast<std::uint64_t>(max_time.time_since_epoch().count()) + 1;
    const time_point t{std::chrono::milliseconds{static_cast<std::int64_t>(raw % span)}};
    if (parse_rfc3339(format_rfc3339_ms(t)) != t) __builtin_trap();
    if (auto back = parse_time_or_ago(s.substr(8), t); back && !in_range(*back)) __builtin_trap();
  }
  const auto line = display_line(s);
  if (line.find('\n') != std::string::npos || line.find('\r') != std::string::npos) __builtin_trap();
  return 0;
}
