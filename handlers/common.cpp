#include "handlers/context.hpp"

namespace signoff::handlers {

namespace {

result refusal(outcome o, const char* label, std::string why, std::string subject) {
  result r;
  r.outcome = o;
  r.subject = std::move(subject);
  r.reply = std::string(label) + why;
  r.detail["error"] = std::move(why);
  return r;
}

}  // namespace

result denied(std::string why, std::string subject) {
  return refusal(outcome::denied, "Denied: ", std::move(why), std::move(subject));
}

result invalid(std::string why, std::string subject) {
  return refusal(outcome::invalid, "Invalid: ", std::move(why), std::move(subject));
}

std::string draft_id(std::int64_t n) { return "D-" + std::to_string(n); }
std::string escalation_id(std::int64_t n) { return "E-" + std::to_string(n); }
std::string crisis_id(std::int64_t n) { return "C-" + std::to_string(n); }

}  // namespace signoff::handlers
