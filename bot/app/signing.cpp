#include "bot/app/signing.hpp"

namespace signoff::app {

std::optional<note::signer> load_signer(const conf::config& cfg, std::string& problem) {
  problem.clear();
  if (!cfg.audit) return std::nullopt;
  const auto& ref = cfg.audit->signing_key;
  auto pem = conf::read_secret_value(ref, "audit.signing_key", problem);
  if (!pem) return std::nullopt;
  const std::string key = ref.file.empty() ? "audit.signing_key_env" : "audit.signing_key_file";
  try {
    // read_secret_value trims the final newline a PEM ends with.
    return note::signer::from_pem(*pem + "\n", cfg.audit->origin);
  } catch (const note::key_error& e) {
    problem = key + " (" + (ref.file.empty() ? "$" + ref.env : ref.file) + "): " + e.what();
    return std::nullopt;
  }
}

}  // namespace signoff::app
