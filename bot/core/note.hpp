#pragma once
// C2SP signed-note and tlog-checkpoint with Ed25519 keys in the text formats
// of Go's golang.org/x/mod/sumdb/note (SPEC "Signed checkpoints"), so that
// existing transparency-log tooling reads what signoff signs. Pure code over
// OpenSSL 3 EVP. Parsers never throw; key material never enters a message.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/types.h>

#include "bot/core/merkle.hpp"


namespace signoff::note {

// Standard alphabet, padded (RFC 4648 section 4).
std::string base64(std::span<const unsigned char> bytes);
// Strict inverse of base64(): length a multiple of 4, padding only at the
// end, no white space, unused bits zero (one text per byte string). nullopt
// on any fault.
std::optional<std::string> unbase64(std::string_view text);

// SPEC: an origin (= key name) is non-empty valid UTF-8 with no white space
// (Unicode's), no '+', no control characters. '' when fine, else a short
// reason: "is empty", "is not valid UTF-8", "contains a space", "contains
// white space", "contains '+'", "contains a control character".
std::string origin_problem(std::string_view origin);

struct key_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// An Ed25519 private key and the note key name. Move-only; a moved-from
// signer throws key_error from sign().
class signer {
 public:
  // A PKCS#8 PEM as `openssl genpkey -algorithm ed25519` writes (the first
  // PEM block is used). Never prompts for a passphrase: an encrypted PEM is
  // refused. Throws key_error whose message never contains key bytes or PEM
  // text: "not a PEM private key", "not an Ed25519 key", or
  // "the key name \"<name>\": <origin_problem>".
  static signer from_pem(std::string_view pem, std::string name);
  // From the 32-byte Ed25519 seed (RFC 8032 private key). For tests.
  static signer from_seed(std::span<const unsigned char, 32> seed, std::string name);

  signer(signer&& other) noexcept;
  signer& operator=(signer&& other) noexcept;
  ~signer();

  const std::string& name() const { return name_; }
  // First 4 bytes (big-endian) of SHA-256(name || 0x0A || 0x01 || public key).
  std::uint32_t key_id() const { return key_id_; }
  const std::array<unsigned char, 32>& public_key() const { return public_key_; }
  // "<name>+<key ID as 8 lowercase hex>+<base64(0x01 || public key)>".
  std::string verifier_key() const;

  // The whole signed note: `text` + "\n" + "\u2014 <name> <base64(key ID
  // (4 bytes BE) || signature)>\n". `text` must be non-empty, end in '\n'
  // and be what open() accepts (valid UTF-8, no control character but
  // '\n'); otherwise throws key_error. Deterministic (Ed25519).
  std::string sign(std::string_view text) const;

 private:
  signer(EVP_PKEY* key, std::string name);
  EVP_PKEY* key_ = nullptr;
  std::string name_;
  std::uint32_t key_id_ = 0;
  std::array<unsigned char, 32> public_key_{};
};

// An Ed25519 public key and its note key name. Copyable; holds no OpenSSL
// state.
class verifier {
 public:
  // Parses "<name>+<8 hex>+<base64(0x01 || 32-byte key)>". Checks the name
  // (origin_problem), the algorithm byte 0x01, the key length and that the
  // key ID (hex, either case, as Go accepts) matches name and key. nullopt
  // with *why set (when why is not null); never throws.
  static std::optional<verifier> parse(std::string_view vkey, std::string* why);

  const std::string& name() const { return name_; }
  std::uint32_t key_id() const { return key_id_; }
  const std::array<unsigned char, 32>& public_key() const { return public_key_; }
  // The text form again (key ID in lowercase hex).
  std::string verifier_key() const;
  // True when `signature` is a valid 64-byte Ed25519 signature of `text`.
  bool verify(std::string_view text, std::span<const unsigned char> signature) const;

 private:
  std::string name_;
  std::uint32_t key_id_ = 0;
  std::array<unsigned char, 32> public_key_{};
};

// C2SP signed-note: splits `signed_note` at its last blank line into text
// and signature lines, and verifies every line by v.name() with v.key_id()
// (C2SP: one that fails rejects the note; at least one must be there). Returns the text (up to and including its final '\n'), or
// nullopt with *why: "malformed note: <what>", "no signature by
// <name>+<keyid>", "the signature by <name> does not verify". Other signers'
// lines are ignored, as in the spec; more than 100 signature lines are
// refused (as Go does), so a huge note costs one linear pass.
std::optional<std::string> open(std::string_view signed_note, const verifier& v, std::string* why);

// C2SP tlog-checkpoint.
struct checkpoint {
  std::string origin;
  std::uint64_t size = 0;
  merkle::hash root{};
  std::vector<std::string> extensions;
};

// "<origin>\n<size decimal>\n<base64 root>\n"
std::string checkpoint_text(std::string_view origin, std::uint64_t size, const merkle::hash& root);

// Strict: a non-empty origin line (any text: C2SP says clients must not
// assume its form), decimal without sign or leading zeros (except "0") that
// fits 64 bits, a base64 root of exactly 32 bytes, then optional non-empty
// extension lines; every line ends in '\n'. nullopt with *why otherwise.
std::optional<checkpoint> parse_checkpoint(std::string_view text, std::string* why);

}  // namespace signoff::note
