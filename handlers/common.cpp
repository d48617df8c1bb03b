#include "handlers/context.hpp"

namespace signoff::handlers {

result denied(std::string why, std::string subject) {
  result r;
  r.outcome = "denied";
  r.subject = std::move(subject);
  r.detail["error"] = why;
  r.reply = "Denied: " + why;
  return r;
}

result invalid(std::string why, std::string subject) {
  result r;
  r.outcome = "invalid";
  r.subject = std::move(subject);
  r.detail["error"] = why;
  r.reply = "Invalid: " + why;
  return r;
}

std::string draft_id(std::int64_t n) { return "D-" + std::to_string(n); }
std::string escalation_id(std::int64_t n) { return "E-" + std::to_string(n); }
std::string crisis_id(std::int64_t n) { return "C-" + std::to_string(n); }

}  // namespace signoff::handlers
