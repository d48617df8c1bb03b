// Appending to the audit chain. Reading and verifying: audit_read.cpp.
#include <openssl/evp.h>

#include <array>
#include <charconv>
#include <stdexcept>

#include "bot/core/text.hpp"
#include "bot/core/time.hpp"
#include "storage/audit_hash.hpp"
#include "storage/audit_log.hpp"

namespace signoff::audit {

namespace detail {

chain_hasher::chain_hasher()
    : md_(EVP_MD_fetch(nullptr, "SHA256", nullptr)), ctx_(EVP_MD_CTX_new()) {
  if (!md_ || !ctx_) {
    EVP_MD_free(md_);
    EVP_MD_CTX_free(ctx_);
    throw std::runtime_error("SHA-256 unavailable");
  }
  buf_.reserve(1024);
}

chain_hasher::~chain_hasher() {
  EVP_MD_CTX_free(ctx_);
  EVP_MD_free(md_);
}

void chain_hasher::append_preimage(std::string& out, const hash_input& in) {
  static constexpr char sep = '\x1f';
  char num[24];
  auto put_int = [&](std::int64_t v) {
    auto res = std::to_chars(num, num + sizeof num, v);
    out.append(num, res.ptr);
  };
  put_int(in.seq);
  for (std::string_view f : {in.ts, in.platform, in.workspace, in.channel, in.actor, in.action,
                             in.subject}) {
    out += sep;
    out += f;
  }
  out += sep;
  if (in.revision) put_int(*in.revision);
  for (std::string_view f : {in.outcome, in.detail, in.prev_hash}) {
    out += sep;
    out += f;
  }
}

hex_digest chain_hasher::sha256(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (EVP_DigestInit_ex2(ctx_, md_, nullptr) != 1 ||
      EVP_DigestUpdate(ctx_, bytes.data(), bytes.size()) != 1 ||
      EVP_DigestFinal_ex(ctx_, md.data(), &len) != 1 || len != 32)
    throw std::runtime_error("SHA-256 failed");
  hex_digest hex;
  for (std::size_t i = 0; i < 32; ++i) {
    hex[2 * i] = digits[md[i] >> 4];
    hex[2 * i + 1] = digits[md[i] & 0xF];
  }
  return hex;
}

}  // namespace detail

std::string chain_hash(const record& r) {
  // One hasher per thread: append runs on whichever thread owns the store.
  thread_local detail::chain_hasher hasher;
  auto hex = hasher({.seq = r.seq,
                     .ts = r.ts,
                     .platform = r.platform,
                     .workspace = r.workspace,
                     .channel = r.channel,
                     .actor = r.actor,
                     .action = r.action,
                     .subject = r.subject,
                     .revision = r.revision,
                     .outcome = r.outcome,
                     .detail = r.detail,
                     .prev_hash = r.prev_hash});
  return std::string(hex.data(), hex.size());
}

record append(sql::db& d, const entry& e, time_point now, chain_tail* tail) {
  record r;
  r.platform = to_string(e.platform);  // SPEC's strings: no control bytes to strip
  r.outcome = to_string(e.outcome);
  r.workspace = without_controls(e.workspace);
  r.channel = without_controls(e.channel);
  r.actor = without_controls(e.actor);
  r.action = without_controls(e.action);
  r.subject = without_controls(e.subject);
  r.revision = e.revision;
  r.detail = e.detail;
  r.ts = format_rfc3339_ms(now);
  r.prev_hash = std::string(64, '0');
  r.seq = 1;
  if (tail && tail->known) {
    if (tail->seq > 0) {
      r.seq = tail->seq + 1;
      if (tail->ts > r.ts) r.ts = tail->ts;  // never decreases
      r.prev_hash = tail->hash;
    }
  } else {
    auto last = d.prepare("SELECT seq, ts, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
    if (last.step()) {
      r.seq = last.i64(0) + 1;
      if (auto last_ts = last.view(1); last_ts > r.ts) r.ts = last_ts;  // never decreases
      r.prev_hash = last.text(2);
    }
  }
  r.hash = chain_hash(r);
  auto ins = d.prepare(
      "INSERT INTO audit_log (seq, ts, platform, workspace, channel, actor, action, subject, "
      "revision, outcome, detail, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)");
  ins.bind(1, r.seq).bind(2, r.ts).bind(3, r.platform).bind(4, r.workspace).bind(5, r.channel);
  ins.bind(6, r.actor).bind(7, r.action).bind(8, r.subject).bind(9, r.revision);
  ins.bind(10, r.outcome).bind(11, r.detail).bind(12, r.prev_hash).bind(13, r.hash);
  ins.run();
  if (tail) {
    tail->known = true;
    tail->seq = r.seq;
    tail->ts = r.ts;
    tail->hash = r.hash;
  }
  return r;
}

}  // namespace signoff::audit
