#pragma once
// RFC 6962 / RFC 9162 Merkle tree over the audit log (SPEC "Signed
// checkpoints"): leaf and node hashing, a compact range that the store keeps
// so that a checkpoint's root costs O(log n) per record, and inclusion proofs.
// Pure code: no I/O, no clock. OpenSSL 3 EVP is the only crypto used.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace signoff::merkle {

using hash = std::array<unsigned char, 32>;

// Reusable SHA-256 for leaf and node hashes. Not thread-safe: one per thread.
// Holds one fetched SHA-256 implementation and one digest context, so a hash
// costs no allocation and no algorithm look-up (`audit verify` hashes a
// million records a second). Throws std::runtime_error only when OpenSSL
// cannot provide SHA-256 at all (construction) or fails internally.
class hasher {
 public:
  hasher();
  ~hasher();
  hasher(const hasher&) = delete;
  hasher& operator=(const hasher&) = delete;

  // SHA-256(0x00 || data): RFC 6962 leaf hash.
  hash leaf(std::span<const unsigned char> data);
  // SHA-256(0x01 || left || right): RFC 6962 interior node.
  hash node(const hash& left, const hash& right);
  // SHA-256(""): the root of the empty tree.
  hash empty();

 private:
  void start();
  void feed(const void* data, std::size_t size);
  hash finish();

  struct evp;        // OpenSSL handles, kept out of this header
  evp* evp_ = nullptr;
};

// The roots of the perfect subtrees covering leaves [0, size), leftmost
// (largest) first: popcount(size) hashes. append is amortised O(1) hashes,
// worst case O(log n).
class compact_range {
 public:
  std::uint64_t size() const { return size_; }
  const std::vector<hash>& nodes() const { return nodes_; }

  // Adds the next leaf (its leaf hash, not its data). Throws std::length_error
  // when the range already holds 2^64 - 1 leaves.
  void append(const hash& leaf_hash, hasher& h);
  // RFC 6962 MTH of leaves [0, size); size 0 -> h.empty().
  hash root(hasher& h) const;
  // Stored form: the nodes concatenated, 32 bytes each.
  std::string bytes() const;
  // The range of `size` leaves whose stored form is `bytes`; nullopt unless
  // bytes.size() == popcount(size) * 32. (The hashes themselves cannot be
  // checked without the leaves.)
  static std::optional<compact_range> from_bytes(std::uint64_t size, std::string_view bytes);

 private:
  std::uint64_t size_ = 0;
  std::vector<hash> nodes_;
};

// RFC 9162 2.1.3.1: the inclusion proof (audit path) of leaf `index` in the
// tree whose leaf hashes are `leaves` (tree size = leaves.size()), nearest
// sibling first. Precondition: index < leaves.size(); otherwise the result
// is empty (never UB). O(n) hashes, O(n) memory, no recursion.
std::vector<hash> inclusion_proof(std::uint64_t index, std::span<const hash> leaves, hasher& h);

// RFC 9162 2.1.3.2: true when `proof` proves `leaf_hash` at `index` in the
// tree of `size` leaves with root `root`. False (never UB) for index >= size,
// a proof of the wrong length, or any hash that does not match.
bool verify_inclusion(std::uint64_t index, std::uint64_t size, const hash& leaf_hash,
                      std::span<const hash> proof, const hash& root, hasher& h);

// 64 hex digits (either case) -> bytes; nullopt for any other input.
std::optional<hash> from_hex(std::string_view hex);

// 64 lowercase hex digits.
std::string to_hex(const hash& value);

}  // namespace signoff::merkle
