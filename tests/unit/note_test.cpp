// C2SP signed notes and checkpoints (SPEC "Signed checkpoints"): the Go
// sumdb/note test vectors, keys from PEM, open() against every way a note
// can be wrong, and the strict checkpoint parser.
#include <catch2/catch.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <string>
#include <vector>

#include "bot/core/merkle.hpp"
#include "bot/core/note.hpp"

namespace {

using namespace signoff;
using namespace signoff::note;

// golang.org/x/mod sumdb/note/note_test.go (TestSign, TestOpen,
// TestNewVerifier): Go's private key "PRIVATE+KEY+PeterNeumann+c74f20a3+
// AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz" is 0x01 || the Ed25519 seed.
const std::string go_seed_b64 = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const std::string peter_vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const std::string enoch_vkey = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const std::string go_text =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
const std::string peter_sig =
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const std::string enoch_sig =
    "\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

std::array<unsigned char, 32> go_seed() {
  const auto raw = unbase64(go_seed_b64);
  REQUIRE(raw);
  REQUIRE(raw->size() == 33);
  REQUIRE((*raw)[0] == 0x01);
  std::array<unsigned char, 32> seed;
  std::copy(raw->begin() + 1, raw->end(), seed.begin());
  return seed;
}

std::array<unsigned char, 32> seed_of(unsigned char fill) {
  std::array<unsigned char, 32> s;
  s.fill(fill);
  return s;
}

verifier parse_ok(const std::string& vkey) {
  std::string why;
  auto v = verifier::parse(vkey, &why);
  INFO(why);
  REQUIRE(v);
  return *v;
}

std::string span_text(std::span<const unsigned char> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

struct pkey_free {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;

// Writes `key` as PEM: the private key as PKCS#8 (what `openssl genpkey`
// writes), or its public key; encrypted with `pass` when given.
std::string to_pem(EVP_PKEY* key, bool public_only, const char* pass = nullptr) {
  BIO* bio = BIO_new(BIO_s_mem());
  REQUIRE(bio != nullptr);
  int ok = 0;
  if (public_only) {
    ok = PEM_write_bio_PUBKEY(bio, key);
  } else if (pass != nullptr) {
    ok = PEM_write_bio_PKCS8PrivateKey(bio, key, EVP_aes_256_cbc(), nullptr, 0, nullptr, const_cast<char*>(pass));
  } else {
    ok = PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  }
  REQUIRE(ok == 1);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return out;
}

// The base64 body of a PEM (what must never be echoed).
std::vector<std::string> pem_body_lines(const std::string& pem) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < pem.size()) {
    const std::size_t eol = pem.find('\n', at);
    std::string line = pem.substr(at, eol - at);
    if (!line.empty() && line.rfind("-----", 0) != 0) out.push_back(line.substr(0, 16));
    if (eol == std::string::npos) break;
    at = eol + 1;
  }
  return out;
}

std::string key_error_of(const std::string& pem, std::string name = "log.example/audit") {
  try {
    (void)signer::from_pem(pem, std::move(name));
  } catch (const key_error& e) {
    return e.what();
  }
  return "(no key_error)";
}

std::string open_why(std::string_view note, const verifier& v) {
  std::string why;
  const auto text = open(note, v, &why);
  if (text) return "(opened)";
  return why;
}

}  // namespace

TEST_CASE("Note base64 is RFC 4648 standard, padded, and strict when read back", "[note]") {
  const std::vector<std::pair<std::string, std::string>> rfc = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, coded] : rfc) {
    CHECK(base64(std::span(reinterpret_cast<const unsigned char*>(plain.data()), plain.size())) == coded);
    CHECK(unbase64(coded) == plain);
  }
  std::vector<unsigned char> all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<unsigned char>(255 - i));
  for (std::size_t n = 0; n <= all.size(); n += 7) {
    const std::span<const unsigned char> part(all.data(), n);
    CHECK(unbase64(base64(part)) == span_text(part));
  }
  CHECK(base64(std::span<const unsigned char>(all.data(), 3)) == "//79");
  for (const char* bad : {"Zg=", "Zg", "Zh==", "Zm9=", "Zg==Zg==", "Z===", "====", "Zm9v\n", " Zm9v",
                          "Zm9v ", "Zm-v", "Zm_v", "Zm9v=", "Zm9vYg=\n", "Zm\r\n9v"}) {
    INFO(bad);
    CHECK_FALSE(unbase64(bad));
  }
  CHECK_FALSE(unbase64(std::string("Zm9\0", 4)));
}

TEST_CASE("Note origin_problem accepts plain origins and names what is wrong with others", "[note]") {
  CHECK(origin_problem("log.example/audit").empty());
  CHECK(origin_problem("PeterNeumann").empty());
  CHECK(origin_problem("caf\u00e9.example").empty());
  CHECK(origin_problem("") == "is empty");
  CHECK(origin_problem("a b") == "contains a space");
  CHECK(origin_problem("a\tb") == "contains white space");
  CHECK(origin_problem("a\nb") == "contains white space");
  CHECK(origin_problem("a\u00a0b") == "contains white space");
  CHECK(origin_problem("a\u3000b") == "contains white space");
  CHECK(origin_problem("a+b") == "contains '+'");
  CHECK(origin_problem("a\x01" "b") == "contains a control character");
  CHECK(origin_problem("a\x7f") == "contains a control character");
  CHECK(origin_problem("a\u0085") == "contains white space");
  CHECK(origin_problem("a\u0090") == "contains a control character");
  CHECK(origin_problem("a\xff") == "is not valid UTF-8");
  CHECK(origin_problem("a\xc0\xaf") == "is not valid UTF-8");
}

TEST_CASE("Note signer from Go's PeterNeumann seed reproduces Go's verifier key and signed note", "[note]") {
  const signer s = signer::from_seed(go_seed(), "PeterNeumann");
  CHECK(s.name() == "PeterNeumann");
  CHECK(s.key_id() == 0xc74f20a3U);
  CHECK(s.verifier_key() == peter_vkey);
  CHECK(s.sign(go_text) == go_text + "\n" + peter_sig);

  const verifier v = parse_ok(peter_vkey);
  CHECK(v.name() == "PeterNeumann");
  CHECK(v.key_id() == 0xc74f20a3U);
  CHECK(v.public_key() == s.public_key());
  CHECK(v.verifier_key() == peter_vkey);
}

TEST_CASE("Note open accepts Go's note with two signers for either signer's key", "[note]") {
  const std::string note = go_text + "\n" + peter_sig + enoch_sig;
  std::string why;
  CHECK(open(note, parse_ok(peter_vkey), &why) == go_text);
  CHECK(open(note, parse_ok(enoch_vkey), &why) == go_text);
  // And a key that signed neither: named in the reason.
  const signer other = signer::from_seed(seed_of(7), "PeterNeumann");
  const verifier ov = parse_ok(other.verifier_key());
  CHECK(open_why(note, ov) == "no signature by PeterNeumann+" + other.verifier_key().substr(13, 8));
}

TEST_CASE("Note verifier parse refuses every mangling of Go's key", "[note]") {
  std::string why;
  // TestNewVerifier: every proper substring and every single-byte change fails.
  for (std::size_t i = 0; i <= peter_vkey.size(); ++i) {
    for (std::size_t j = i + 1; j <= peter_vkey.size(); ++j) {
      if (i == 0 && j == peter_vkey.size()) continue;
      INFO(peter_vkey.substr(i, j - i));
      CHECK_FALSE(verifier::parse(peter_vkey.substr(i, j - i), &why));
    }
  }
  for (std::size_t i = 0; i < peter_vkey.size(); ++i) {
    std::string b = peter_vkey;
    ++b[i];
    INFO(b);
    CHECK_FALSE(verifier::parse(b, &why));
  }
  // Go's wrong-length case; its last digits carry unused bits, which the
  // strict decoder refuses before the length is looked at.
  CHECK_FALSE(verifier::parse("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==", &why));
  std::array<unsigned char, 34> long_key{};
  long_key[0] = 0x01;
  CHECK_FALSE(verifier::parse("PeterNeumann+00000000+" + base64(long_key), &why));
  CHECK(why == "the Ed25519 key is not 32 bytes");
  CHECK_FALSE(verifier::parse("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", &why));
  CHECK(why == "the key is not an Ed25519 key (algorithm byte 0x01)");
  CHECK_FALSE(verifier::parse("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", &why));
  CHECK(why == "the key ID does not match the name and key");
  CHECK_FALSE(verifier::parse("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", &why));
  CHECK(why.find("contains a space") != std::string::npos);
  CHECK_FALSE(verifier::parse("", nullptr));
  CHECK_FALSE(verifier::parse(peter_vkey + "\n", nullptr));
  // Go reads the key ID as hex of either case; we print it lowercase.
  auto upper = verifier::parse("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", &why);
  REQUIRE(upper);
  CHECK(upper->verifier_key() == peter_vkey);
}

TEST_CASE("Note signer and verifier agree for a fresh key and refuse a changed text or signature", "[note]") {
  const signer s = signer::from_seed(seed_of(42), "log.example/audit");
  const verifier v = parse_ok(s.verifier_key());
  CHECK(v.public_key() == s.public_key());
  const std::string text = "hello\n";
  const std::string note = s.sign(text);
  const auto line = note.substr(note.rfind('\n', note.size() - 2) + 1);
  const auto blob = unbase64(line.substr(line.rfind(' ') + 1, line.size() - line.rfind(' ') - 2));
  REQUIRE(blob);
  REQUIRE(blob->size() == 68);
  const std::span<const unsigned char> sig(reinterpret_cast<const unsigned char*>(blob->data()) + 4, 64);
  CHECK(v.verify(text, sig));
  CHECK_FALSE(v.verify("hellO\n", sig));
  std::vector<unsigned char> bad(sig.begin(), sig.end());
  bad[10] ^= 1;
  CHECK_FALSE(v.verify(text, bad));
  CHECK_FALSE(v.verify(text, sig.subspan(0, 63)));
  CHECK_FALSE(v.verify(text, {}));
}

TEST_CASE("Note signer refuses texts that no verifier could open", "[note]") {
  const signer s = signer::from_seed(seed_of(1), "log.example/audit");
  CHECK_THROWS_AS(s.sign(""), key_error);
  CHECK_THROWS_AS(s.sign("no newline"), key_error);
  CHECK_THROWS_AS(s.sign("crlf\r\n"), key_error);
  CHECK_THROWS_AS(s.sign("bell\a\n"), key_error);
  CHECK_THROWS_AS(s.sign("bad \xff utf-8\n"), key_error);
  CHECK_THROWS_AS(signer::from_seed(seed_of(1), "has space"), key_error);
  CHECK_THROWS_AS(signer::from_seed(seed_of(1), "a+b"), key_error);
  CHECK_THROWS_AS(signer::from_seed(seed_of(1), ""), key_error);
  // A moved-from signer refuses rather than crashing.
  signer a = signer::from_seed(seed_of(1), "log.example/audit");
  signer b = std::move(a);
  CHECK(b.sign("x\n").size() > 2);
  CHECK_THROWS_AS(a.sign("x\n"), key_error);  // NOLINT(bugprone-use-after-move)
  a = std::move(b);
  CHECK(a.sign("x\n") == signer::from_seed(seed_of(1), "log.example/audit").sign("x\n"));
}

TEST_CASE("Note signer reads an Ed25519 PKCS8 PEM and refuses other keys without echoing them", "[note]") {
  pkey_ptr ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  REQUIRE(ed);
  const std::string pem = to_pem(ed.get(), false);
  REQUIRE(pem.rfind("-----BEGIN PRIVATE KEY-----", 0) == 0);
  const signer s = signer::from_pem(pem, "log.example/audit");
  std::array<unsigned char, 32> pub{};
  std::size_t len = pub.size();
  REQUIRE(EVP_PKEY_get_raw_public_key(ed.get(), pub.data(), &len) == 1);
  CHECK(s.public_key() == pub);
  std::string why;
  CHECK(open(s.sign("checkpoint\n"), parse_ok(s.verifier_key()), &why) == "checkpoint\n");
  // Surrounding text (comments, a trailing newline) is fine: the first PEM block counts.
  CHECK(signer::from_pem("# audit key\n" + pem + "\n", "log.example/audit").public_key() == pub);

  // Every refusal names the problem and never any part of the key.
  auto no_key_text = [](const std::string& message, const std::string& bad_pem) {
    INFO(message);
    for (const auto& piece : pem_body_lines(bad_pem)) CHECK(message.find(piece) == std::string::npos);
  };
  pkey_ptr rsa(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(1024)));
  REQUIRE(rsa);
  const std::string rsa_pem = to_pem(rsa.get(), false);
  CHECK(key_error_of(rsa_pem) == "not an Ed25519 key");
  no_key_text(key_error_of(rsa_pem), rsa_pem);

  // X25519 keys have 32-byte raw keys too, but cannot sign.
  pkey_ptr x(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
  REQUIRE(x);
  CHECK(key_error_of(to_pem(x.get(), false)) == "not an Ed25519 key");

  const std::string pub_pem = to_pem(ed.get(), true);
  CHECK(key_error_of(pub_pem) == "not a PEM private key");
  no_key_text(key_error_of(pub_pem), pub_pem);

  // Encrypted: refused at once, never a passphrase prompt.
  const std::string enc_pem = to_pem(ed.get(), false, "secret");
  REQUIRE(enc_pem.find("ENCRYPTED") != std::string::npos);
  CHECK(key_error_of(enc_pem) == "not a PEM private key");

  CHECK(key_error_of("garbage") == "not a PEM private key");
  CHECK(key_error_of("") == "not a PEM private key");
  std::string cut = pem.substr(0, pem.size() / 2);
  CHECK(key_error_of(cut) == "not a PEM private key");
  no_key_text(key_error_of(cut), pem);
  std::string damaged = pem;
  damaged[40] = damaged[40] == 'A' ? 'B' : 'A';
  const std::string damaged_error = key_error_of(damaged);
  CHECK((damaged_error == "not a PEM private key" || damaged_error == "not an Ed25519 key"));
  no_key_text(damaged_error, damaged);

  const std::string name_error = key_error_of(pem, "my log");
  CHECK(name_error == "the key name 'my log': contains a space");
  no_key_text(name_error, pem);
}

TEST_CASE("Note open refuses a note that is wrong in any way and says why", "[note]") {
  const signer s = signer::from_seed(seed_of(3), "log.example/audit");
  const verifier v = parse_ok(s.verifier_key());
  const std::string text = "log.example/audit\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
  const std::string note = s.sign(text);
  std::string why;
  REQUIRE(open(note, v, &why) == text);
  const std::string sig_line = note.substr(text.size() + 1);
  const std::string id = s.verifier_key().substr(std::string("log.example/audit+").size(), 8);

  SECTION("another key with the same name") {
    const signer other = signer::from_seed(seed_of(4), "log.example/audit");
    CHECK(open_why(note, parse_ok(other.verifier_key())).rfind("no signature by log.example/audit+", 0) == 0);
  }
  SECTION("the right key under another name") {
    const signer renamed = signer::from_seed(seed_of(3), "log.example/other");
    CHECK(open_why(note, parse_ok(renamed.verifier_key())).rfind("no signature by log.example/other+", 0) == 0);
  }
  SECTION("another key ID in the signature") {
    auto blob = *unbase64(sig_line.substr(sig_line.rfind(' ') + 1, sig_line.size() - sig_line.rfind(' ') - 2));
    blob[0] = static_cast<char>(blob[0] ^ 0x01);
    const std::string forged =
        text + "\n\u2014 log.example/audit " +
        base64(std::span(reinterpret_cast<const unsigned char*>(blob.data()), blob.size())) + "\n";
    CHECK(open_why(forged, v) == "no signature by log.example/audit+" + id);
  }
  SECTION("tampered text") {
    std::string t = note;
    t[text.size() - 3] = 'B';
    CHECK(open_why(t, v) == "the signature by log.example/audit does not verify");
    t = note;
    t[18] = '6';  // the size line
    CHECK(open_why(t, v) == "the signature by log.example/audit does not verify");
  }
  SECTION("tampered signature") {
    std::string t = note;
    const std::size_t at = note.size() - 10;
    t[at] = t[at] == 'A' ? 'B' : 'A';
    CHECK(open_why(t, v) == "the signature by log.example/audit does not verify");
  }
  SECTION("a signature cut short") {
    const std::string shorter = text + "\n\u2014 log.example/audit " + sig_line.substr(sig_line.rfind(' ') + 1, 8) + "\n";
    CHECK(open_why(shorter, v) == "the signature by log.example/audit does not verify");
  }
  SECTION("missing blank line") {
    CHECK(open_why(text + sig_line, v) == "malformed note: no blank line before the signatures");
  }
  SECTION("no final newline") {
    CHECK(open_why(note.substr(0, note.size() - 1), v) ==
          "malformed note: the last signature line does not end in a newline");
  }
  SECTION("no signature lines") {
    CHECK(open_why(text + "\n", v) == "malformed note: no signature lines");
  }
  SECTION("CRLF line ends") {
    std::string crlf;
    for (char c : note) {
      if (c == '\n') crlf += '\r';
      crlf += c;
    }
    CHECK(open_why(crlf, v) == "malformed note: contains a carriage return (CRLF line ends?)");
  }
  SECTION("control characters and bad UTF-8") {
    CHECK(open_why("a\tb\n" + note, v) == "malformed note: contains a control character");
    CHECK(open_why("\xff\n" + note, v) == "malformed note: not valid UTF-8");
  }
  SECTION("a line in the signature block that is not a signature") {
    CHECK(open_why(note + "hello\n", v) == "malformed note: a signature line does not start with an em dash");
    CHECK(open_why(note + "\u2014 x\n", v).rfind("malformed note: a signature line is not", 0) == 0);
    CHECK(open_why(note + "\u2014 x AAAA\n", v).rfind("malformed note: a signature line is not", 0) == 0);
    CHECK(open_why(note + "\u2014 x !!!!!!!!\n", v).rfind("malformed note: a signature line is not", 0) == 0);
  }
  SECTION("extra signatures by others, before and after, are ignored") {
    const signer w1 = signer::from_seed(seed_of(5), "witness.example/w1");
    const std::string w1_line = w1.sign(text).substr(text.size() + 1);
    const std::string many = text + "\n" + enoch_sig + w1_line + sig_line + peter_sig;
    CHECK(open(many, v, &why) == text);
    CHECK(open(many, parse_ok(w1.verifier_key()), &why) == text);
    // Every line by our key must verify (C2SP): a later bad copy spoils the note.
    CHECK(open(note + sig_line, v, &why) == text);
    CHECK(open_why(note + sig_line.substr(0, sig_line.size() - 6) + "AAAA=\n", v) ==
          "the signature by log.example/audit does not verify");
  }
  SECTION("more than 100 signature lines") {
    std::string padded = text + "\n";
    for (int i = 0; i < 100; ++i) padded += enoch_sig;
    CHECK(open_why(padded + sig_line, v) == "malformed note: more than 100 signatures");
    padded = text + "\n";
    for (int i = 0; i < 99; ++i) padded += enoch_sig;
    CHECK(open(padded + sig_line, v, &why) == text);
  }
  SECTION("a note with many lines, blank ones included") {
    std::string long_text;
    for (int i = 0; i < 5000; ++i) long_text += (i % 100 == 99) ? "\n" : "line " + std::to_string(i) + "\n";
    CHECK(open(s.sign(long_text), v, &why) == long_text);
    // Ending in a blank line is still one text (the split is the last blank line).
    CHECK(open(s.sign("a\n\n"), v, &why) == "a\n\n");
  }
  SECTION("why may be null") {
    CHECK_FALSE(open("nonsense", v, nullptr));
    CHECK(open(note, v, nullptr) == text);
  }
}

TEST_CASE("Note checkpoint text round-trips and the parser is strict", "[note]") {
  merkle::hash root{};
  for (std::size_t i = 0; i < root.size(); ++i) root[i] = static_cast<unsigned char>(i * 7);
  const std::string text = checkpoint_text("log.example/audit", 1234, root);
  CHECK(text == "log.example/audit\n1234\n" + base64(root) + "\n");
  std::string why;
  auto cp = parse_checkpoint(text, &why);
  REQUIRE(cp);
  CHECK(cp->origin == "log.example/audit");
  CHECK(cp->size == 1234);
  CHECK(cp->root == root);
  CHECK(cp->extensions.empty());

  const std::string r64 = base64(root);
  auto parsed_size = [&](const std::string& size) -> std::optional<std::uint64_t> {
    auto c = parse_checkpoint("o\n" + size + "\n" + r64 + "\n", &why);
    return c ? std::optional(c->size) : std::nullopt;
  };
  CHECK(parsed_size("0") == 0U);
  CHECK(parsed_size("18446744073709551615") == UINT64_MAX);
  CHECK_FALSE(parsed_size("18446744073709551616"));
  CHECK(why == "malformed checkpoint: the tree size does not fit 64 bits");
  CHECK_FALSE(parsed_size("99999999999999999999999999999"));
  CHECK_FALSE(parsed_size("01"));
  CHECK(why == "malformed checkpoint: the tree size has a leading zero");
  CHECK_FALSE(parsed_size("00"));
  CHECK_FALSE(parsed_size("-1"));
  CHECK(why == "malformed checkpoint: the tree size is not a decimal number");
  CHECK_FALSE(parsed_size("+1"));
  CHECK_FALSE(parsed_size(" 1"));
  CHECK_FALSE(parsed_size("1 "));
  CHECK_FALSE(parsed_size(""));
  CHECK_FALSE(parsed_size("0x10"));
  CHECK_FALSE(parsed_size("1e3"));

  auto ext = parse_checkpoint(text + "ext one\n\u2014 not a signature\n", &why);
  REQUIRE(ext);
  CHECK(ext->extensions == std::vector<std::string>{"ext one", "\u2014 not a signature"});
  CHECK_FALSE(parse_checkpoint(text + "\n", &why));
  CHECK(why == "malformed checkpoint: an extension line is empty");
  CHECK_FALSE(parse_checkpoint(text + "ext\n\nmore\n", &why));

  CHECK_FALSE(parse_checkpoint("o\n1\n" + r64.substr(0, r64.size() - 4) + "\n", &why));
  CHECK(why == "malformed checkpoint: the root hash is not 32 bytes");
  CHECK_FALSE(parse_checkpoint("o\n1\n" + base64(std::span(root.data(), 31)) + "\n", &why));
  CHECK(why == "malformed checkpoint: the root hash is not 32 bytes");
  std::array<unsigned char, 33> longer{};
  CHECK_FALSE(parse_checkpoint("o\n1\n" + base64(longer) + "\n", &why));
  CHECK_FALSE(parse_checkpoint("o\n1\n" + r64.substr(0, r64.size() - 1) + "\n", &why));
  CHECK(why == "malformed checkpoint: the root hash is not base64");
  CHECK_FALSE(parse_checkpoint("o\n1\n*" + r64.substr(1) + "\n", &why));
  CHECK_FALSE(parse_checkpoint("o\n1\n" + merkle::to_hex(root) + "\n", &why));

  CHECK_FALSE(parse_checkpoint(text.substr(0, text.size() - 1), &why));
  CHECK(why == "malformed checkpoint: the last line does not end in a newline");
  CHECK_FALSE(parse_checkpoint("", &why));
  CHECK_FALSE(parse_checkpoint("o\n1\n", &why));
  CHECK(why == "malformed checkpoint: fewer than three lines");
  CHECK_FALSE(parse_checkpoint("\n1\n" + r64 + "\n", &why));
  CHECK(why == "malformed checkpoint: the origin line is empty");
  CHECK_FALSE(parse_checkpoint("o\r\n1\r\n" + r64 + "\r\n", &why));
  CHECK_FALSE(parse_checkpoint("o\n1\n" + r64 + "\n", nullptr) == std::nullopt);
}

TEST_CASE("Note a signed checkpoint opens and parses back to what was signed", "[note]") {
  merkle::hasher h;
  merkle::compact_range r;
  for (int i = 0; i < 10; ++i) {
    const std::array<unsigned char, 32> leaf{static_cast<unsigned char>(i)};
    r.append(h.leaf(leaf), h);
  }
  const signer s = signer::from_seed(seed_of(9), "log.example/audit");
  const std::string note = s.sign(checkpoint_text(s.name(), r.size(), r.root(h)));
  std::string why;
  const auto text = open(note, parse_ok(s.verifier_key()), &why);
  REQUIRE(text);
  const auto cp = parse_checkpoint(*text, &why);
  REQUIRE(cp);
  CHECK(cp->origin == "log.example/audit");
  CHECK(cp->size == 10);
  CHECK(cp->root == r.root(h));
}
