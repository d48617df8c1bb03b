#include "bot/core/ids.hpp"

#include <charconv>

namespace signoff {

namespace {
// 1 to 18 ASCII digits, value >= 1 (fits in int64).
bool id_number(std::string_view digits, std::int64_t& out) {
  if (digits.empty() || digits.size() > 18) return false;
  for (char c : digits)
    if (c < '0' || c > '9') return false;
  std::from_chars(digits.data(), digits.data() + digits.size(), out);
  return out >= 1;
}
}  // namespace

std::optional<std::int64_t> parse_escalation_id(std::string_view s) {
  std::int64_t n = 0;
  if (!s.starts_with("E-") || !id_number(s.substr(2), n)) return std::nullopt;
  return n;
}

std::string escalation_value(std::int64_t n) { return "E-" + std::to_string(n); }

std::optional<draft_rev> parse_draft_rev(std::string_view s) {
  if (!s.starts_with("D-")) return std::nullopt;
  s.remove_prefix(2);
  auto at = s.find('@');
  if (at == std::string_view::npos) return std::nullopt;
  draft_rev dr;
  if (!id_number(s.substr(0, at), dr.draft) || !id_number(s.substr(at + 1), dr.rev)) return std::nullopt;
  return dr;
}

}  // namespace signoff
