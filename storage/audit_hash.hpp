#pragma once
// The one implementation of SPEC's chain hash, shared by chain_hash (append)
// and verify. Internal to storage/: verify hashes a million rows a second, so
// it needs the hash without a `record` (no per-row string copies) and with a
// reusable digest context (OpenSSL 3's implicit fetch in a one-shot
// EVP_Digest(EVP_sha256()) costs more than hashing a 300-byte record).
#include <openssl/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace signoff::audit::detail {

// One record's hashed fields, viewed, not owned.
struct hash_input {
  std::int64_t seq = 0;
  std::string_view ts, platform, workspace, channel, actor, action, subject;
  std::optional<std::int64_t> revision;
  std::string_view outcome, detail, prev_hash;
};

using hex_digest = std::array<char, 64>;

// Not thread-safe: one per thread. Reuses its buffer and digest context, so
// hashing allocates nothing once the buffer has grown to the largest record.
class chain_hasher {
 public:
  chain_hasher();
  ~chain_hasher();
  chain_hasher(const chain_hasher&) = delete;
  chain_hasher& operator=(const chain_hasher&) = delete;

  // Appends SPEC's preimage: the fields in order, joined by 0x1F, revision as
  // decimal or empty for NULL.
  static void append_preimage(std::string& out, const hash_input& in);

  // Lowercase hex SHA-256 of `bytes`.
  hex_digest sha256(std::string_view bytes);

  hex_digest operator()(const hash_input& in) {
    buf_.clear();
    append_preimage(buf_, in);
    return sha256(buf_);
  }

 private:
  EVP_MD* md_ = nullptr;
  EVP_MD_CTX* ctx_ = nullptr;
  std::string buf_;
};

}  // namespace signoff::audit::detail
