#pragma once
// The IDs signoff puts in button values and custom IDs on every platform
// ("D-12@3", "E-4"), written and read in one place so no platform's writer
// and reader can drift apart.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace signoff {

struct draft_rev {
  std::int64_t draft = 0, rev = 0;
  std::string id() const { return "D-" + std::to_string(draft); }        // "D-12"
  std::string value() const { return id() + "@" + std::to_string(rev); }  // "D-12@3"
};

// "D-<digits>@<digits>" with both numbers >= 1 (at most 18 digits each, so
// they fit in int64). Anything else: nullopt.
std::optional<draft_rev> parse_draft_rev(std::string_view s);

// "E-<digits>", n >= 1 (at most 18 digits). Anything else: nullopt.
std::optional<std::int64_t> parse_escalation_id(std::string_view s);
std::string escalation_value(std::int64_t n);  // "E-4"

}  // namespace signoff
