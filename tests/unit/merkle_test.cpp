// The RFC 6962 / 9162 Merkle tree behind SPEC "Signed checkpoints": known
// answers, a naive reference straight from RFC 6962 section 2.1, inclusion
// proofs and their verification, and the compact range's stored form.
#include <catch2/catch.hpp>
#include <openssl/evp.h>

#include <bit>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "bot/core/merkle.hpp"

namespace {

using namespace signoff::merkle;

hash hx(std::string_view s) {
  auto h = from_hex(s);
  REQUIRE(h);
  return *h;
}

std::vector<unsigned char> bytes_of_hex(std::string_view s) {
  std::vector<unsigned char> out;
  for (std::size_t i = 0; i + 1 < s.size(); i += 2) {
    out.push_back(static_cast<unsigned char>(std::stoi(std::string(s.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// The 8-leaf data set of the CT reference implementation, as published in
// github.com/transparency-dev/merkle testonly/constants.go (LeafInputs,
// RootHashes) and testdata/inclusion/*/happy-path.json; every value was
// recomputed independently from the RFC 6962 definitions before being
// written here.
const std::vector<std::string> leaf_inputs = {
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"};

const std::vector<std::string> roots_by_size = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

struct inclusion_vector {
  std::uint64_t index, size;
  std::vector<std::string> proof;
};

const std::vector<inclusion_vector> inclusion_vectors = {
    {0, 1, {}},
    {0, 8,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5, 8,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1, 5,
     {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

std::vector<hash> vector_leaf_hashes(hasher& h) {
  std::vector<hash> out;
  for (const auto& in : leaf_inputs) out.push_back(h.leaf(bytes_of_hex(in)));
  return out;
}

// RFC 6962 section 2.1, transcribed as literally as possible (recursive,
// split at the largest power of two smaller than n), over leaf hashes.
std::uint64_t split_point(std::uint64_t n) {
  std::uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

hash naive_mth(std::span<const hash> d, hasher& h) {
  if (d.empty()) return h.empty();
  if (d.size() == 1) return d[0];
  const auto k = split_point(d.size());
  return h.node(naive_mth(d.subspan(0, k), h), naive_mth(d.subspan(k), h));
}

std::vector<hash> naive_path(std::uint64_t m, std::span<const hash> d, hasher& h) {
  if (d.size() <= 1) return {};
  const auto k = split_point(d.size());
  std::vector<hash> out;
  if (m < k) {
    out = naive_path(m, d.subspan(0, k), h);
    out.push_back(naive_mth(d.subspan(k), h));
  } else {
    out = naive_path(m - k, d.subspan(k), h);
    out.push_back(naive_mth(d.subspan(0, k), h));
  }
  return out;
}

// RFC 6962 PATH(m, D[n]) length, which depends on m and n only.
std::size_t path_length(std::uint64_t m, std::uint64_t n) {
  if (n <= 1) return 0;
  const auto k = split_point(n);
  return 1 + (m < k ? path_length(m, k) : path_length(m - k, n - k));
}

// Distinct leaf hashes 0..n-1 (distinct leaves make a wrong index show).
std::vector<hash> make_leaves(std::size_t n, hasher& h) {
  std::vector<hash> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::string data = "record " + std::to_string(i);
    out.push_back(h.leaf(std::span(reinterpret_cast<const unsigned char*>(data.data()), data.size())));
  }
  return out;
}

hash root_by_appending(std::span<const hash> leaves, hasher& h) {
  compact_range r;
  for (const auto& l : leaves) r.append(l, h);
  return r.root(h);
}

// Checks one proof both ways: accepted as it is, refused when anything
// about it is wrong.
void check_proof(std::uint64_t i, std::span<const hash> leaves, const hash& root, hasher& h) {
  const std::uint64_t n = leaves.size();
  const auto proof = inclusion_proof(i, leaves, h);
  REQUIRE(proof == naive_path(i, leaves, h));
  REQUIRE(verify_inclusion(i, n, leaves[i], proof, root, h));

  hash other_leaf = leaves[i];
  other_leaf[7] ^= 0x10;
  REQUIRE_FALSE(verify_inclusion(i, n, other_leaf, proof, root, h));
  hash other_root = root;
  other_root[31] ^= 0x01;
  REQUIRE_FALSE(verify_inclusion(i, n, leaves[i], proof, other_root, h));
  for (std::size_t k = 0; k < proof.size(); ++k) {
    auto flipped = proof;
    flipped[k][k % 32] ^= 0x80;
    REQUIRE_FALSE(verify_inclusion(i, n, leaves[i], flipped, root, h));
  }
  if (i + 1 < n) REQUIRE_FALSE(verify_inclusion(i + 1, n, leaves[i], proof, root, h));
  if (i > 0) REQUIRE_FALSE(verify_inclusion(i - 1, n, leaves[i], proof, root, h));
  REQUIRE_FALSE(verify_inclusion(n, n, leaves[i], proof, root, h));
  // Another tree size: refused whenever its path has another length. (With
  // the same length a different size can fold to the same root, e.g. a
  // size-4 proof of leaf 0 read as size 3: nothing in the proof tells.)
  for (std::uint64_t other : {n + 1, n - 1, n * 2, n / 2}) {
    if (other > i && other != n && path_length(i, other) != proof.size()) {
      REQUIRE_FALSE(verify_inclusion(i, other, leaves[i], proof, root, h));
    }
  }
  auto longer = proof;
  longer.push_back(root);
  REQUIRE_FALSE(verify_inclusion(i, n, leaves[i], longer, root, h));
  if (!proof.empty()) {
    auto shorter = proof;
    shorter.pop_back();
    REQUIRE_FALSE(verify_inclusion(i, n, leaves[i], shorter, root, h));
  }
}

}  // namespace

TEST_CASE("Merkle roots of the CT reference data set match the published values", "[merkle]") {
  hasher h;
  REQUIRE(to_hex(h.empty()) == roots_by_size[0]);
  const auto leaves = vector_leaf_hashes(h);
  // Leaf hashes as in testonly NodeHashes level 0.
  CHECK(to_hex(leaves[0]) == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  CHECK(to_hex(leaves[7]) == "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1");
  compact_range r;
  CHECK(to_hex(r.root(h)) == roots_by_size[0]);
  for (std::size_t n = 1; n <= 8; ++n) {
    r.append(leaves[n - 1], h);
    INFO("size " << n);
    CHECK(r.size() == n);
    CHECK(r.nodes().size() == static_cast<std::size_t>(std::popcount(n)));
    CHECK(to_hex(r.root(h)) == roots_by_size[n]);
  }
}

TEST_CASE("Merkle inclusion proofs of the CT reference data set match the published values", "[merkle]") {
  hasher h;
  const auto leaves = vector_leaf_hashes(h);
  for (const auto& v : inclusion_vectors) {
    INFO("index " << v.index << " size " << v.size);
    const std::span<const hash> tree(leaves.data(), v.size);
    std::vector<hash> want;
    for (const auto& p : v.proof) want.push_back(hx(p));
    CHECK(inclusion_proof(v.index, tree, h) == want);
    CHECK(verify_inclusion(v.index, v.size, leaves[v.index], want, hx(roots_by_size[v.size]), h));
  }
}

TEST_CASE("Merkle compact range and proofs agree with the RFC 6962 definition for every size up to 300",
          "[merkle]") {
  hasher h;
  const auto all = make_leaves(300, h);
  compact_range r;
  for (std::size_t n = 0; n <= all.size(); ++n) {
    const std::span<const hash> leaves(all.data(), n);
    const hash root = naive_mth(leaves, h);
    INFO("size " << n);
    REQUIRE(r.root(h) == root);
    if (n <= 70) {
      for (std::uint64_t i = 0; i < n; ++i) check_proof(i, leaves, root, h);
    } else {
      for (std::uint64_t i : {std::size_t{0}, std::size_t{1}, n / 3, n / 2, n - 2, n - 1}) check_proof(i, leaves, root, h);
    }
    if (n < all.size()) r.append(all[n], h);
  }
}

TEST_CASE("Merkle compact range and proofs agree with the RFC 6962 definition for random larger sizes",
          "[merkle]") {
  hasher h;
  std::mt19937_64 rng(6962);
  const auto all = make_leaves(5000, h);
  for (int round = 0; round < 6; ++round) {
    const std::size_t n = std::uniform_int_distribution<std::size_t>(301, all.size())(rng);
    const std::span<const hash> leaves(all.data(), n);
    const hash root = naive_mth(leaves, h);
    INFO("size " << n);
    REQUIRE(root_by_appending(leaves, h) == root);
    for (int k = 0; k < 3; ++k) {
      check_proof(std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng), leaves, root, h);
    }
    check_proof(n - 1, leaves, root, h);
  }
}

TEST_CASE("Merkle verify_inclusion refuses impossible positions instead of misbehaving", "[merkle]") {
  hasher h;
  const auto leaves = make_leaves(4, h);
  const hash root = naive_mth(leaves, h);
  const auto proof = inclusion_proof(1, leaves, h);
  CHECK_FALSE(verify_inclusion(0, 0, leaves[0], {}, h.empty(), h));
  CHECK_FALSE(verify_inclusion(UINT64_MAX, UINT64_MAX, leaves[1], proof, root, h));
  CHECK_FALSE(verify_inclusion(1, UINT64_MAX, leaves[1], proof, root, h));
  CHECK_FALSE(verify_inclusion(5, 4, leaves[1], proof, root, h));
  // A single-leaf tree: the leaf is the root and the proof is empty.
  CHECK(verify_inclusion(0, 1, leaves[0], {}, leaves[0], h));
  CHECK_FALSE(verify_inclusion(0, 1, leaves[0], proof, leaves[0], h));
  // inclusion_proof outside the tree returns nothing rather than reading past it.
  CHECK(inclusion_proof(4, leaves, h).empty());
  CHECK(inclusion_proof(0, {}, h).empty());
}

TEST_CASE("Merkle compact range survives its stored form and keeps growing correctly", "[merkle]") {
  hasher h;
  const auto all = make_leaves(200, h);
  compact_range r;
  for (std::size_t n = 0; n < 150; ++n) {
    const std::string stored = r.bytes();
    REQUIRE(stored.size() == r.nodes().size() * 32);
    auto back = compact_range::from_bytes(r.size(), stored);
    REQUIRE(back);
    REQUIRE(back->size() == r.size());
    REQUIRE(back->nodes() == r.nodes());
    // Resume from the stored form, as the store does after a restart.
    for (std::size_t k = n; k < n + 50; ++k) back->append(all[k], h);
    REQUIRE(back->root(h) == naive_mth(std::span<const hash>(all.data(), n + 50), h));
    r.append(all[n], h);
  }
  const std::string seven = [&] {
    compact_range c;
    for (std::size_t i = 0; i < 7; ++i) c.append(all[i], h);
    return c.bytes();
  }();
  REQUIRE(seven.size() == 96);
  CHECK(compact_range::from_bytes(7, seven));
  CHECK_FALSE(compact_range::from_bytes(7, seven.substr(0, 64)));
  CHECK_FALSE(compact_range::from_bytes(7, seven + std::string(32, '\0')));
  CHECK_FALSE(compact_range::from_bytes(7, seven.substr(0, 95)));
  CHECK_FALSE(compact_range::from_bytes(8, seven));
  CHECK_FALSE(compact_range::from_bytes(0, seven));
  CHECK(compact_range::from_bytes(0, ""));
  CHECK(compact_range::from_bytes(0, "")->root(h) == h.empty());
  CHECK_FALSE(compact_range::from_bytes(UINT64_MAX, seven));
  CHECK(compact_range::from_bytes(UINT64_MAX, std::string(64 * 32, 'x')));
}

TEST_CASE("Merkle leaf hashes of any length are SHA-256 of 0x00 and the data", "[merkle]") {
  hasher h;
  for (std::size_t n : {0, 1, 32, 63, 64, 65, 1000}) {
    std::vector<unsigned char> data(n);
    for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<unsigned char>(i * 31 + 7);
    std::vector<unsigned char> prefixed{0x00};
    prefixed.insert(prefixed.end(), data.begin(), data.end());
    hash want{};
    REQUIRE(EVP_Digest(prefixed.data(), prefixed.size(), want.data(), nullptr, EVP_sha256(), nullptr) == 1);
    INFO("length " << n);
    CHECK(h.leaf(data) == want);
  }
}

TEST_CASE("Merkle from_hex reads 64 hex digits of either case and nothing else", "[merkle]") {
  const std::string lower = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  std::string upper = lower;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  REQUIRE(from_hex(lower));
  CHECK(to_hex(*from_hex(lower)) == lower);
  CHECK(from_hex(upper) == from_hex(lower));
  CHECK((*from_hex(lower))[0] == 0xe3);
  CHECK_FALSE(from_hex(lower.substr(1)));
  CHECK_FALSE(from_hex(lower + "0"));
  CHECK_FALSE(from_hex(""));
  CHECK_FALSE(from_hex(std::string(63, '0') + "g"));
  CHECK_FALSE(from_hex(std::string(62, '0') + " 0"));
  CHECK_FALSE(from_hex(std::string(64, '\0')));
}

// Not a pass/fail check: prints leaf-hash + append throughput (target 4M/s).
TEST_CASE("Merkle leaf and append throughput", "[.perf]") {
  hasher h;
  compact_range r;
  std::array<unsigned char, 32> data{};
  const std::size_t n = 4'000'000;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    data[0] = static_cast<unsigned char>(i);
    data[1] = static_cast<unsigned char>(i >> 8);
    r.append(h.leaf(data), h);
  }
  const hash root = r.root(h);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  std::printf("merkle: %zu leaf hashes + appends in %.3f s = %.2f M/s (root %02x...)\n", n, took.count(),
              static_cast<double>(n) / took.count() / 1e6, root[0]);
  CHECK(r.size() == n);
}
