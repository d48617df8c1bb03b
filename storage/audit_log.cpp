// Appending to the audit chain. Reading and verifying: audit_read.cpp.
#include <openssl/evp.h>

#include <array>
#include <memory>

#include "bot/core/text.hpp"
#include "bot/core/time.hpp"
#include "storage/audit_log.hpp"

namespace signoff::audit {

std::string chain_hash(const record& r) {
  static constexpr char sep = '\x1f';
  std::string buf;
  buf.reserve(256 + r.detail.size());
  buf += std::to_string(r.seq);
  for (const std::string* f : {&r.ts, &r.platform, &r.workspace, &r.channel, &r.actor, &r.action,
                               &r.subject}) {
    buf += sep;
    buf += *f;
  }
  buf += sep;
  if (r.revision) buf += std::to_string(*r.revision);
  buf += sep;
  buf += r.outcome;
  buf += sep;
  buf += r.detail;
  buf += sep;
  buf += r.prev_hash;
  return sha256_hex(buf);
}

record append(sql::db& d, const entry& e, time_point now) {
  record r;
  static_cast<entry&>(r) = e;
  for (std::string* f : {&r.platform, &r.workspace, &r.channel, &r.actor, &r.action, &r.subject,
                         &r.outcome})
    *f = without_controls(*f);
  r.ts = format_rfc3339_ms(now);
  r.prev_hash = std::string(64, '0');
  r.seq = 1;
  {
    auto last = d.prepare("SELECT seq, ts, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
    if (last.step()) {
      r.seq = last.i64(0) + 1;
      if (auto last_ts = last.text(1); last_ts > r.ts) r.ts = last_ts;  // never decreases
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
  return r;
}

}  // namespace signoff::audit
