// Fuzzes what an auditor hands `audit verify --checkpoint` and `--key`: a
// signed note, a checkpoint body and a verifier key (SPEC "Signed
// checkpoints"; C2SP signed-note and tlog-checkpoint). Properties:
// - nothing crashes, throws or hangs on any input;
// - a note that opens with the fixed key returns a prefix of the input as
//   its text (what was signed is what the input starts with);
// - a parsed checkpoint formats back to the same first three lines;
// - a parsed verifier key formats back to a key that parses to the same.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "bot/core/note.hpp"

using namespace signoff;

namespace {
const note::signer& key() {
  static const note::signer k = [] {
    std::array<unsigned char, 32> seed{};
    seed.fill(0x42);
    return note::signer::from_seed(seed, "fuzz.example/log");
  }();
  return k;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view s(reinterpret_cast<const char*>(data), size);
  static const auto v = *note::verifier::parse(key().verifier_key(), nullptr);
  std::string why;
  if (auto text = note::open(s, v, &why))
    if (!s.starts_with(*text)) __builtin_trap();
  if (auto cp = note::parse_checkpoint(s, &why)) {
    const auto body = note::checkpoint_text(cp->origin, cp->size, cp->root);
    if (!s.starts_with(body)) __builtin_trap();
  }
  if (auto k = note::verifier::parse(s, &why)) {
    auto again = note::verifier::parse(k->verifier_key(), &why);
    if (!again || again->key_id() != k->key_id() || again->public_key() != k->public_key() ||
        again->name() != k->name())
      __builtin_trap();
  }
  // A body signed here always opens again.
  if (size > 0 && size < 512) {
    const std::string text = std::string(s.substr(0, size)) + "\n";
    try {
      const auto signed_note = key().sign(text);
      auto opened = note::open(signed_note, v, &why);
      if (!opened || *opened != text) __builtin_trap();
    } catch (const note::key_error&) {
      // sign() refuses text open() would refuse (controls, bad UTF-8, a blank line): fine.
    }
  }
  return 0;
}
