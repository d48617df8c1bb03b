#pragma once
// Tests print platforms, outcomes and post kinds as SPEC's strings (Catch
// shows operands of failed checks with operator<<, found here by ADL).
#include <optional>
#include <ostream>

#include "bot/core/enums.hpp"

namespace signoff {

inline std::ostream& operator<<(std::ostream& os, platform p) { return os << to_string(p); }
inline std::ostream& operator<<(std::ostream& os, outcome o) { return os << to_string(o); }
inline std::ostream& operator<<(std::ostream& os, post_kind k) { return os << to_string(k); }
// An execution's outcome: none when it was not recorded.
inline std::ostream& operator<<(std::ostream& os, const std::optional<outcome>& o) {
  return o ? os << *o : os << "(not recorded)";
}

}  // namespace signoff
