#pragma once
// The audit signing key of [audit] (SPEC "Signed checkpoints"), read once by
// `run`, `shell` and `audit key`.
#include <optional>
#include <string>

#include "bot/core/note.hpp"
#include "config/config.hpp"

namespace signoff::app {

// The signer of cfg.audit: the Ed25519 PKCS#8 PEM from signing_key_file or
// signing_key_env, named by [audit] origin. nullopt without [audit] (then
// `problem` stays empty) or when the key cannot be read or is not an Ed25519
// private key (then `problem` names the key and the file or variable, never
// the key's bytes).
std::optional<note::signer> load_signer(const conf::config& cfg, std::string& problem);

}  // namespace signoff::app
