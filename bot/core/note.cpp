#include "bot/core/note.hpp"

#include <charconv>
#include <climits>
#include <cstring>
#include <memory>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "bot/core/text.hpp"

namespace signoff::note {
namespace {

constexpr std::string_view sig_prefix = "\xE2\x80\x94 ";  // U+2014 EM DASH, space
constexpr unsigned char alg_ed25519 = 0x01;
// Go's note.Open stops at 100 signatures; so do we, so that a note padded
// with signature lines cannot make open() slow.
constexpr std::size_t max_signatures = 100;

constexpr char b64_digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// The digit's value, or -1: the one alphabet serves both directions.
int b64_value(char c) {
  const void* at = std::memchr(b64_digits, c, 64);  // 64: the NUL is not a digit
  return at == nullptr ? -1 : static_cast<int>(static_cast<const char*>(at) - b64_digits);
}

struct pkey_free {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct md_ctx_free {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct bio_free {
  void operator()(BIO* b) const { BIO_free(b); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, md_ctx_free>;

// OpenSSL's error queue may name what it failed to parse; it must not
// outlive the call, nor reach a later, unrelated error report.
struct clear_openssl_errors {
  ~clear_openssl_errors() { ERR_clear_error(); }
};

// Decodes one code point of text already known to be valid UTF-8.
char32_t decode_valid(std::string_view s, std::size_t& i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t extra = 0;
  char32_t cp = c;
  if (c >= 0xF0) { extra = 3; cp = c & 0x07U; }
  else if (c >= 0xE0) { extra = 2; cp = c & 0x0FU; }
  else if (c >= 0xC0) { extra = 1; cp = c & 0x1FU; }
  for (std::size_t k = 1; k <= extra; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3FU);
  i += extra + 1;
  return cp;
}

// Unicode White_Space, the set Go's unicode.IsSpace tests.
bool is_space(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

bool is_control(char32_t cp) { return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F); }

// Go's isValidName: what another signer's name in a note may be. Looser than
// origin_problem (C1 controls pass), so notes Go accepts are not refused for
// a name we would never verify anyway.
bool go_valid_name(std::string_view name) {
  if (name.empty() || !valid_utf8(name)) return false;
  for (std::size_t i = 0; i < name.size();) {
    const char32_t cp = decode_valid(name, i);
    if (cp == '+' || is_space(cp)) return false;
  }
  return true;
}

std::uint32_t key_id_of(std::string_view name, const std::array<unsigned char, 32>& pub) {
  std::string buf(name);
  buf.push_back('\n');
  buf.push_back(static_cast<char>(alg_ed25519));
  buf.append(reinterpret_cast<const char*>(pub.data()), pub.size());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(buf.data(), buf.size(), digest, &len, EVP_sha256(), nullptr) != 1 || len < 4) {
    throw key_error("SHA-256 failed");
  }
  return (std::uint32_t{digest[0]} << 24) | (std::uint32_t{digest[1]} << 16) |
         (std::uint32_t{digest[2]} << 8) | std::uint32_t{digest[3]};
}

std::string hex8(std::uint32_t v) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(8, '0');
  for (int i = 7; i >= 0; --i, v >>= 4) out[static_cast<std::size_t>(i)] = digits[v & 0xFU];
  return out;
}

std::string format_verifier_key(const std::string& name, std::uint32_t id,
                                const std::array<unsigned char, 32>& pub) {
  std::array<unsigned char, 33> key;
  key[0] = alg_ed25519;
  std::copy(pub.begin(), pub.end(), key.begin() + 1);
  return name + "+" + hex8(id) + "+" + base64(key);
}

// '' when every byte of `text` is valid UTF-8 and no character is a control
// but '\n' (Go's note.Open rule), else what is wrong.
std::string text_problem(std::string_view text) {
  if (!valid_utf8(text)) return "not valid UTF-8";
  for (std::size_t i = 0; i < text.size();) {
    const char32_t cp = decode_valid(text, i);
    if (cp == '\r') return "contains a carriage return (CRLF line ends?)";
    if (cp < 0x20 && cp != '\n') return "contains a control character";
  }
  return {};
}

void set(std::string* why, std::string text) {
  if (why != nullptr) *why = std::move(text);
}

}  // namespace

std::string base64(std::span<const unsigned char> bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
    out.push_back(b64_digits[(v >> 18) & 63U]);
    out.push_back(b64_digits[(v >> 12) & 63U]);
    out.push_back(b64_digits[(v >> 6) & 63U]);
    out.push_back(b64_digits[v & 63U]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t v = std::uint32_t{bytes[i]} << 16;
    out.push_back(b64_digits[(v >> 18) & 63U]);
    out.push_back(b64_digits[(v >> 12) & 63U]);
    out.append("==");
  } else if (rest == 2) {
    const std::uint32_t v = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8);
    out.push_back(b64_digits[(v >> 18) & 63U]);
    out.push_back(b64_digits[(v >> 12) & 63U]);
    out.push_back(b64_digits[(v >> 6) & 63U]);
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> unbase64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    std::size_t pad = 0;
    if (last && text[i + 3] == '=') pad = text[i + 2] == '=' ? 2 : 1;
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const int d = k < 4 - pad ? b64_value(text[i + k]) : 0;
      if (d < 0) return std::nullopt;  // includes '=' anywhere but the end
      v = (v << 6) | static_cast<std::uint32_t>(d);
    }
    out.push_back(static_cast<char>((v >> 16) & 0xFFU));
    if (pad < 2) out.push_back(static_cast<char>((v >> 8) & 0xFFU));
    if (pad < 1) out.push_back(static_cast<char>(v & 0xFFU));
    // Unused bits must be zero: otherwise two texts decode to one value.
    if ((pad == 1 && (v & 0xFFU) != 0) || (pad == 2 && (v & 0xFFFFU) != 0)) return std::nullopt;
  }
  return out;
}

std::string origin_problem(std::string_view origin) {
  if (origin.empty()) return "is empty";
  if (!valid_utf8(origin)) return "is not valid UTF-8";
  for (std::size_t i = 0; i < origin.size();) {
    const char32_t cp = decode_valid(origin, i);
    if (cp == ' ') return "contains a space";
    if (is_space(cp)) return "contains white space";
    if (is_control(cp)) return "contains a control character";
    if (cp == '+') return "contains '+'";
  }
  return {};
}

// ---- signer ---------------------------------------------------------------

signer::signer(EVP_PKEY* key, std::string name) : key_(key), name_(std::move(name)) {
  std::size_t len = public_key_.size();
  if (EVP_PKEY_get_raw_public_key(key_, public_key_.data(), &len) != 1 || len != public_key_.size()) {
    EVP_PKEY_free(key_);
    key_ = nullptr;
    throw key_error("not an Ed25519 key");
  }
  key_id_ = key_id_of(name_, public_key_);
}

signer signer::from_pem(std::string_view pem, std::string name) {
  clear_openssl_errors guard;
  if (pem.size() > static_cast<std::size_t>(INT_MAX)) throw key_error("not a PEM private key");
  std::unique_ptr<BIO, bio_free> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) throw key_error("not a PEM private key");
  // A callback that supplies no passphrase: the default one would prompt on
  // the terminal for an encrypted key, hanging a service.
  auto no_passphrase = [](char*, int, int, void*) -> int { return 0; };
  pkey_ptr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key) throw key_error("not a PEM private key");
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_ED25519) throw key_error("not an Ed25519 key");
  if (auto problem = origin_problem(name); !problem.empty()) {
    throw key_error("the key name " + quote_arg(name) + ": " + problem);
  }
  return signer(key.release(), std::move(name));
}

signer signer::from_seed(std::span<const unsigned char, 32> seed, std::string name) {
  clear_openssl_errors guard;
  if (auto problem = origin_problem(name); !problem.empty()) {
    throw key_error("the key name " + quote_arg(name) + ": " + problem);
  }
  EVP_PKEY* key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size());
  if (key == nullptr) throw key_error("not an Ed25519 key");
  return signer(key, std::move(name));
}

signer::signer(signer&& other) noexcept
    : key_(other.key_), name_(std::move(other.name_)), key_id_(other.key_id_), public_key_(other.public_key_) {
  other.key_ = nullptr;
}

signer& signer::operator=(signer&& other) noexcept {
  if (this != &other) {
    EVP_PKEY_free(key_);
    key_ = other.key_;
    other.key_ = nullptr;
    name_ = std::move(other.name_);
    key_id_ = other.key_id_;
    public_key_ = other.public_key_;
  }
  return *this;
}

signer::~signer() { EVP_PKEY_free(key_); }

std::string signer::verifier_key() const { return format_verifier_key(name_, key_id_, public_key_); }

std::string signer::sign(std::string_view text) const {
  if (key_ == nullptr) throw key_error("no signing key");
  if (text.empty() || text.back() != '\n') throw key_error("the note text must end in a newline");
  if (auto problem = text_problem(text); !problem.empty()) throw key_error("the note text " + problem);
  clear_openssl_errors guard;
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  // key ID (4 bytes, big-endian) then the 64-byte signature.
  std::array<unsigned char, 68> blob{};
  std::size_t sig_len = 64;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_) != 1 ||
      EVP_DigestSign(ctx.get(), blob.data() + 4, &sig_len, reinterpret_cast<const unsigned char*>(text.data()),
                     text.size()) != 1 ||
      sig_len != 64) {
    throw key_error("Ed25519 signing failed");
  }
  for (std::size_t k = 0; k < 4; ++k) blob[k] = static_cast<unsigned char>(key_id_ >> (24 - 8 * k));
  std::string out(text);
  out += '\n';
  out += sig_prefix;
  out += name_;
  out += ' ';
  out += base64(blob);
  out += '\n';
  return out;
}

// ---- verifier -------------------------------------------------------------

std::optional<verifier> verifier::parse(std::string_view vkey, std::string* why) {
  const std::size_t plus1 = vkey.find('+');
  const std::size_t plus2 = plus1 == std::string_view::npos ? plus1 : vkey.find('+', plus1 + 1);
  if (plus2 == std::string_view::npos) {
    set(why, "a verifier key is <name>+<key ID>+<key>");
    return std::nullopt;
  }
  const std::string_view name = vkey.substr(0, plus1);
  const std::string_view id_hex = vkey.substr(plus1 + 1, plus2 - plus1 - 1);
  const std::string_view key64 = vkey.substr(plus2 + 1);
  if (auto problem = origin_problem(name); !problem.empty()) {
    set(why, "the key name " + quote_arg(name) + " " + problem);
    return std::nullopt;
  }
  std::uint32_t id = 0;
  const bool id_ok = id_hex.size() == 8 &&
                     id_hex.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos &&
                     std::from_chars(id_hex.data(), id_hex.data() + id_hex.size(), id, 16).ec == std::errc{};
  if (!id_ok) {
    set(why, "the key ID is not 8 hex digits");
    return std::nullopt;
  }
  const auto key = unbase64(key64);
  if (!key) {
    set(why, "the key is not base64");
    return std::nullopt;
  }
  if (key->empty() || static_cast<unsigned char>((*key)[0]) != alg_ed25519) {
    set(why, "the key is not an Ed25519 key (algorithm byte 0x01)");
    return std::nullopt;
  }
  if (key->size() != 33) {
    set(why, "the Ed25519 key is not 32 bytes");
    return std::nullopt;
  }
  verifier v;
  v.name_ = std::string(name);
  std::copy(key->begin() + 1, key->end(), v.public_key_.begin());
  v.key_id_ = key_id_of(v.name_, v.public_key_);
  if (v.key_id_ != id) {
    set(why, "the key ID does not match the name and key");
    return std::nullopt;
  }
  return v;
}

std::string verifier::verifier_key() const { return format_verifier_key(name_, key_id_, public_key_); }

bool verifier::verify(std::string_view text, std::span<const unsigned char> signature) const {
  if (signature.size() != 64) return false;
  clear_openssl_errors guard;
  pkey_ptr key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, public_key_.data(), public_key_.size()));
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  if (!key || !ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                          reinterpret_cast<const unsigned char*>(text.data()), text.size()) == 1;
}

// ---- open -----------------------------------------------------------------

std::optional<std::string> open(std::string_view signed_note, const verifier& v, std::string* why) {
  auto malformed = [&](std::string_view what) -> std::optional<std::string> {
    set(why, "malformed note: " + std::string(what));
    return std::nullopt;
  };
  if (auto problem = text_problem(signed_note); !problem.empty()) return malformed(problem);
  const std::size_t split = signed_note.rfind("\n\n");
  if (split == std::string_view::npos) return malformed("no blank line before the signatures");
  const std::string_view text = signed_note.substr(0, split + 1);
  std::string_view sigs = signed_note.substr(split + 2);
  if (sigs.empty()) return malformed("no signature lines");
  if (sigs.back() != '\n') return malformed("the last signature line does not end in a newline");

  std::size_t count = 0;
  bool found = false;
  while (!sigs.empty()) {
    const std::size_t eol = sigs.find('\n');  // found: sigs ends in '\n'
    std::string_view line = sigs.substr(0, eol);
    sigs.remove_prefix(eol + 1);
    if (++count > max_signatures) return malformed("more than 100 signatures");
    if (!line.starts_with(sig_prefix)) return malformed("a signature line does not start with an em dash");
    line.remove_prefix(sig_prefix.size());
    const std::size_t space = line.find(' ');
    const std::string_view name = line.substr(0, space);
    const std::string_view b64 = space == std::string_view::npos ? std::string_view{} : line.substr(space + 1);
    const auto blob = unbase64(b64);
    if (!go_valid_name(name) || b64.empty() || !blob || blob->size() < 5) {
      return malformed("a signature line is not \"\u2014 <name> <base64>\"");
    }
    const auto* b = reinterpret_cast<const unsigned char*>(blob->data());
    const std::uint32_t id = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
                             (std::uint32_t{b[2]} << 8) | std::uint32_t{b[3]};
    // Other keys' lines are someone else's business (cosigners, witnesses).
    // Every line by this key must verify: C2SP says to reject the whole note
    // when one fails (stricter than Go, which skips repeats unread).
    if (name != v.name() || id != v.key_id()) continue;
    if (!v.verify(text, std::span<const unsigned char>(b + 4, blob->size() - 4))) {
      set(why, "the signature by " + v.name() + " does not verify");
      return std::nullopt;
    }
    found = true;
  }
  if (!found) {
    set(why, "no signature by " + v.name() + "+" + hex8(v.key_id()));
    return std::nullopt;
  }
  return std::string(text);
}

// ---- checkpoint -----------------------------------------------------------

std::string checkpoint_text(std::string_view origin, std::uint64_t size, const merkle::hash& root) {
  std::string out(origin);
  out += '\n';
  out += std::to_string(size);
  out += '\n';
  out += base64(root);
  out += '\n';
  return out;
}

std::optional<checkpoint> parse_checkpoint(std::string_view text, std::string* why) {
  auto bad = [&](std::string what) -> std::optional<checkpoint> {
    set(why, "malformed checkpoint: " + what);
    return std::nullopt;
  };
  if (text.empty() || text.back() != '\n') return bad("the last line does not end in a newline");
  std::vector<std::string_view> lines;
  for (std::string_view rest = text; !rest.empty();) {
    const std::size_t eol = rest.find('\n');
    lines.push_back(rest.substr(0, eol));
    rest.remove_prefix(eol + 1);
  }
  if (lines.size() < 3) return bad("fewer than three lines");
  checkpoint cp;
  if (lines[0].empty()) return bad("the origin line is empty");
  cp.origin = std::string(lines[0]);

  const std::string_view size = lines[1];
  if (size.empty() || size.find_first_not_of("0123456789") != std::string_view::npos) {
    return bad("the tree size is not a decimal number");
  }
  if (size.size() > 1 && size[0] == '0') return bad("the tree size has a leading zero");
  const auto [end, ec] = std::from_chars(size.data(), size.data() + size.size(), cp.size);
  if (ec != std::errc{} || end != size.data() + size.size()) return bad("the tree size does not fit 64 bits");

  const auto root = unbase64(lines[2]);
  if (!root) return bad("the root hash is not base64");
  if (root->size() != cp.root.size()) return bad("the root hash is not 32 bytes");
  std::copy(root->begin(), root->end(), cp.root.begin());

  for (std::size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) return bad("an extension line is empty");
    cp.extensions.emplace_back(lines[i]);
  }
  return cp;
}

}  // namespace signoff::note
